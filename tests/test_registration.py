"""Cohorts, registration, waitlist and moderation through the console-facing services."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest

from app import Bot
from bot.clock import SimulatedClock
from tests.helpers import Driver, signup

COHORT = '"Stadtlabor 2026/27"'


@pytest.fixture
def driver(bot: Bot) -> Driver:
    d = Driver(bot)
    assert "angelegt" in d.say("orga", f"jahrgang anlegen {COHORT} plaetze=3")
    return d


def test_seats_then_waitlist_then_promotion(driver: Driver) -> None:
    for i, name in enumerate(["anna", "ben", "cara"], 1):
        assert f"Platz {i} von 3" in driver.say(name, signup(name))
    assert "Warteliste (Position 1)" in driver.say("dora", signup("dora"))
    assert "Warteliste (Position 2)" in driver.say("emil", signup("emil"))
    assert "bereits angemeldet (Platz 2)" in driver.say("ben", signup("ben"))
    assert "bereits auf der Warteliste (Position 2)" in driver.say("emil", "anmelden")
    driver.messenger.transcript.clear()
    assert "abgemeldet" in driver.say("ben", "abmelden")
    dms = [(s.target, s.text) for s in driver.messenger.transcript if s.kind == "dm"]
    assert dms == [("console:dora", dms[0][1])]
    assert "Platz frei geworden" in dms[0][1] and "(Platz 3)" in dms[0][1]
    roster = driver.say("orga", "teilnehmende")
    assert "Dora Muster" in roster and "Ben Muster" not in roster
    assert "1. Emil Muster" in roster and "emil@example.org" in roster
    assert "nicht angemeldet" in driver.say("ben", "abmelden")


def test_participants_see_a_reduced_list(driver: Driver) -> None:
    driver.say("anna", signup("anna"))
    for name in ("ben", "cara", "dora"):
        driver.say(name, signup(name))
    seen = driver.say("anna", "teilnehmende")
    assert "Ben Muster" in seen and "@example.org" not in seen and "Dora" not in seen
    assert "erst mit bestätigtem Platz" in driver.say("dora", "teilnehmende")
    assert "nur für Teilnehmende" in driver.say("zoe", "teilnehmende")


def test_moderated_cohort_needs_confirmation(bot: Bot) -> None:
    d = Driver(bot)
    d.say("orga", 'jahrgang anlegen "Moderiert" plaetze=1 moderiert')
    assert "zur Bestätigung vor" in d.say("anna", signup("anna"))
    assert any("Neue Anmeldung" in t and "Anna Muster" in t for t in d.messenger.texts("dm"))
    assert "vorbehalten" in d.say("anna", "bestaetigen @anna")
    assert "bestätigt (Platz 1)" in d.say("orga", "bestaetigen @anna")
    assert "zur Bestätigung vor" in d.say("ben", signup("ben"))
    assert "Alle 1 Plätze sind belegt" in d.say("orga", "bestaetigen @ben")
    d.messenger.transcript.clear()
    d.say("anna", "abmelden")
    proposals = [t for t in d.messenger.texts("dm") if "Platz frei" in t]
    assert proposals and "Ben Muster" in proposals[0] and "bestaetigen console:ben" in proposals[0]
    assert "abgelehnt" in d.say("orga", "ablehnen console:ben")
    assert any("nicht berücksichtigt" in t for t in d.messenger.texts("dm"))


def test_deadline_consent_and_bad_fields(driver: Driver, bot: Bot) -> None:
    assert "keine gültige E-Mail" in driver.say("anna", signup("anna", email="anna@"))
    assert "Einwilligung" in driver.say("anna", signup("anna", zustimmung="nein"))
    long_name = "x" * 10_000
    answer = driver.say("anna", signup("anna", name=f'"{long_name}"'))
    assert "höchstens 200" in answer and "10000" in answer
    too_long = driver.say("anna", signup("anna", funktion='"' + "Amt " * 30 + '"'))
    assert "höchstens 100" in too_long  # the function is free text, up to 100 characters
    marked = driver.say("anna", signup("anna", name='"<!channel> <b>Anna</b> @room"'))
    assert "Platz 1" in marked
    assert "<!channel> <b>Anna</b> @room" in driver.say("orga", "teilnehmende")  # stored as given
    driver.say("orga", 'jahrgang anlegen "Mit Frist" anmeldeschluss="morgen 12 Uhr"', channel="f")
    assert isinstance(bot.clock, SimulatedClock)
    bot.clock.advance(timedelta(days=2))
    refused = driver.say("ben", signup("ben"), channel="f")
    assert "Anmeldefrist ist am Donnerstag, 26. November 2026, 12:00 Uhr abgelaufen" in refused


def test_guided_dialog_in_dm_and_cancel(driver: Driver) -> None:
    first = driver.say("ben", "anmelden kommune=Beispielstadt")
    assert "Datenschutzhinweis" in first and "Ihr Name" in first
    assert "Ihre Funktion" in driver.say("ben", "Ben Beispiel", dm=True)
    assert "Ihre E-Mail" in driver.say("ben", "Beigeordneter", dm=True)
    assert "keine gültige" in driver.say("ben", "nope", dm=True)
    assert "Büroleitung" in driver.say("ben", "ben@beispielstadt.de", dm=True)
    assert "willige ein" in driver.say("ben", "-", dm=True)
    assert "Platz 1 von 3" in driver.say("ben", "ja", dm=True)
    assert "Beispielstadt – Beigeordneter" in driver.say("orga", "teilnehmende")  # as typed
    driver.say("cara", "anmelden")
    assert "Abgebrochen" in driver.say("cara", "abbrechen", dm=True)
    assert "Unbekannter Befehl" in driver.say("cara", "Cara", dm=True)  # dialog is gone


def test_dm_registration_finds_the_open_cohort(driver: Driver) -> None:
    assert "Platz 1" in driver.say("anna", signup("anna"), dm=True)
    driver.say("orga", 'jahrgang anlegen "Zweiter" plaetze=3', channel="zwei")
    assert "Für welchen Jahrgang?" in driver.say("ben", signup("ben"), dm=True)
    assert "Zweiter" in driver.say("ben", signup("ben", jahrgang='"Zweiter"'), dm=True)


def test_organiser_tools_roles_host_announce_audit(driver: Driver) -> None:
    driver.say("anna", signup("anna"))
    assert "vorbehalten" in driver.say("anna", "ankuendigen hallo sofort")
    assert "Gastgeberstadt" in driver.say("orga", "gastgeber @anna ja")
    driver.say("zoe", "hilfe")
    assert "keinen bestätigten Platz" in driver.say("orga", "gastgeber @zoe ja")
    assert "Programmteam" in driver.say("orga", "rolle @anna organisation")
    assert "1 Kanal" in driver.say("anna", 'ankuendigen "Treffen am Freitag" sofort')
    assert "Dieser Kanal gehört jetzt" in driver.say(
        "orga", f"jahrgang verbinden {COHORT}", channel="andere"
    )
    driver.messenger.transcript.clear()
    assert "an 2 Kanäle verschickt" in driver.say("orga", 'ankuendigen "Zweite Nachricht" sofort')
    posts = {s.target for s in driver.messenger.transcript if s.kind == "post"}
    assert posts == {"stadtlabor", "andere"}
    log = driver.say("orga", "protokoll")
    for action in ("jahrgang.anlegen", "gastgeber", "rolle", "ankuendigen", "jahrgang.verbinden"):
        assert action in log
    assert "gastgeber=False → gastgeber=True" in log
    assert "export" not in log
    assert "Direktchat" in driver.say("orga", "export teilnehmende")
    assert "datei=teilnehmende-" in driver.say("orga", "protokoll")  # exports are accounted for


def test_remove_needs_confirmation(driver: Driver) -> None:
    driver.say("anna", signup("anna"))
    ask = driver.say("orga", "teilnehmende entfernen @anna")
    assert "Wirklich" in ask and "teilnehmende entfernen console:anna ja" in ask
    assert "Anna Muster" in driver.say("orga", "teilnehmende")
    assert "wurde entfernt" in driver.say("orga", "teilnehmende entfernen console:anna ja")
    assert "Anna Muster" not in driver.say("orga", "teilnehmende")


def test_ambiguous_and_unknown_names(driver: Driver, bot: Bot) -> None:
    driver.say("anna", signup("anna", name='"Kim Muster"'))
    driver.say("ben", signup("ben", name='"Kim Muster"'))
    answer = driver.say("orga", 'gastgeber "Kim Muster" ja')
    assert "nicht eindeutig" in answer and "console:anna" in answer and "console:ben" in answer
    assert "niemanden namens" in driver.say("orga", "gastgeber @niemand ja")


def test_concurrent_registrations_fill_exactly_the_capacity(bot: Bot) -> None:
    d = Driver(bot)
    d.say("orga", 'jahrgang anlegen "Ansturm" plaetze=20', channel="ansturm")
    barrier = threading.Barrier(25)
    answers: dict[int, str] = {}

    def worker(i: int) -> None:
        barrier.wait()
        answers[i] = d.say(f"p{i}", signup(f"p{i}"), channel="ansturm")

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(25)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    confirmed = [a for a in answers.values() if "Sie sind angemeldet" in a]
    waiting = sorted(a for a in answers.values() if "Warteliste" in a)
    assert len(confirmed) == 20, answers
    assert len(waiting) == 5
    seats = sorted(int(a.split("Platz ")[1].split(" ")[0]) for a in confirmed)
    assert seats == list(range(1, 21))
    positions = sorted(int(a.split("Position ")[1].split(")")[0]) for a in waiting)
    assert positions == [1, 2, 3, 4, 5]


def test_places_follow_the_order_seats_were_given(bot: Bot, clock: SimulatedClock) -> None:
    """A request reads the clock before it waits for the seat lock, so a request served later
    may carry an earlier time (two Slack instances, or threads of one). Its place must still
    come after the seats already given — nobody is told a place number twice."""
    d = Driver(bot)
    d.say("orga", 'jahrgang anlegen "Reihe" plaetze=2', channel="reihe")
    start = clock.now()
    first = d.say("anna", signup("anna"), channel="reihe")
    clock._now = start - timedelta(seconds=5)  # the next request read the clock earlier
    second = d.say("ben", signup("ben"), channel="reihe")
    third = d.say("cem", signup("cem"), channel="reihe")
    assert "Platz 1 von 2" in first, first
    assert "Platz 2 von 2" in second, second
    assert "Warteliste (Position 1)" in third, third
    listing = d.say("orga", "teilnehmende", channel="reihe")
    assert listing.index("Anna Muster") < listing.index("Ben Muster"), listing


def test_a_dialog_answer_sent_twice_is_asked_back_not_taken_for_the_next_field(
    driver: Driver,
) -> None:
    """The same text twice in a row (the next question never arrived, say) is not silently
    taken as the answer to the next question; typed a third time, it is."""
    driver.say("ben", "anmelden")
    assert "Ihre Kommune" in driver.say("ben", "Ben Bammann", dm=True)
    again = driver.say("ben", "Ben Bammann", dm=True)
    assert "„Ben Bammann“ haben Sie eben schon bei „Ihr Name“ geschrieben" in again, again
    assert "Ihre Kommune" in again
    assert "Ihre Funktion" in driver.say("ben", "Bensheim", dm=True)
    assert "Ihre E-Mail" in driver.say("ben", "Beigeordneter", dm=True)
    driver.say("ben", "ben@bensheim.de", dm=True)
    assert "willige ein" in driver.say("ben", "-", dm=True)
    assert "Platz 1 von 3" in driver.say("ben", "ja", dm=True)
    assert "Ben Bammann – Bensheim – Beigeordneter" in driver.say("orga", "teilnehmende")

    driver.say("cara", "anmelden")
    driver.say("cara", "Stadt Cara", dm=True)
    assert "eben schon" in driver.say("cara", "Stadt Cara", dm=True)
    assert "Ihre Funktion" in driver.say("cara", "Stadt Cara", dm=True)  # insisted: taken
