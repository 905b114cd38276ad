"""Vorhaben check-ins through the console, on SQLite and PostgreSQL, with the simulated clock:
the organisers' day, the monthly DM, answers (one line or the dialog), the one nudge, sharing,
the digest before a meeting, closing the cohort, meine-daten and vergessen."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from sqlalchemy import text

from app import Bot
from bot.clock import SimulatedClock
from tests.helpers import Driver, signup

ASKED = "Drei kurze Antworten genügen"
NUDGED = "Noch einmal, falls es untergegangen ist"
DIGEST = "die Vorhaben mit ihrem letzten Check-in"
ANNA = "checkin 1. Raum gefunden 2. Personal fehlt 3. Beispiele anderer Kommunen"


@pytest.fixture
def driver(bot: Bot) -> Driver:
    """START is Wed 25.11.2026 12:00 (Berlin); the first Monday of December is the 7th."""
    d = Driver(bot)
    d.say("orga", 'jahrgang anlegen "Vorhaben" plaetze=5')
    for user in ("anna", "ben", "cara"):
        d.say(user, signup(user))
    d.say("anna", 'profil aendern vorhaben="Seniorenbüro im Rathaus" stand=Planung')
    d.say("ben", 'profil aendern vorhaben="Mobilität auf dem Land"')
    return d  # cara has no Vorhaben


def _advance(driver: Driver, delta: timedelta) -> None:
    clock = driver.bot.clock
    assert isinstance(clock, SimulatedClock)
    clock.advance(delta)
    driver.bot.due.run_due(clock.now())
    driver.flush()


def _to(driver: Driver, phrase: str) -> list[str]:
    return sorted(
        s.target.removeprefix("console:") for s in driver.messenger.transcript if phrase in s.text
    )


def test_the_day_is_set_checked_and_switched_off(driver: Driver) -> None:
    assert "sind aus" in driver.say("orga", "checkin tag")
    assert "monatlich" in driver.say("orga", "checkin tag jeden Montag 9 Uhr")
    assert "monatlich" in driver.say("orga", "checkin tag irgendwann")
    on = driver.say("orga", "checkin tag an")
    assert "jeden ersten Montag im Monat um 09:00 Uhr" in on
    assert "Montag, 7. Dezember 2026, 09:00 Uhr" in on
    moved = driver.say("orga", "checkin tag letzter freitag 14 Uhr")
    assert "jeden letzten Freitag im Monat um 14:00 Uhr" in moved
    assert "Freitag, 27. November 2026, 14:00 Uhr" in moved
    assert "jeden letzten Freitag" in driver.say("orga", "checkin tag")
    assert "sind aus" in driver.say("orga", "checkin tag aus")
    _advance(driver, timedelta(days=40))
    assert not _to(driver, ASKED)
    assert "ist dem Programmteam vorbehalten" in driver.say("anna", "checkin tag an")


def test_monthly_question_answers_and_one_nudge(driver: Driver) -> None:
    driver.say("orga", "checkin tag erster montag 9:00")
    _advance(driver, timedelta(days=11))  # Sun 6.12.
    assert not _to(driver, ASKED)
    _advance(driver, timedelta(days=1))  # Mon 7.12. 12:00
    assert _to(driver, ASKED) == ["anna", "ben"]  # cara has no Vorhaben
    question = next(s.text for s in driver.messenger.transcript if ASKED in s.text)
    assert "„Seniorenbüro im Rathaus“" in question and "[Antworten] → checkin antworten" in question
    saved = driver.say("anna", ANNA, dm=True)
    assert "gespeichert" in saved and "checkin teilen ja" in saved
    _advance(driver, timedelta(days=7))  # Mon 14.12.
    assert _to(driver, NUDGED) == ["ben"]  # anna answered
    _advance(driver, timedelta(days=7))
    assert _to(driver, NUDGED) == ["ben"]  # nudged once
    _advance(driver, timedelta(days=21))  # Mon 4.1.2027: asked again, anna too
    assert _to(driver, ASKED) == ["anna", "anna", "ben", "ben"]


def test_the_dialog_sharing_and_who_sees_what(driver: Driver) -> None:
    assert "noch kein Vorhaben" in driver.say("cara", "checkin", dm=True)
    assert "1. Was ist vorangekommen?" in driver.say("ben", "checkin", dm=True)
    driver.say("ben", "Mobilitätsstationen geplant", dm=True)
    driver.say("ben", "Förderung unklar", dm=True)
    assert "Mit dem Jahrgang teilen?" in driver.say("ben", "Kontakt zum Landkreis", dm=True)
    assert "für den Jahrgang sichtbar" in driver.say("ben", "ja", dm=True)
    driver.say("anna", ANNA, dm=True)
    seen = driver.say("cara", "checkins")
    assert "Förderung unklar" in seen and "Personal fehlt" not in seen
    assert "Seniorenbüro im Rathaus“, Stand: Planung — kein geteilter Check-in" in seen
    organisers = driver.say("orga", "checkins")
    assert "Personal fehlt" in organisers and "(nicht geteilt)" in organisers
    assert "Personal fehlt" in driver.say("anna", "checkins")  # her own
    driver.say("anna", "checkin teilen ja", dm=True)
    assert "Personal fehlt" in driver.say("cara", "checkins")
    driver.say("ben", "checkin teilen nein", dm=True)
    assert "Förderung unklar" not in driver.say("cara", "checkins")


def test_bad_answers_are_refused(driver: Driver, bot: Bot) -> None:
    assert "2 von 3 Antworten" in driver.say("anna", "checkin 1. Raum 2. Personal", dm=True)
    assert "So geht es" in driver.say("anna", "checkin läuft gut", dm=True)
    assert "teilen ja" in driver.say("anna", "checkin teilen vielleicht", dm=True)
    assert "noch keinen Check-in" in driver.say("anna", "checkin teilen ja", dm=True)
    assert "höchstens 500" in driver.say("anna", f"checkin 1. {'x' * 501} 2. b 3. c", dm=True)
    with bot.engine.connect() as conn:
        assert conn.execute(text("select count(*) from checkin_answers")).scalar() == 0


def test_digest_before_each_meeting_once(driver: Driver) -> None:
    driver.say("orga", "checkin tag an")
    meeting = 'titel="Winter" von="14.12.2026 10:00" bis="15.12.2026 16:00" ort="Rathaus"'
    driver.say("orga", f"treffen anlegen {meeting}")
    _advance(driver, timedelta(days=11))  # Sun 6.12. 12:00: the meeting is 8 days away
    assert not _to(driver, DIGEST)
    driver.say("anna", ANNA, dm=True)
    _advance(driver, timedelta(days=1))  # Mon 7.12.: the daily look finds it within a week
    assert _to(driver, DIGEST) == ["orga"]
    digest = next(s.text for s in driver.messenger.transcript if DIGEST in s.text)
    assert "Vor Treffen 1 „Winter“ am Montag, 14. Dezember 2026, 10:00 Uhr" in digest
    assert "Personal fehlt" in digest  # organisers read every answer
    assert "Ben Muster (Benstadt): „Mobilität auf dem Land“, Stand: – — noch kein" in digest
    _advance(driver, timedelta(days=3))
    assert _to(driver, DIGEST) == ["orga"]  # once per meeting


def test_closing_the_cohort_stops_the_check_ins(driver: Driver) -> None:
    driver.say("orga", "checkin tag an")
    driver.say("orga", "jahrgang abschliessen ja")
    _advance(driver, timedelta(days=40))
    assert not _to(driver, ASKED)


def test_check_ins_are_exported_and_erased(driver: Driver, bot: Bot) -> None:
    driver.say("anna", ANNA, dm=True)
    driver.say("anna", "meine-daten")
    files = [s for s in driver.messenger.transcript if s.kind == "file"]
    (exported,) = json.loads(files[-1].content or b"")["checkins"]
    assert exported["monat"] == "2026-11" and exported["hindernis"] == "Personal fehlt"
    assert exported["geteilt"] is False
    driver.say("anna", "vergessen ja")
    with bot.engine.connect() as conn:
        assert conn.execute(text("select count(*) from checkin_answers")).scalar() == 0
