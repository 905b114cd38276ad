"""Agenda items, the agenda view, and the posted agenda that is edited in place."""

from __future__ import annotations

from datetime import timedelta

import pytest
from slack_sdk.models.blocks import SectionBlock
from sqlalchemy import select

from app import Bot
from bot.services import agenda, meetings
from bot.views import Section
from handlers.slack.render import MAX_BLOCKS, MAX_SECTION_TEXT, to_blocks
from storage.models import Meeting
from tests.helpers import Driver

CREATE = (
    'treffen anlegen titel="Auftakt" von="27.03.2027 10 Uhr" bis="28.03.2027 16 Uhr" '
    'ort="Hamburg, KörberForum"'
)


@pytest.fixture
def driver(bot: Bot) -> Driver:
    d = Driver(bot)
    d.say("orga", 'jahrgang anlegen "Stadtlabor 2026/27" plaetze=5')
    assert "Treffen 1" in d.say("orga", CREATE)
    return d


def test_two_day_agenda_is_posted_and_updated_in_place(driver: Driver) -> None:
    say = driver.say
    assert "keine Treffen" not in say("orga", "agenda")
    first = say("orga", 'programmpunkt 1 von="10 Uhr" bis="11:30" titel="Begrüßung" art=input')
    assert "Nr. 1: Tag 1, 10:00–11:30 „Begrüßung“ (Input)" in first
    say("orga", 'programmpunkt 1 tag=2 von="9 Uhr" bis="12 Uhr" titel="Besuch" art=Vor-Ort-Besuch')
    clash = say("orga", 'programmpunkt 1 "Workshop A" von="11 Uhr" bis="12:30" art=Workshop')
    assert "Überschneidet sich mit Programmpunkt 1" in clash
    full_date = say(
        "orga", 'programmpunkt 1 von="28.03.2027 13 Uhr" bis="14 Uhr" titel="Abschluss"'
    )
    assert "Nr. 4: Tag 2, 13:00–14:00" in full_date  # after DST began: still 13:00 local
    shown = say("anna", "agenda 1")  # outsiders may not
    assert "nur für Teilnehmende" in shown or "vorbehalten" in shown
    shown = say("orga", "agenda")
    assert shown.index("Tag 1: Samstag, 27. März 2027") < shown.index("1. 10:00–11:30 Begrüßung")
    assert shown.index("2. 11:00–12:30 Workshop A") < shown.index("Tag 2: Sonntag")
    assert "⚠ überschneidet sich mit 1" in shown and "3. 09:00–12:00 Besuch" in shown
    driver.messenger.transcript.clear()
    assert "gepostet" in say("orga", "agenda posten 1")
    posts = [s for s in driver.messenger.transcript if s.kind == "post"]
    assert len(posts) == 1 and "Begrüßung" in posts[0].text and posts[0].ref is not None
    posted_id = posts[0].ref.message_id
    driver.messenger.transcript.clear()
    moved = say("orga", 'programmpunkt 1 2 verschieben von="14 Uhr"')
    assert "Tag 1, 14:00–15:30 „Workshop A“" in moved and "gepostete Agenda" in moved
    refs = [(s.kind, s.ref.message_id if s.ref else None) for s in driver.messenger.transcript]
    assert ("update", posted_id) in refs
    notes = [s for s in driver.messenger.transcript if s.kind == "thread"]
    assert notes and "Agenda geändert" in notes[0].text
    assert notes[0].ref is not None and notes[0].ref.thread_id == posted_id
    update = next(s for s in driver.messenger.transcript if s.kind == "update")
    assert "14:00–15:30 Workshop A" in update.text and "überschneidet" not in update.text
    driver.messenger.transcript.clear()
    say("orga", 'treffen 1 aendern ort="Berlin"')
    say("orga", "agenda posten 1")  # a second post edits the first instead
    kinds = [s.kind for s in driver.messenger.transcript]
    assert "post" not in kinds and kinds.count("update") == 2
    assert "Ort: Berlin" in driver.messenger.texts("update")[-1]
    driver.messenger.transcript.clear()
    say("orga", "treffen 1 loeschen ja")
    assert "Abgesagt" in driver.messenger.texts("update")[0]


def test_edit_move_and_delete_items(driver: Driver) -> None:
    say = driver.say
    say("orga", 'programmpunkt 1 von="10 Uhr" bis="11:30" titel="Input" wer="Dr. A"')
    say("orga", 'programmpunkt 1 von="13 Uhr" bis="14 Uhr" titel="Pause" art=Pause')
    moved = say("orga", "programmpunkt 1 1 verschieben tag=2")
    assert "Tag 2, 10:00–11:30 „Input“" in moved
    changed = say("orga", 'programmpunkt 1 2 aendern bis="12 Uhr" raum="Saal 2"')
    assert "Tag 2, 10:00–12:00" in changed
    changed = say("orga", 'programmpunkt 1 1 ändern titel="Mittag" art=""')
    assert "„Mittag“" in changed and "(Pause)" not in changed
    assert "gelöscht" in say("orga", "programmpunkt 1 1 loeschen")
    shown = say("orga", "agenda 1")
    assert "Mittag" not in shown and "1. 10:00–12:00 Input (Dr. A; Saal 2)" in shown


