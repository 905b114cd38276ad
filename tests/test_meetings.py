"""Meetings: create, list, change, delete, and the milestone reminders they schedule."""

from __future__ import annotations

import threading
from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from app import Bot
from storage.models import AuditEntry, Meeting, Reminder
from tests.helpers import Driver

CREATE = (
    'treffen anlegen titel="Auftakt" von="27.03.2027 10 Uhr" bis="28.03.2027 16 Uhr" '
    'ort="Hamburg, KörberForum" gastgeber="Musterstadt"'
)


@pytest.fixture
def driver(bot: Bot) -> Driver:
    d = Driver(bot)
    assert "angelegt" in d.say("orga", 'jahrgang anlegen "Stadtlabor 2026/27" plaetze=2')
    return d


def _reminders(bot: Bot) -> dict[str, tuple[datetime, str]]:
    with bot.uow_factory() as uow:
        rows = uow.session.scalars(select(Reminder).where(Reminder.kind.startswith("meeting_")))
        return {r.idempotency_key: (r.due_at, r.status) for r in rows}


def test_create_echoes_times_and_numbers_in_order(driver: Driver) -> None:
    answer = driver.say("orga", CREATE)
    assert "Treffen 1 „Auftakt“ ist angelegt" in answer
    assert "Samstag, 27. März 2027, 10:00 Uhr – Sonntag, 28. März 2027, 16:00 Uhr" in answer
    second = driver.say("orga", 'treffen anlegen "Sommer" von="10.6.2027 10 Uhr" bis="16 Uhr"')
    assert "Treffen 2 „Sommer“" in second and "Do. 10.6.2027, 10:00–16:00" in second
    listing = driver.say("anna", "treffen")  # outsiders are refused …
    assert "nur für Teilnehmende" in listing or "vorbehalten" in listing
    listing = driver.say("orga", "treffen")
    assert listing.index("1. Auftakt") < listing.index("2. Sommer")
    assert "Hamburg, KörberForum, Musterstadt" in listing


def test_numbers_are_never_reused_after_delete(driver: Driver, bot: Bot) -> None:
    driver.say("orga", CREATE)
    assert "wirklich löschen" in driver.say("orga", "treffen 1 löschen")
    assert "gelöscht" not in driver.say("orga", "treffen")  # still listed after the question
    assert "1. Auftakt" in driver.say("orga", "treffen")
    assert "nicht neu vergeben" in driver.say("orga", "treffen 1 loeschen ja")
    assert "Noch keine Treffen" in driver.say("orga", "treffen")
    assert "gibt es nicht" in driver.say("orga", "treffen 1 aendern titel=x")
    assert "Treffen 2 „Auftakt“" in driver.say("orga", CREATE)
    assert all(
        status == "cancelled" for key, (_, status) in _reminders(bot).items() if ":1:" in key
    )


BAD_INPUT = [
    ('treffen anlegen titel="X" von="28.03.2027 10 Uhr" bis="27.03.2027 16 Uhr"', "nicht nach"),
    ('treffen anlegen titel="X" von="28.03.2027 10 Uhr" bis="9 Uhr"', "nicht nach"),
    ('treffen anlegen titel="X" von="28.03.2026 10 Uhr" bis="29.03.2026 16 Uhr"', "Vergangenheit"),
    ('treffen anlegen titel="X" von="1.4.2027 10 Uhr" bis="20.4.2027 16 Uhr"', "höchstens 7"),
    ('treffen anlegen titel="X" von="28.03.2027 9 Uhr" bis="28.03.2027 18 Uhr"', "Treffen 1"),
    ('treffen anlegen von="1.4.2027 10 Uhr" bis="16 Uhr"', "Titel, Beginn und Ende"),
    ('treffen anlegen titel="X" von="irgendwann" bis="16 Uhr"', "irgendwann"),
    ("treffen anlegen titel=" + "x" * 201 + ' von="1.4.2027 10 Uhr" bis="16 Uhr"', "zu lang"),
    ("treffen 7 aendern titel=Neu", "Ein Treffen 7 gibt es nicht"),
    ("treffen eins", "keine Treffen-Nummer"),
    ("treffen 1 aendern", "Was soll sich ändern"),
    ("treffen 1 feiern", "verstehe ich hier nicht"),
]


def test_bad_input_gets_a_clear_message(driver: Driver) -> None:
    driver.say("orga", CREATE)
    for command, expected in BAD_INPUT:
        answer = driver.say("orga", command)
        assert expected in answer, (command, answer)
        assert "Fehler aufgetreten" not in answer
    listing = driver.say("orga", "treffen")
    assert "1. Auftakt" in listing and "X" not in listing and "2." not in listing


