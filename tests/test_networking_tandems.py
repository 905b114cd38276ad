"""Tandems through the console: organisers start a round, every tandem gets its intro DM."""

from __future__ import annotations

import json
from itertools import combinations

import pytest
from sqlalchemy import text

from app import Bot
from tests.helpers import Driver, signup

PEOPLE = ("anna", "ben", "cara", "dora", "emil")


@pytest.fixture
def driver(bot: Bot) -> Driver:
    d = Driver(bot)
    d.say("orga", 'jahrgang anlegen "Tandems" plaetze=5')
    for user in PEOPLE:
        d.say(user, signup(user))
    d.say("orga", "gastgeber @anna ja")  # two people from the host city
    d.say("orga", "gastgeber @ben ja")
    d.say("anna", 'profil aendern themen="Pflege, Mobilität" groesse=Großstadt')
    d.say("ben", "profil aendern themen=Pflege groesse=Kleinstadt")
    d.say("cara", 'profil aendern vorhaben="Pflegestützpunkt" groesse=Mittelstadt')
    return d


def _pairs(answer: str) -> set[frozenset[str]]:
    groups = [line[2:].split(" – ") for line in answer.splitlines() if line.startswith("• ")]
    names = [[name.split(" ")[0] for name in group] for group in groups]
    return {frozenset(p) for group in names for p in combinations(group, 2)}


def test_organisers_start_tandems_and_everyone_gets_an_intro(driver: Driver) -> None:
    assert "Tandem-Runde" not in driver.say("ben", "tandems starten")
    answer = driver.say("orga", "tandems starten thema=pflege bis=15.01.2027")
    assert "Tandem-Runde 1 bis 15.01.2027: 2 Tandems" in answer and "Thema: Pflege" in answer
    groups = [line for line in answer.splitlines() if line.startswith("• ")]
    assert sorted(len(g.split(" – ")) for g in groups) == [2, 3]  # five people: one triple
    for user in PEOPLE:
        intro = [s.text for s in driver.messenger.transcript if s.target == f"console:{user}"][-1]
        assert "Ihr Tandem bis 15.01.2027" in intro and "Gemeinsames Thema: Pflege" in intro
        assert "1. Woran arbeitet Ihre Kommune" in intro and "3. Was nehmen Sie sich" in intro
    assert answer.splitlines()[2:] == driver.say("orga", "tandems").splitlines()[2:]


def test_no_pair_twice_and_the_host_city_spread(driver: Driver) -> None:
    first = _pairs(driver.say("orga", "tandems starten"))
    intros = [s.text for s in driver.messenger.transcript if "Ihr Tandem" in s.text]
    assert len(intros) == 5 and not [t for t in intros if "—" in t]  # no topic made up
    second = _pairs(driver.say("orga", "tandems starten"))
    assert first and second and not first & second
    assert len(first | second) == len(first) + len(second)
    assert frozenset(("Anna", "Ben")) not in first | second  # host people in different tandems


def test_bad_deadline_and_too_few_people(driver: Driver, bot: Bot) -> None:
    assert "nicht als Zeitpunkt verstanden" in driver.say("orga", "tandems starten bis=irgendwann")
    driver.say("orga", 'jahrgang anlegen "Leer" plaetze=5', channel="leer")
    assert "mindestens zwei" in driver.say("orga", "tandems starten", channel="leer")
    assert "Noch keine Tandems" in driver.say("orga", "tandems", channel="leer")


def test_tandems_are_exported_and_erased(driver: Driver, bot: Bot) -> None:
    driver.say("orga", "tandems starten thema=Pflege")
    driver.say("dora", "meine-daten")
    files = [s for s in driver.messenger.transcript if s.kind == "file"]
    assert json.loads(files[-1].content or b"")["tandems"][0]["thema"] == "Pflege"
    driver.say("dora", "vergessen ja")
    with bot.engine.connect() as conn:
        members = conn.execute(text("select count(*) from tandem_members")).scalar()
    assert members == 4