BAD = [
    ("programmpunkt", "Zu welchem Treffen"),
    ("programmpunkt 9 von=10 bis=11 titel=x", "Ein Treffen 9 gibt es nicht"),
    ('programmpunkt 1 titel="Ohne Zeit"', "Beginn und Ende"),
    ('programmpunkt 1 von="10 Uhr" bis="11 Uhr"', "Titel"),
    ('programmpunkt 1 von="11 Uhr" bis="10 Uhr" titel=x', "nicht nach"),
    ('programmpunkt 1 von="8 Uhr" bis="9 Uhr" titel=x', "außerhalb von Treffen 1"),
    ('programmpunkt 1 tag=2 von="15 Uhr" bis="17 Uhr" titel=x', "außerhalb"),
    ('programmpunkt 1 tag=3 von="10 Uhr" bis="11 Uhr" titel=x', "zwischen 1 und 2"),
    ('programmpunkt 1 von="1.6.2027 10 Uhr" bis="11 Uhr" titel=x', "außerhalb"),
    ('programmpunkt 1 von="10 Uhr" bis="11 Uhr" titel=x art=Party', "Kollegiale Beratung"),
    ("programmpunkt 1 5 loeschen", "keinen Programmpunkt 5"),
    ("programmpunkt 1 1 tanzen", "aendern|verschieben|loeschen"),
    ("agenda 4", "Ein Treffen 4 gibt es nicht"),
]


def test_bad_agenda_input_gets_a_clear_message(driver: Driver) -> None:
    driver.say("orga", 'programmpunkt 1 von="10 Uhr" bis="11 Uhr" titel=Start')
    for command, expected in BAD:
        answer = driver.say("orga", command)
        assert expected in answer, (command, answer)
    assert "vorbehalten" in driver.say("orga2", "programmpunkt 1 1 loeschen")
    assert "Start" in driver.say("orga", "agenda 1")


def test_item_limit_and_message_size(driver: Driver, bot: Bot) -> None:
    long_title = "Kollegiale Beratung zur Zukunft der Innenstadt " * 4
    with bot.uow_factory() as uow:
        meeting = uow.session.scalars(select(Meeting)).one()
        start = meeting.starts_at
        for i in range(agenda.MAX_ITEMS):
            begin = start + timedelta(minutes=5 * i)
            data = agenda.ItemData(begin, begin + timedelta(minutes=5), long_title[:200])
            agenda.add_item(uow, meeting, data, bot.settings.tz)
        uow.commit()
        message = agenda.render(uow, meeting, bot.settings.tz, "de")
    sections = [b for b in message.blocks if isinstance(b, Section)]
    assert len(sections) > 2  # day 1 was split
    assert all(len("\n".join(s.lines)) < 3000 for s in sections)
    slack = to_blocks(message)
    assert len(slack) <= MAX_BLOCKS
    texts = [b.text.text for b in slack if isinstance(b, SectionBlock) and b.text is not None]
    assert texts and all(len(t) <= MAX_SECTION_TEXT for t in texts)
    answer = driver.say(
        "orga", 'programmpunkt 1 tag=2 von="10 Uhr" bis="11 Uhr" titel="Noch einer"'
    )
    assert "schon 60 Programmpunkte" in answer


def test_agenda_without_meetings(bot: Bot) -> None:
    d = Driver(bot)
    d.say("orga", 'jahrgang anlegen "Leer"')
    assert "kein Treffen an" in d.say("orga", "agenda")
    assert "kein Treffen an" in d.say("orga", "agenda posten")


def test_the_same_item_typed_twice_is_added_once(driver: Driver) -> None:
    line = 'programmpunkt 1 von="10 Uhr" bis="11:30" titel="Begrüßung" art=Input'
    assert "Programmpunkt hinzugefügt" in driver.say("orga", line)
    again = driver.say("orga", line)
    assert "Diesen Programmpunkt gibt es schon: Treffen 1, Nr. 1: Tag 1, 10:00–11:30" in again
    other = driver.say("orga", 'programmpunkt 1 von="10 Uhr" bis="11:30" titel="Begrüßung" tag=2')
    assert "Programmpunkt hinzugefügt" in other  # another day is another item
    with driver.bot.uow_factory() as uow:
        meeting = uow.session.scalars(select(Meeting)).one()
        assert [i.title for i in meetings.items_of(uow, meeting)] == ["Begrüßung", "Begrüßung"]