def test_markup_in_titles_is_stored_as_given(driver: Driver, bot: Bot) -> None:
    title = "<b>Auftakt</b> @channel *fett* <!here>"
    driver.say("orga", f'treffen anlegen titel="{title}" von="1.4.2027 10 Uhr" bis="16 Uhr"')
    with bot.uow_factory() as uow:
        assert uow.session.scalars(select(Meeting.title)).one() == title


def test_only_organisers_change_meetings(driver: Driver) -> None:
    driver.say("orga", CREATE)
    driver.say(
        "anna",
        'anmelden name="Anna" kommune=Ort funktion=Stabsstelle email=a@example.org zustimmung=ja',
    )
    assert "vorbehalten" in driver.say("anna", "treffen 1 aendern titel=Gekapert")
    assert "vorbehalten" in driver.say("anna", "treffen 1 loeschen ja")
    assert "Auftakt" in driver.say("anna", "treffen")


def test_milestones_are_scheduled_moved_and_cancelled(driver: Driver, bot: Bot) -> None:
    driver.say("orga", CREATE)
    with bot.uow_factory() as uow:
        meeting_id = uow.session.scalars(select(Meeting.id)).one()
    rows = _reminders(bot)
    berlin_9_cet = datetime(2027, 3, 13, 8, 0, tzinfo=UTC)  # 14 days before, 09:00 CET
    assert rows[f"meeting:{meeting_id}:notes14"] == (berlin_9_cet, "pending")
    assert rows[f"meeting:{meeting_id}:ask"][0] == datetime(2027, 3, 6, 8, 0, tzinfo=UTC)
    assert rows[f"meeting:{meeting_id}:recap1"][0] == datetime(2027, 3, 26, 8, 0, tzinfo=UTC)
    assert rows[f"meeting:{meeting_id}:day1"][0] == datetime(2027, 3, 27, 7, 0, tzinfo=UTC)
    moved = driver.say("orga", 'treffen 1 aendern von="10.6.2027 10 Uhr"')
    assert "Do. 10.6.2027 10:00 – Fr. 11.6.2027 16:00" in moved  # the duration is kept
    rows = _reminders(bot)
    assert rows[f"meeting:{meeting_id}:day1"][0] == datetime(2027, 6, 10, 6, 0, tzinfo=UTC)
    assert rows[f"meeting:{meeting_id}:notes14"][0] == datetime(2027, 5, 27, 7, 0, tzinfo=UTC)
    with bot.uow_factory() as uow:
        meeting = uow.session.get(Meeting, meeting_id)
        assert meeting is not None and meeting.sequence == 1
        actions = list(uow.session.scalars(select(AuditEntry.action)))
    assert "treffen anlegen" in actions and "treffen aendern" in actions
    driver.say("orga", 'treffen 1 aendern von="1.12.2026 10 Uhr"')  # in six days
    states = {key.rsplit(":", 1)[1]: status for key, (_, status) in _reminders(bot).items()}
    assert states == {
        "ask": "cancelled",
        "notes14": "cancelled",
        "recap1": "pending",
        "day1": "pending",
    }
    driver.say("orga", 'treffen 1 aendern von="10.6.2027 10 Uhr"')  # and back again
    assert {status for _, status in _reminders(bot).values()} == {"pending"}
    driver.say("orga", "treffen 1 loeschen ja")
    assert {status for _, status in _reminders(bot).values()} == {"cancelled"}


def test_change_notes_and_show_one_meeting(driver: Driver) -> None:
    driver.say("orga", CREATE)
    answer = driver.say("orga", 'treffen 1 ändern hinweise="Bitte Ausweis mitbringen" ort=""')
    assert "ist geändert" in answer
    shown = driver.say("orga", "treffen 1")
    assert "Hinweise: Bitte Ausweis mitbringen" in shown and "KörberForum" not in shown
    assert "Tag 2: Sonntag, 28. März 2027" in shown


def test_concurrent_creation_numbers_each_meeting_once(driver: Driver, bot: Bot) -> None:
    answers: list[str] = []

    def create(month: int) -> None:
        text = f'treffen anlegen titel="T{month}" von="1.{month}.2027 10 Uhr" bis="16 Uhr"'
        answers.append(Driver(bot).say("orga", text))

    threads = [threading.Thread(target=create, args=(m,)) for m in range(3, 9)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert all("ist angelegt" in a for a in answers), answers
    with bot.uow_factory() as uow:
        numbers = sorted(uow.session.scalars(select(Meeting.number)))
    assert numbers == [1, 2, 3, 4, 5, 6]
