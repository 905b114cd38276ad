"""Removing a participant tells them, and tells the organiser who moved up."""

from __future__ import annotations

from app import Bot
from tests.helpers import Driver, signup


def _dms_to(driver: Driver, user: str) -> list[str]:
    return [
        s.text
        for s in driver.messenger.transcript
        if s.kind == "dm" and s.target == f"console:{user}"
    ]


def test_removed_person_is_told_and_organiser_hears_who_moved_up(bot: Bot) -> None:
    driver = Driver(bot)
    driver.say("orga", 'jahrgang anlegen "Stadtlabor 2026/27" plaetze=1')
    assert "Sie sind angemeldet" in driver.say("anna", signup("anna"))
    assert "Warteliste" in driver.say("ben", signup("ben"))
    driver.messenger.transcript.clear()
    answer = driver.say("orga", "teilnehmende entfernen console:anna ja")
    assert "Anna Muster wurde entfernt und per Direktnachricht informiert" in answer
    assert "Von der Warteliste nachgerückt: Ben Muster (Benstadt)" in answer
    told = _dms_to(driver, "anna")
    assert told and "Anmeldung für „Stadtlabor 2026/27“ beendet" in told[-1]
    assert any("Platz frei geworden" in text for text in _dms_to(driver, "ben"))


def test_removal_with_an_empty_waitlist_says_so(bot: Bot) -> None:
    driver = Driver(bot)
    driver.say("orga", 'jahrgang anlegen "Stadtlabor 2026/27" plaetze=3')
    driver.say("anna", signup("anna"))
    answer = driver.say("orga", "teilnehmende entfernen console:anna ja")
    assert "Niemand ist nachgerückt" in answer
