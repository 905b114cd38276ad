"""Polls through the console-facing dispatcher: create, vote, change, nudge, close, export."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from sqlalchemy import select

from app import Bot
from bot.clock import SimulatedClock
from storage.models import Poll, PostedMessage
from tests.helpers import Driver, signup

COHORT = '"Stadtlabor 2026/27"'
PEOPLE = ("anna", "ben", "cara", "dora")


@pytest.fixture
def driver(bot: Bot) -> Driver:
    d = Driver(bot)
    assert "angelegt" in d.say("orga", f"jahrgang anlegen {COHORT} plaetze=4")
    for name in PEOPLE:
        assert "Sie sind angemeldet" in d.say(name, signup(name))
    d.say("orga", "gastgeber @dora ja")
    d.messenger.transcript.clear()
    return d


def run_due(driver: Driver, clock: SimulatedClock, delta: timedelta) -> None:
    clock.advance(delta)
    driver.bot.due.run_due(clock.now())
    driver.flush()


def test_vote_change_double_click_and_live_results(driver: Driver) -> None:
    answer = driver.say(
        "orga", 'umfrage "Welches Thema zuerst?" "Wohnen" "Mobilität" "Pflege" sofort'
    )
    assert "Umfrage 1 ist angelegt" in answer
    posts = driver.messenger.texts("post")
    assert posts and "Umfrage 1: Welches Thema zuerst?" in posts[-1]
    assert "→ abstimmen 1 2" in posts[-1]
    assert "ist gezählt: 2. Mobilität" in driver.say("anna", "abstimmen 1 2")
    assert "unverändert" in driver.say("anna", "abstimmen 1 2").lower()
    assert "ist geändert: 1. Wohnen" in driver.say("anna", "abstimmen 1 1")
    assert "gezählt" in driver.say("ben", "abstimmen 1 1")
    updates = driver.messenger.texts("update")
    assert "▇▇▇▇▇▇▇▇▇▇ 100 % (2 Stimmen): Anna Muster, Ben Muster" in updates[-1]
    assert "2 Stimmzettel abgegeben" in updates[-1]
    assert "Option 7 gibt es nicht" in driver.say("cara", "abstimmen 1 7")
    assert "passt zu keiner Option von Umfrage 1" in driver.say("cara", "abstimmen 1 -1")
    assert "gezählt: 3. Pflege" in driver.say("cara", 'abstimmen #1 "pflege"')
    assert "geändert: 2. Mobilität" in driver.say("cara", "abstimmen 1 Mobil")
    assert "zurückgezogen" in driver.say("cara", "abstimmen 1 zurueckziehen")
    assert "nur eine Option" in driver.say("cara", "abstimmen 1 1,2")
    assert "keine Nummer" in driver.say("cara", "abstimmen eins 2")
    assert "Umfrage 9 gibt es hier nicht" in driver.say("cara", "abstimmen 9 1")
    assert "zurückgezogen" in driver.say("ben", "abstimmen 1 zurueckziehen")
    listing = driver.say("anna", "umfragen")
    assert "1. Welches Thema zuerst? — offen – Sie haben abgestimmt" in listing
    assert "noch nicht abgestimmt" in driver.say("cara", "umfragen")
    # who may vote: confirmed participants, minus the host city with gastgeber-enthaltung
    driver.say("orga", 'umfrage "Frage?" "A" "B" gastgeber-enthaltung sofort')
    assert "nur für Teilnehmende" in driver.say("zoe", "abstimmen 2 1")
    assert "Gastgeberstadt (Interessenkonflikt)" in driver.say("dora", "abstimmen 2 1")
    assert "nur bestätigte Teilnehmende" in driver.say("orga", "abstimmen 2 1")  # no seat
    assert "gezählt" in driver.say("dora", "abstimmen 1 1")  # no abstention in poll 1


BAD_POLLS = [
    ('umfrage "Nur eine?" "A" sofort', "2 bis 20 Optionen (Sie haben 1"),
    ('umfrage "Zu viele?" ' + " ".join(f'"O{i}"' for i in range(30)), "Sie haben 30"),
    ('umfrage "Doppelt?" "Wohnen" "wohnen" sofort', "steht doppelt da"),
    ('umfrage "Alt?" "A" "B" bis="gestern" sofort', "Vergangenheit"),
    ('umfrage "M?" "A" "B" mehrfach=5 sofort', "mehrfach= muss zwischen 1 und 2"),
    ('umfrage "M?" "A" "B" mehrfach=viele sofort', "mehrfach= braucht eine Zahl"),
    ('umfrage "E?" "A" "B" ergebnis=bald sofort', "ergebnis= ist live"),
    ('umfrage "X?" "A" "B" farbe=rot sofort', "„farbe=“ kenne ich nicht"),
    ('umfrage "" "A" "B" sofort', "Bitte geben Sie eine Frage an"),
    ("umfrage anonym", "Frage und Optionen"),
    ('umfrage "Frage2?" "A" "B" anonm sofort', "„anonm“ kenne ich nicht. Meinten Sie anonym?"),
    ('umfrage "Q?" "A" "B" anonymus sofort', "Meinten Sie anonymous?"),
    ('umfrage "Q?" "A" "B" mehrfah sofort', "„mehrfah“ kenne ich nicht. Meinten Sie mehrfach?"),
    ('umfrage "Q?" "A" "B" ergebnis sofort', "Meinten Sie ergebnis=ende?"),
    ("umfrage Frage ohne Anführungszeichen A B", "„Frage“ steht nicht in Anführungszeichen"),
    ('umfrage "Welche?" Wohnen "Mobilität" sofort', "„Wohnen“ steht nicht in Anführungszeichen"),
    ('umfrage "Welche?" "A" "B" 3 sofort', "„3“ steht nicht in Anführungszeichen"),
    ("umfrage 4 loeschen", "Umfrage 4 gibt es hier nicht"),
]


def test_bad_polls_are_refused_clearly(driver: Driver) -> None:
    for command, expected in BAD_POLLS:
        assert expected in driver.say("orga", command), command
    assert driver.messenger.texts("post") == []
    driver.say("orga", 'umfrage "Gut?" "A" "B" sofort')
    assert "Meinten Sie „umfrage 1 schliessen“" in driver.say("orga", "umfrage 1 loeschen")
    assert "Umfrage 1: Gut?" in driver.say("anna", "umfrage 1")
    assert "Umfrage 1: Gut?" in driver.say("anna", "umfrage #1 zeigen")
    assert "ist geschlossen" in driver.say("orga", "umfrage schließen 1")


def test_umfrage_alone_asks_step_by_step(driver: Driver) -> None:
    assert "Ihre Frage" in driver.say("orga", "umfrage")
    for answer in ("Wohin geht es?", "Hafen; Altstadt ; Museum", "2", "ja", "ende", "-"):
        assert "angelegt" not in driver.say("orga", answer, dm=True)
    assert "Umfrage 1 ist angelegt" in driver.say("orga", "nein", dm=True)
    post = driver.messenger.texts("post")[-1]
    assert "3. Museum" in post and "bis zu 2 Optionen · anonym" in post
    assert "Ergebnis nach dem Schluss, wenn mindestens 3 Stimmzettel" in post
    assert "per Direktnachricht" in post
    answer = driver.say("anna", "abstimmen 1 1")  # in the room: readable, so not counted
    assert "ist gezählt" not in answer and "nur in einer Direktnachricht" in answer
    assert "gezählt: 2. Altstadt" in driver.say("anna", "abstimmen 1 2", dm=True)


def test_multiple_choice_adds_up_to_the_maximum(driver: Driver) -> None:
    driver.say("orga", 'umfrage "Welche?" "A" "B" "C" "D" mehrfach=2 sofort')
    assert "gezählt: 1. A" in driver.say("anna", "abstimmen 1 1")
    # a typed list is the whole choice; "plus"/"minus" add or remove one (no comma tricks)
    assert "geändert: 3. C." in driver.say("anna", "abstimmen 1 3")
    assert "geändert: 1. A, 3. C" in driver.say("anna", "abstimmen 1 plus 1")
    assert "höchstens 2 Optionen" in driver.say("anna", "abstimmen 1 plus 4")
    assert "geändert: 3. C." in driver.say("anna", "abstimmen 1 minus 1")
    assert "geändert: 2. B, 4. D" in driver.say("anna", "abstimmen 1 2,4")
    assert "Unverändert" in driver.say("anna", "abstimmen 1 4,2")
    assert "geändert: 2. B." in driver.say("anna", "abstimmen 1 2,")  # a comma is no mode
    driver.say("ben", "sprache en")
    assert "Your vote in poll 1 is counted: 1. A" in driver.say("ben", "vote 1 1")
    assert "There is no option 5" in driver.say("ben", "vote 1 5")


def test_nudge_close_summary_thread_and_export(driver: Driver, clock: SimulatedClock) -> None:
    # Wednesday 12:00 now; Friday 12:00 deadline → nudge Thursday 12:00
    driver.say("ben", 'umfrage "Wohin?" "Hafen" "Altstadt" bis="Freitag 12 Uhr" sofort')
    driver.say("anna", "abstimmen 1 1")
    driver.say("ben", "abstimmen 1 1")
    run_due(driver, clock, timedelta(hours=23))
    assert not any("Erinnerung: Umfrage 1" in t for t in driver.messenger.texts("dm"))
    run_due(driver, clock, timedelta(hours=2))
    nudged = [s.target for s in driver.messenger.transcript if "Erinnerung: Umfrage 1" in s.text]
    assert sorted(nudged) == ["console:cara", "console:dora"]
    run_due(driver, clock, timedelta(hours=1))
    assert len([t for t in driver.messenger.texts("dm") if "Erinnerung" in t]) == 2  # only once
    driver.say("cara", "abstimmen 1 2")
    run_due(driver, clock, timedelta(days=1))
    summaries = [s for s in driver.messenger.transcript if "ist geschlossen: Wohin?" in s.text]
    assert {s.kind for s in summaries} == {"post", "thread"}
    assert "Ergebnis: „Hafen“ mit 2 Stimmen." in summaries[0].text
    with driver.bot.uow_factory() as uow:
        poll_post_id = uow.session.scalar(
            select(PostedMessage.message_id).where(PostedMessage.subject.startswith("poll:"))
        )
    thread = next(s for s in summaries if s.kind == "thread")
    assert thread.ref is not None and thread.ref.thread_id == poll_post_id
    assert "geschlossen" in driver.messenger.texts("update")[-1]
    assert "→ abstimmen" not in driver.messenger.texts("update")[-1]
    assert "ist geschlossen" in driver.say("dora", "abstimmen 1 1")
    assert "bereits geschlossen" in driver.say("orga", "umfrage 1 schliessen")
    assert "Datei" in driver.say("orga", "export umfrage 1")
    export = driver.messenger.transcript[-1]
    assert export.kind == "file" and export.content is not None
    csv_text = export.content.decode("utf-8-sig")
    assert "Hafen,2,67 %" in csv_text and "Anna Muster,1,Hafen" in csv_text
    assert "vorbehalten" in driver.say("anna", "export umfrage 1")


def test_close_early_by_creator_or_organiser_only(driver: Driver) -> None:
    driver.say("anna", 'umfrage "Gleich?" "Ja" "Nein" sofort')
    driver.say("anna", "abstimmen 1 1")
    driver.say("ben", "abstimmen 1 2")
    assert "können nur das Programmteam" in driver.say("ben", "umfrage 1 schliessen")
    assert "ist geschlossen" in driver.say("anna", "umfrage 1 schliessen")
    summary = [t for t in driver.messenger.texts("post") if "ist geschlossen" in t]
    assert summary and "Gleichstand bei „Ja“, „Nein“ mit je 1 Stimme." in summary[0]


def test_results_at_the_end_only(driver: Driver) -> None:
    driver.say("orga", 'umfrage "Später?" "A" "B" ergebnis=ende sofort')
    driver.say("anna", "abstimmen 1 2")
    assert "Stimmen" not in driver.messenger.texts("update")[-1]
    assert "1 Stimmzettel abgegeben" in driver.messenger.texts("update")[-1]
    driver.say("orga", "umfrage 1 schliessen")
    assert "2. B — ▇▇▇▇▇▇▇▇▇▇ 100 % (1 Stimme)" in driver.messenger.texts("update")[-1]


def test_meine_daten_and_vergessen(driver: Driver) -> None:
    driver.say("orga", 'umfrage "Namentlich?" "Hafen" "Altstadt" sofort')
    driver.say("anna", "abstimmen 1 2")
    driver.say("anna", "meine-daten")
    mine = next(s for s in driver.messenger.transcript if s.filename == "meine-daten.json")
    assert mine.content is not None
    votes = json.loads(mine.content)["umfrage_stimmen"]
    assert votes == [
        {
            "jahrgang": "Stadtlabor 2026/27",
            "umfrage": 1,
            "frage": "Namentlich?",
            "stimme": ["Altstadt"],
        }
    ]
    driver.say("anna", "vergessen ja")
    driver.say("ben", "abstimmen 1 2")
    last = driver.messenger.texts("update")[-1]
    assert "2. Altstadt — ▇▇▇▇▇▇▇▇▇▇ 100 % (2 Stimmen): Ben Muster" in last
    assert "Anna" not in last


def test_the_same_poll_typed_twice_is_created_once(driver: Driver) -> None:
    """Typed again (its answer lost, say), an open poll is not created a second time — two
    copies would split the votes. Once it is closed, the same question may be asked again."""
    line = 'umfrage "Welches Thema zuerst?" "Wohnen" "Mobilität" bis="Freitag 12 Uhr" sofort'
    assert "Umfrage 1 ist angelegt" in driver.say("orga", line)
    again = driver.say("orga", line)
    assert "Diese Umfrage gibt es schon: Umfrage 1, noch offen" in again, again
    other = driver.say("orga", line.replace('"Mobilität"', '"Mobilität" "Bildung"'))
    assert "Umfrage 2 ist angelegt" in other
    assert "geschlossen" in driver.say("orga", "umfrage 1 schliessen")
    assert "Umfrage 3 ist angelegt" in driver.say("orga", line)
    with driver.bot.uow_factory() as uow:
        assert len(uow.session.scalars(select(Poll)).all()) == 3


def test_quoted_flag_words_are_options_and_options_are_only_quoted(driver: Driver) -> None:
    """Issue 15 Input #2: only quoted strings are options; a quoted "anonym" is an option."""
    driver.say("orga", 'umfrage "Wie abstimmen?" "namentlich" "anonym" sofort')
    post = driver.messenger.texts("post")[-1]
    assert "2. anonym" in post and "· namentlich ·" in post
    driver.say("orga", 'umfrage "Zweite?" „Ja“ "Nein" anonym gastgeber-enthaltung sofort')
    post = driver.messenger.texts("post")[-1]
    assert "1. Ja\n2. Nein\n" in post and "· anonym · Gastgeberstadt enthält sich" in post
    driver.say("orga", 'umfrage "Welche?" "A" "B" "C" mehrfach sofort')  # alone: any number
    assert "bis zu 3 Optionen · namentlich" in driver.messenger.texts("post")[-1]


def test_closed_poll_no_longer_says_live_and_receipts_end_once(driver: Driver) -> None:
    """Issue 15 Presentation: "Ergebnis live" on a closed poll; "gezählt: 1. 21./22.9.."."""
    driver.say("orga", 'umfrage "Wann treffen wir uns?" "21./22.9." "Nie!" sofort')
    assert "Ergebnis live" in driver.messenger.texts("post")[-1]
    answer = driver.say("anna", "abstimmen 1 1")
    assert "ist gezählt: 1. 21./22.9. Bis zum Schluss änderbar." in answer, answer
    assert "ist geändert: 2. Nie!" in driver.say("anna", "abstimmen 1 2")
    assert ".." not in driver.say("anna", "abstimmen 1 1") and "!." not in answer
    driver.say("orga", "umfrage 1 schliessen")
    closed = driver.messenger.texts("update")[-1]
    assert "geschlossen" in closed and "Ergebnis live" not in closed
    assert "Ergebnis nach Schluss" not in closed
