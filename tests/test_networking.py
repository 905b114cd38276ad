"""Networking through the console: profiles, "wer kennt sich aus", DSGVO (introductions with
consent: test_networking_intro)."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest

from app import Bot, build_bot
from bot.clock import SimulatedClock
from tests.helpers import Driver, make_settings, signup


@pytest.fixture
def bot(db_url: str, clock: SimulatedClock) -> Iterator[Bot]:
    """As in conftest, with the profile question after registration switched on."""
    settings = make_settings(db_url, organizers="console:orga", profile_question=True)
    built = build_bot(settings, clock)
    yield built
    built.engine.dispose()


@pytest.fixture
def driver(bot: Bot) -> Driver:
    d = Driver(bot)
    d.say("orga", 'jahrgang anlegen "Vernetzung" plaetze=3')
    return d


def _dms_to(driver: Driver, user: str) -> list[str]:
    return [s.text for s in driver.messenger.transcript if s.target == f"console:{user}"]


def test_registration_asks_for_the_profile_once(driver: Driver) -> None:
    driver.say("anna", signup("anna"))
    asks = [t for t in _dms_to(driver, "anna") if "Profil ausfüllen" in t]
    assert len(asks) == 1 and "profil aendern" in asks[0] and "freiwillig" in asks[0]
    driver.say("anna", "abmelden")
    driver.say("anna", signup("anna"))  # registering again does not ask again
    assert len([t for t in _dms_to(driver, "anna") if "Profil ausfüllen" in t]) == 1


def test_the_profile_question_can_be_switched_off(db_url: str, clock: SimulatedClock) -> None:
    quiet = build_bot(make_settings(db_url, organizers="console:orga"), clock)
    try:
        driver = Driver(quiet)
        driver.say("orga", 'jahrgang anlegen "Still" plaetze=3')
        assert "Sie sind angemeldet" in driver.say("anna", signup("anna"))
        assert not [t for t in _dms_to(driver, "anna") if "Profil" in t]
    finally:
        quiet.engine.dispose()


def test_profile_edit_folds_topics_and_looks_up_the_size(driver: Driver) -> None:
    driver.say("anna", signup("anna", kommune="Lübeck"))
    answer = driver.say(
        "anna",
        'profil aendern themen="pflege, Senioren-Wohnen; ÖPNV, Mobilitaet, Dorfkino" '
        'vorhaben="Seniorenbüro im Rathaus" ziel="Eine Anlaufstelle" stand=planung',
    )
    assert "Ihr Profil ist gespeichert" in answer
    assert "Themen: Pflege, Wohnen im Alter, Mobilität, Dorfkino" in answer
    assert "Themenliste" not in answer  # "Dorfkino": nothing close on the list, no hint
    hinted = driver.say("anna", 'profil aendern themen="Pflege, Quartiersarbeit"')
    assert "„Quartiersarbeit“ steht nicht in der Themenliste. Meinten Sie: Quartier" in hinted
    assert "Themen: Pflege, Quartiersarbeit" in hinted  # kept as typed: offered, not forced
    assert "Größe: Großstadt" in answer and "Stand: Planung" in answer
    shown = driver.say("anna", "profil")
    assert "Vorhaben: Seniorenbüro im Rathaus" in shown and "Ziel: Eine Anlaufstelle" in shown


def test_unknown_place_asks_for_the_size_and_bad_values_say_what_to_do(driver: Driver) -> None:
    driver.say("anna", signup("anna"))  # "Annastadt" is in no list of places
    answer = driver.say("anna", "profil aendern themen=Pflege")
    assert "finde ich nicht in den Ortsdaten" in answer and "groesse=Kleinstadt" in answer
    assert "Größe: –" in answer
    assert "Größe: Mittelstadt" in driver.say("anna", "profil aendern groesse=35.000")
    assert "Größe: Kleinstadt" in driver.say("anna", "profil aendern größe=kleinstadt")
    assert "keine Größenklasse" in driver.say("anna", "profil aendern groesse=riesig")
    assert "kein Stand" in driver.say("anna", "profil aendern stand=fertig")
    assert "Größe: Kleinstadt" in driver.say("anna", "profil")  # nothing changed by the errors


def test_profile_form_dialog_in_the_console(driver: Driver) -> None:
    driver.say("anna", signup("anna"))
    first = driver.say("anna", "profil aendern")
    assert "Themen" in first
    driver.say("anna", "Quartier, Einsamkeit", dm=True)
    driver.say("anna", "Nachbarschaftstreff", dm=True)
    driver.say("anna", "-", dm=True)
    done = driver.say("anna", "Umsetzung", dm=True)
    assert "Ihr Profil ist gespeichert" in done
    assert "Themen: Quartiersentwicklung, Einsamkeit" in done and "Stand: Umsetzung" in done


def test_profiles_of_others_only_within_the_cohort(driver: Driver) -> None:
    driver.say("anna", signup("anna"))
    driver.say("ben", signup("ben"))
    driver.say("anna", "profil aendern themen=Mobilität")
    assert "Themen: Mobilität" in driver.say("ben", "profil @anna")
    assert "Themen: Mobilität" in driver.say("orga", "profil @anna")
    refused = driver.say("zoe", "profil @anna")  # a stranger
    assert "Mobilität" not in refused
    driver.say("cara", signup("cara"))
    driver.say("dora", signup("dora"))  # waitlisted: own profile only
    assert "Mobilität" not in driver.say("dora", "profil @anna")
    assert "Noch kein Profil" in driver.say("dora", "profil")


def test_who_knows_ranks_and_answers_privately(driver: Driver) -> None:
    driver.say("anna", signup("anna", kommune="Lübeck"))
    driver.say("ben", signup("ben", kommune="Kiel"))
    driver.say("cara", signup("cara"))
    driver.say(
        "ben", 'profil aendern vorhaben="Bürgerbus für die Dörfer" ziel="Mobilität auf dem Land"'
    )
    driver.say("cara", "profil aendern themen=ÖPNV")
    driver.say("anna", "profil aendern themen=Pflege")
    answer = driver.say("anna", "wer kennt sich aus mit Mobilität?")
    lines = answer.splitlines()
    cara = next(i for i, line in enumerate(lines) if "Cara Muster" in line)
    ben = next(i for i, line in enumerate(lines) if "Ben Muster" in line)
    assert cara < ben  # a tag beats a Vorhaben mention
    assert "Expertise: Mobilität" in lines[cara] and "Vorhaben: „Bürgerbus" in lines[ben]
    assert "(Kiel)" in lines[ben] and "Anna Muster" not in answer
    by_synonym = driver.say("anna", "who knows Nahverkehr")
    assert "Cara Muster (Carastadt) – Expertise: Mobilität (verwandtes Thema)" in by_synonym
    assert "Ben Muster" in by_synonym  # "Nahverkehr" means Mobilität, named in his goal
    assert "noch niemand" in driver.say("anna", "wer kennt sich aus mit Raumfahrt")
    assert "Mit welchem Thema" in driver.say("anna", "wer kennt sich aus")
    assert "Mobilität" not in driver.say("zoe", "wer kennt sich aus mit Mobilität")
    assert "wer kennt sich aus mit THEMA" in driver.say("anna", "hilfe")
    english = driver.say("anna", "who knows mobility")  # English alias, English folding
    assert "Cara Muster" in english


def test_my_data_exports_and_forget_erases_the_profile(driver: Driver, bot: Bot) -> None:
    driver.say("anna", signup("anna"))
    driver.say("ben", signup("ben"))
    driver.say("anna", 'profil aendern themen=Einsamkeit vorhaben="Geheimes Vorhaben XY"')
    driver.say("anna", "vorstellen @ben")
    driver.say("anna", "meine-daten")
    files = [s for s in driver.messenger.transcript if s.kind == "file"]
    data = json.loads(files[-1].content or b"")
    assert data["profil"]["themen"] == ["Einsamkeit"]
    assert data["profil"]["vorhaben"] == "Geheimes Vorhaben XY"
    assert data["vorstellungen"][0]["rolle"] == "angefragt"
    driver.say("anna", "vergessen ja")
    with bot.engine.connect() as conn:
        from sqlalchemy import text

        assert conn.execute(text("select count(*) from profiles")).scalar() == 0
        assert conn.execute(text("select count(*) from introductions")).scalar() == 0
    assert "Geheimes Vorhaben" not in driver.say("ben", "wer kennt sich aus mit Einsamkeit")
