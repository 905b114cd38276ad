"""Topic proposals: propose, list with proposers, merge, withdraw, turn into a poll."""

from __future__ import annotations

import pytest

from app import Bot
from bot.services import poll_privacy
from tests.helpers import Driver, signup


@pytest.fixture
def driver(bot: Bot) -> Driver:
    d = Driver(bot)
    d.say("orga", 'jahrgang anlegen "Themen" plaetze=3')
    for name in ("anna", "ben", "cara"):
        d.say(name, signup(name))
    d.say("orga", "gastgeber @cara ja")
    d.messenger.transcript.clear()
    return d


def test_proposals_merge_withdraw_and_poll(driver: Driver) -> None:
    said = driver.say(
        "anna", 'thema vorschlagen "Mehrgenerationenwohnen im Quartier" beschreibung="Projekte"'
    )
    assert "Thema 1: „Mehrgenerationenwohnen im Quartier“" in said
    assert "Thema 2" in driver.say("cara", 'thema vorschlagen "Mobilität auf dem Land"')
    assert "schon vorgeschlagen (Nr. 2)" in driver.say(
        "ben", 'thema vorschlagen "mobilität  auf dem LAND"'
    )
    driver.say("ben", 'thema vorschlagen "Mobilität im ländlichen Raum"')
    driver.say("ben", 'thema vorschlagen "Ehrenamt"')
    driver.say("anna", 'thema vorschlagen "Pflege"')
    assert "vorbehalten" in driver.say("anna", "themen zusammenfuehren 2 3")
    assert "Zusammengeführt in Thema 2" in driver.say("orga", "themen zusammenfuehren 2 3")
    assert "nicht mehr offen" in driver.say("orga", "themen zusammenfuehren 2 3")
    assert "mit sich selbst" in driver.say("orga", "themen zusammenfuehren 2 2")
    assert "mindestens zwei" in driver.say("orga", "themen zusammenfuehren 2")
    assert "Zurückgezogen: Thema 4" in driver.say("orga", "themen zurueckziehen 4")
    told = [s for s in driver.messenger.transcript if s.kind == "dm" and "Ehrenamt" in s.text]
    assert [s.target for s in told] == ["console:ben"]
    listing = driver.say("ben", "themen")
    assert "1. Mehrgenerationenwohnen im Quartier — vorgeschlagen von Anna Muster" in listing
    assert "Projekte" in listing
    assert "2. Mobilität auf dem Land — vorgeschlagen von Cara Muster (Gastgeberstadt), " in (
        listing
    )
    assert "Ben Muster (Benstadt)" in listing and "Ehrenamt" not in listing
    assert "nicht mehr offen" in driver.say("orga", "umfrage aus themen 1 4 sofort")
    assert "Themenvorschlag 9 gibt es nicht" in driver.say("orga", "umfrage aus themen 1 9 sofort")
    answer = driver.say(
        "orga", 'umfrage aus themen 1 2 5 mehrfach=2 bis="Freitag 12 Uhr" anonym sofort'
    )
    assert "Umfrage 1 ist angelegt" in answer and "Freitag, 27. November 2026" in answer
    post = driver.messenger.texts("post")[-1]
    assert "Welche Themen sollen wir beim Besuch in der Gastgeberstadt bearbeiten?" in post
    assert "3. Pflege" in post and "bis zu 2 Optionen · anonym" in post
    assert "in Umfrage 1" in driver.say("anna", "themen")
    with driver.bot.uow_factory() as uow:
        anna = uow.persons.get_by_identity("console", "anna")
        assert anna is not None
        data = poll_privacy.export_person(uow, anna.id)
        assert [t["titel"] for t in data["themenvorschlaege"]] == [
            "Mehrgenerationenwohnen im Quartier",
            "Pflege",
        ]
        poll_privacy.erase_person(uow, anna.id, "Person-1")
        uow.commit()
        assert poll_privacy.export_person(uow, anna.id)["themenvorschlaege"] == []
    assert "1. Mehrgenerationenwohnen im Quartier — vorgeschlagen von —" in driver.say(
        "ben", "themen"
    )


def test_outsiders_and_bad_input(driver: Driver) -> None:
    assert "nur für Teilnehmende" in driver.say("zoe", 'thema vorschlagen "X"')
    assert "Bitte nennen Sie das Thema" in driver.say("anna", "thema vorschlagen")
    assert "zu lang" in driver.say("anna", f'thema vorschlagen "{"x" * 201}"')
    assert "Noch keine Themenvorschläge" in driver.say("anna", "themen")
    assert "keine Nummer" in driver.say("orga", "themen zurueckziehen fuenf")
    assert "Welches Thema?" in driver.say("orga", "themen zurueckziehen")
