"""Tandem follow-up through the console, on SQLite and PostgreSQL, with the simulated clock:
the nudge halfway, "Haben Sie sich ausgetauscht?" at the deadline, answers, the organisers' rate,
closing the cohort, meine-daten and vergessen."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from sqlalchemy import text

from app import Bot
from bot.clock import SimulatedClock
from tests.helpers import Driver, signup

PEOPLE = ("anna", "ben", "cara", "dora")


@pytest.fixture
def driver(bot: Bot) -> Driver:
    d = Driver(bot)
    d.say("orga", 'jahrgang anlegen "Tandems" plaetze=5')
    for user in PEOPLE:
        d.say(user, signup(user))
    # START is Wed 25.11.2026 12:00 (Berlin); the round ends Fri 25.12.2026 (30 days)
    d.say("orga", "tandems starten bis=25.12.2026")
    return d


def _advance(driver: Driver, delta: timedelta) -> None:
    clock = driver.bot.clock
    assert isinstance(clock, SimulatedClock)
    clock.advance(delta)
    driver.bot.due.run_due(clock.now())
    driver.flush()


def _dms(driver: Driver, phrase: str) -> dict[str, str]:
    return {
        s.target.removeprefix("console:"): s.text
        for s in driver.messenger.transcript
        if phrase in s.text
    }


def test_nudge_halfway_question_at_the_deadline_and_the_rate(driver: Driver) -> None:
    _advance(driver, timedelta(days=14))
    assert not _dms(driver, "Haben Sie schon einen Termin")  # not yet halfway
    assert "Danke" in driver.say("anna", "tandem ja Ein Pflegestammtisch hilft.", dm=True)
    _advance(driver, timedelta(days=2))
    nudged = _dms(driver, "Haben Sie schon einen Termin")
    assert sorted(nudged) == ["ben", "cara", "dora"]  # anna had answered already
    assert "läuft bis 25.12.2026" in nudged["ben"]
    assert not _dms(driver, "Haben Sie sich mit")
    _advance(driver, timedelta(days=15))
    asked = _dms(driver, "Haben Sie sich mit")
    assert sorted(asked) == ["ben", "cara", "dora"]
    assert "[Ja] → tandem ja" in asked["ben"] and "ohne Ihren Namen" in asked["ben"]
    _advance(driver, timedelta(days=3))  # each message once
    assert len([s for s in driver.messenger.transcript if "Haben Sie sich mit" in s.text]) == 3
    driver.say("ben", "tandem nein", dm=True)
    driver.say("cara", "tandem ja Zuhören lohnt sich.", dm=True)
    driver.say("cara", "tandem namen ja", dm=True)
    status = driver.say("orga", "tandems stand")
    assert "2 von 2 Tandems haben sich ausgetauscht" in status  # anna's and cara's tandems
    assert "Antworten: 3 von 4 (ja: 2, nein: 1)" in status
    lines = [line for line in status.splitlines() if line.startswith("• ")]
    assert lines == ["• Ein Pflegestammtisch hilft.", "• Zuhören lohnt sich. — Cara Muster"]
    assert "Anna" not in status and "Ben" not in status


def test_answers_are_checked_and_replaced(driver: Driver) -> None:
    assert "tandem ja" in driver.say("anna", "tandem vielleicht", dm=True)
    too_long = driver.say("anna", "tandem ja " + "x" * 301, dm=True)
    assert "zu lang" in too_long and "nichts gespeichert" in too_long
    assert "noch nicht geantwortet" in driver.say("anna", "tandem namen ja", dm=True)
    assert "keiner Tandem-Runde" in driver.say("orga", "tandem ja")
    driver.say("anna", "tandem nein", dm=True)
    driver.say("anna", "tandem ja Doch noch geklappt.", dm=True)
    status = driver.say("orga", "tandems stand")
    assert "Antworten: 1 von 4 (ja: 1, nein: 0)" in status and "Doch noch geklappt." in status
    assert "ist dem Programmteam vorbehalten" in driver.say("anna", "tandems stand")


def test_closing_the_cohort_cancels_the_pending_follow_up(driver: Driver) -> None:
    driver.say("orga", "jahrgang abschliessen ja")
    _advance(driver, timedelta(days=31))
    assert not _dms(driver, "Haben Sie schon einen Termin")
    assert not _dms(driver, "Haben Sie sich mit")


def test_answers_are_exported_and_erased(driver: Driver, bot: Bot) -> None:
    driver.say("dora", "tandem ja Gute Idee für den Seniorenbeirat.", dm=True)
    driver.say("dora", "meine-daten")
    files = [s for s in driver.messenger.transcript if s.kind == "file"]
    exported = json.loads(files[-1].content or b"")["tandem_antworten"]
    assert exported == [
        {
            "runde": 1,
            "ausgetauscht": True,
            "erkenntnis": "Gute Idee für den Seniorenbeirat.",
            "mit_namen": False,
        }
    ]
    driver.say("dora", "vergessen ja")
    with bot.engine.connect() as conn:
        assert conn.execute(text("select count(*) from tandem_answers")).scalar() == 0
    _advance(driver, timedelta(days=31))
    assert "dora" not in _dms(driver, "Haben Sie sich mit")  # nobody asks an erased person
