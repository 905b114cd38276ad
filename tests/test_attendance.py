"""Attendance answers, the organisers' overview and CSV, and the scheduled meeting messages."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime

import pytest

from app import Bot
from bot.clock import SimulatedClock
from bot.services import attendance
from tests.helpers import Driver

CREATE = (
    'treffen anlegen titel="Auftakt" von="27.03.2027 10 Uhr" bis="28.03.2027 16 Uhr" '
    'ort="Hamburg, KörberForum" hinweise="Bitte Ausweis mitbringen"'
)


def _signup(user: str, name: str) -> str:
    return (
        f'anmelden name="{name}" kommune="{user.title()}stadt" funktion=Stabsstelle '
        f"email={user}@example.org zustimmung=ja"
    )


@pytest.fixture
def driver(bot: Bot) -> Driver:
    d = Driver(bot)
    d.say("orga", 'jahrgang anlegen "Stadtlabor 2026/27" plaetze=3')
    d.say("dora", "hilfe")  # Anna's office contact, known to the bot
    d.say("anna", _signup("anna", "Anna Muster") + " bueroleitung=@dora")
    d.say("ben", _signup("ben", "=HYPERLINK(1)"))
    d.say("cara", _signup("cara", "Cara Muster"))
    d.say("wanda", _signup("wanda", "Wanda Warte"))  # waitlisted
    d.say("orga", CREATE)
    d.say("orga", 'programmpunkt 1 von="10 Uhr" bis="12 Uhr" titel="Begrüßung"')
    return d


def test_answers_overview_close_and_csv(driver: Driver) -> None:
    say = driver.say
    answer = say("anna", "teilnahme 1 tag1 essen=vegetarisch barrierefreiheit=Rollstuhl")
    assert (
        "Sie kommen (Tag 1)" in answer
        and "Essen: vegetarisch; Barrierefreiheit: Rollstuhl" in answer
    )
    assert "Sie kommen (Tag 1, 2)" in say("anna", "teilnahme 1 ja uebernachtung=ja")
    assert "mit Übernachtung" in say("anna", "teilnahme 1")
    assert "Sie sagen ab" in say("ben", "teilnahme nein")  # the next meeting
    assert "Sie kommen (Tag 2)" in say("ben", "teilnahme 1 tag2 essen=@SUM(A1)")
    assert "noch nicht geantwortet" in say("cara", "teilnahme")
    assert "erst mit bestätigtem Platz" in say("wanda", "teilnahme 1 ja")
    assert "vorbehalten" in say("anna", "teilnahme 1 uebersicht")
    overview = say("orga", "teilnahme 1 uebersicht")
    assert "Tag 1: 1 kommen" in overview and "Tag 2: 2 kommen" in overview
    assert "Noch keine Antwort: Cara Muster" in overview and "Übernachtung: Anna Muster" in overview
    assert "Anna Muster: vegetarisch; Rollstuhl" in overview
    assert not [s for s in driver.messenger.transcript if s.kind == "post"]  # privately
    say("orga", "export teilnahme 1")
    files = [s for s in driver.messenger.transcript if s.kind == "file"]
    assert files[-1].target == "console:orga" and files[-1].content is not None
    rows = list(csv.reader(io.StringIO(files[-1].content.decode("utf-8"))))
    assert rows[0][:3] == ["name", "kommune", "antwort"]
    assert rows[1][:4] == ["Anna Muster", "Annastadt", "ja", "tag1 tag2"]
    assert rows[2][0] == "'=HYPERLINK(1)" and rows[2][4] == "'@SUM(A1)"
    assert rows[3][2] == "offen"
    assert "geschlossen" in say("orga", "teilnahme 1 schliessen")
    assert "geschlossen" in say("cara", "teilnahme 1 ja")
    assert "wieder offen" in say("orga", "teilnahme 1 oeffnen")
    assert "Sie kommen" in say("cara", "teilnahme 1 ja")


BAD = [
    ("teilnahme 1 tag3", "tag1 … tag2"),
    ("teilnahme 1 vielleicht", "ja|nein|tag1|tag2"),
    ("teilnahme 1 essen=vegan", "Kommen Sie?"),
    ("teilnahme 1 ja uebernachtung=vielleicht", "uebernachtung="),
    ("teilnahme 4 ja", "Ein Treffen 4 gibt es nicht"),
    ("teilnahme 1 ja essen=" + "x" * 501, "höchstens 500"),
    ("export teilnahme", "Welches Treffen"),
]


def test_bad_answers(driver: Driver) -> None:
    for command, expected in BAD:
        assert expected in driver.say("anna" if "export" not in command else "orga", command)
    assert "noch nicht geantwortet" in driver.say("anna", "teilnahme 1")


def test_reminders_on_their_days(driver: Driver, bot: Bot, clock: SimulatedClock) -> None:
    driver.say("anna", "teilnahme 1 ja")
    driver.say("ben", "teilnahme 1 nein")
    driver.messenger.transcript.clear()

    def run(moment: datetime) -> list[tuple[str, str, str]]:
        clock.set(moment)
        bot.due.run_due(moment)
        driver.flush()
        got = [(s.kind, s.target, s.text) for s in driver.messenger.transcript]
        driver.messenger.transcript.clear()
        return got

    assert run(datetime(2027, 3, 6, 7, 59, tzinfo=UTC)) == []
    asked = run(datetime(2027, 3, 6, 8, 0, tzinfo=UTC))  # 21 days before, 09:00 Berlin
    assert [(k, t) for k, t, _ in asked] == [("dm", "console:cara")]
    assert "teilnahme 1 ja" in asked[0][2]
    assert run(datetime(2027, 3, 7, 8, 0, tzinfo=UTC)) == []  # only once
    notes = run(datetime(2027, 3, 13, 8, 0, tzinfo=UTC))
    assert sorted(t for _, t, _ in notes) == ["console:anna", "console:cara", "console:dora"]
    assert all("Bitte Ausweis mitbringen" in text for _, _, text in notes)
    assert any(t == "console:dora" and "Kopie für Anna Muster" in x for _, t, x in notes)
    recap = run(datetime(2027, 3, 26, 8, 0, tzinfo=UTC))
    assert {t for _, t, _ in recap} == {"console:anna", "console:cara", "console:dora"}
    assert all("Morgen beginnt" in text and "Begrüßung" in text for _, _, text in recap)
    day1 = run(datetime(2027, 3, 27, 7, 0, tzinfo=UTC))
    assert [(k, t) for k, t, _ in day1] == [("post", "stadtlabor")]
    assert "Heute beginnt Treffen 1" in day1[0][2]


def test_reminders_can_be_switched_off(driver: Driver, bot: Bot, clock: SimulatedClock) -> None:
    assert "sind an" in driver.say("orga", "treffen erinnerungen")
    assert "vorbehalten" in driver.say("anna", "treffen erinnerungen aus")
    assert "sind aus" in driver.say("orga", "treffen erinnerungen aus")
    assert "an oder" in driver.say("orga", "treffen erinnerungen vielleicht")
    driver.messenger.transcript.clear()
    moment = datetime(2027, 3, 13, 8, 0, tzinfo=UTC)
    clock.set(moment)
    bot.due.run_due(moment)
    driver.flush()
    assert driver.messenger.transcript == []
    assert "sind an" in driver.say("orga", "treffen erinnerungen an")


def test_export_and_erase_person(driver: Driver, bot: Bot) -> None:
    driver.say("anna", "teilnahme 1 tag2 essen=vegan")
    with bot.uow_factory() as uow:
        anna = uow.persons.get_by_identity("console", "anna")
        assert anna is not None
        exported = attendance.export_person(uow, anna.id)
        assert exported["teilnahme"][0]["tage"] == [2]
        assert exported["teilnahme"][0]["essen"] == "vegan"
        attendance.erase_person(uow, anna.id, "Person-1")
        uow.commit()
        assert attendance.export_person(uow, anna.id) == {"teilnahme": []}


def test_several_days_in_one_answer_are_all_recorded(driver: Driver) -> None:
    """`teilnahme 1 tag1 tag2` used to record day 1 only."""
    assert "Sie kommen (Tag 1, 2)" in driver.say("anna", "teilnahme 1 tag1 tag2")
    assert "Sie kommen (Tag 1, 2)" in driver.say("ben", "teilnahme 1 tag2,tag1")
    refused = driver.say("cara", "teilnahme 1 tag1 morgen")
    assert "„morgen“ verstehe ich nicht" in refused
    assert "noch nicht geantwortet" in driver.say("cara", "teilnahme 1")  # nothing stored


def test_needs_given_before_the_answer_are_kept(driver: Driver) -> None:
    """`teilnahme 1 essen=vegan` before yes/no used to be dropped."""
    noted = driver.say("cara", "teilnahme 1 essen=vegan")
    assert "Notiert für Treffen 1: Essen: vegan" in noted and "Kommen Sie?" in noted
    overview = driver.say("orga", "teilnahme 1 uebersicht")
    waiting = next(line for line in overview.splitlines() if "Noch keine Antwort" in line)
    assert "Cara Muster" in waiting and "Absagen: niemand" in overview  # needs: no answer
    assert "Sie kommen (Tag 2). Essen: vegan" in driver.say("cara", "teilnahme 1 tag2")
