"""Feedback rounds through the console-facing dispatcher: named rounds, reminders, close, export."""

from __future__ import annotations

from datetime import timedelta

import pytest

from app import Bot
from tests.helpers import Driver, signup

COHORT = '"Stadtlabor 2026/27"'
PEOPLE = ("anna", "ben", "cara", "dora", "emil")
START_NAMED = (
    'feedback starten titel="Quartiersentwicklung Musterstadt" fuer=Annastadt '
    'bis="Freitag 18 Uhr" sofort'
)


@pytest.fixture
def driver(bot: Bot) -> Driver:
    d = Driver(bot)
    assert "angelegt" in d.say("orga", f"jahrgang anlegen {COHORT} plaetze=10")
    for name in PEOPLE:
        assert "Sie sind angemeldet" in d.say(name, signup(name))
    d.messenger.transcript.clear()
    return d


def run_due(driver: Driver, delta: timedelta) -> None:
    bot = driver.bot
    bot.due.run_due(bot.clock.advance(delta))  # type: ignore[attr-defined]
    driver.flush()


def dms_to(driver: Driver, user: str) -> list[str]:
    return [s.text for s in driver.messenger.transcript if s.target == f"console:{user}"]


def thread_texts(driver: Driver) -> list[str]:
    return [s.text for s in driver.messenger.transcript if s.kind in ("thread", "update")]


def test_named_round_from_opening_to_export(driver: Driver) -> None:
    answer = driver.say("orga", START_NAMED)
    assert "#1" in answer and "namentlich" in answer
    assert "per Direktnachricht gefragt: 4." in answer
    assert "Freitag, 27. November 2026, 18:00 Uhr" in answer
    root = [s for s in driver.messenger.transcript if s.kind == "post"]
    assert len(root) == 1 and "Wo sehen Sie Risiken oder offene Fragen?" in root[0].text
    assert dms_to(driver, "anna") == []  # the presenter is not asked
    assert all("feedback 1 geben" in dms_to(driver, u)[0] for u in ("ben", "cara", "dora", "emil"))

    saved = driver.say("ben", "1. =SUM(A1)\n2. Finanzierung <@U123> *fett*\n3. Früh", dm=True)
    assert "gespeichert" in saved and "mit Ihrem Namen" in saved
    posted = thread_texts(driver)
    assert len(posted) == 1 and "Ben Muster (Benstadt)" in posted[0]
    assert "<@U123> *fett*" in posted[0]  # stored and passed on as given; adapters escape

    assert "1. Was hat Sie überzeugt?" in driver.say("cara", "feedback 1 geben", dm=True)
    driver.say("cara", "Das Konzept", dm=True)
    too_long = driver.say("cara", "x" * 3001, dm=True)
    assert "3001 Zeichen" in too_long and "höchstens 3000" in too_long
    huge = driver.say("cara", "y" * 20_000, dm=True)  # a 20 kB DM inside the dialog
    assert "20000 Zeichen" in huge and "höchstens 3000" in huge
    driver.say("cara", "Personal", dm=True)  # question 2 again; answer 1 was kept
    assert "gespeichert" in driver.say("cara", "@Mehr Beteiligung", dm=True)
    assert "überzeugt?" in driver.say("dora", "feedback 1 geben", dm=True)  # left unfinished
    assert "Das Konzept" in thread_texts(driver)[-1]

    edited = driver.say("ben", "feedback 1 antworten 1. Neu\n2. b\n3. c", dm=True)
    assert "aktualisiert" in edited
    updates = [s for s in driver.messenger.transcript if s.kind == "update"]
    assert updates and "Neu" in updates[-1].text and "Ben Muster" in updates[-1].text

    listing = driver.say("orga", "feedback")
    assert "namentlich, offen, Antworten: 2" in listing

    driver.messenger.transcript.clear()
    run_due(driver, timedelta(hours=7))  # Wednesday 19:00: two days before the deadline
    reminded = sorted(s.target for s in driver.messenger.transcript if "Erinnerung" in s.text)
    assert reminded == ["console:dora", "console:emil"]
    driver.messenger.transcript.clear()
    run_due(driver, timedelta(days=2, hours=-3))  # Friday 16:00
    assert len([s for s in driver.messenger.transcript if "Erinnerung" in s.text]) == 2

    driver.messenger.transcript.clear()
    run_due(driver, timedelta(hours=3))  # Friday 19:00: closed
    summary = thread_texts(driver)[-1]
    assert "2 von 4 Eingeladenen haben geantwortet" in summary
    to_anna = [s for s in driver.messenger.transcript if s.target == "console:anna"]
    assert to_anna and "Cara Muster (Carastadt)" in to_anna[0].text
    assert to_anna[0].filename == "feedback-1.md"

    log = driver.say("orga", "protokoll")  # opened by the organiser, closed by the deadline
    assert "feedback.starten" in log and "feedback.schliessen" in log
    assert "antworten=2, gefragt=4" in log

    late = driver.say("dora", "Meine Antwort auf Frage 1", dm=True)  # her dialog has ended
    assert "Unbekannter Befehl" in late
    late = driver.say("dora", "1. a 2. b 3. c", dm=True)
    assert "geschlossen" in late and "nicht gespeichert" in late

    driver.messenger.transcript.clear()
    assert "Markdown und CSV" in driver.say("orga", "export feedback 1")
    files = {s.filename: (s.content or b"").decode() for s in driver.messenger.transcript}
    csv_text = files["feedback-1.csv"]
    assert "Ben Muster (Benstadt),Neu" in csv_text and "'@Mehr Beteiligung" in csv_text
    assert "**Cara Muster \\(Carastadt\\):** Personal" in files["feedback-1.md"]
    log = driver.say("orga", "protokoll")  # who took which file with answers in it, and when
    assert "datei=feedback-1.md" in log and "datei=feedback-1.csv" in log


def test_bad_input_gets_a_clear_answer(driver: Driver) -> None:
    driver.say("orga", START_NAMED)
    assert "selbst vor" in driver.say("anna", "1. a 2. b 3. c", dm=True)
    assert "selbst vor" in driver.say("anna", "feedback 1 geben", dm=True)
    assert "nur für Teilnehmende" in driver.say("zoe", "1. a 2. b 3. c", dm=True)
    huge = driver.say("ben", "1. " + "x" * 20_000, dm=True)
    assert "20003 Zeichen" in huge and "16000" in huge
    long_one = driver.say("ben", "1. " + "x" * 3001 + "\n2. b\n3. c", dm=True)
    assert "Frage 1" in long_one and "3001" in long_one and "höchstens 3000" in long_one
    assert "leer" in driver.say("ben", "1. a\n2.\n3. c", dm=True)
    assert "mehrmals" in driver.say("ben", "1. am 2. Dezember 2. b 3. c", dm=True)
    assert "2 von 3 Antworten" in driver.say("ben", "1. a 2. b", dm=True)
    assert "Direktnachricht" in driver.say("ben", "1. a 2. b 3. c")  # not in the channel
    assert "vorbehalten" in driver.say("ben", "feedback 1 schliessen", dm=True)
    assert "gibt es nicht" in driver.say("ben", "feedback 7 geben", dm=True)
    assert "weder eine bekannte Person noch eine Kommune" in driver.say(
        "orga", 'feedback starten titel="X" fuer=Nirgendwo bis=morgen sofort'
    )
    assert "Bis wann?" in driver.say("orga", 'feedback starten titel="X" fuer=@anna sofort')
    assert thread_texts(driver) == []  # nothing was stored or posted
    driver.say("orga", 'feedback starten titel="Zweite" fuer=@ben bis="Samstag" sofort')
    assert "mehrere Feedback-Runden" in driver.say("cara", "1. a 2. b 3. c", dm=True)
    custom = driver.say(
        "orga",
        'feedback starten titel="Dritte" fuer=@cara bis="Samstag" fragen="Gut?|Schlecht?" sofort',
    )
    assert "#3" in custom
    assert "gespeichert" in driver.say("dora", "feedback 3 antworten 1. ja 2. nein", dm=True)


def test_an_erased_author_stays_erased_in_the_export(driver: Driver) -> None:
    driver.say("orga", START_NAMED)
    driver.say("ben", "1. a\n2. b\n3. c", dm=True)
    assert "gelöscht" in driver.say("ben", "vergessen ja", dm=True)
    driver.messenger.transcript.clear()
    driver.say("orga", "export feedback 1")
    files = {s.filename: (s.content or b"").decode() for s in driver.messenger.transcript}
    marker = "[auf Wunsch gelöscht]"  # their own words are their data, too
    assert f"(gelöschte Person),{marker},{marker},{marker}" in files["feedback-1.csv"]
    assert "Ben" not in files["feedback-1.csv"] + files["feedback-1.md"]


def test_the_same_round_started_twice_is_opened_once(driver: Driver) -> None:
    """Typed again (its answer lost, say), the round is not opened a second time: nobody is
    asked twice. Another deadline or title is another round."""
    assert "#1" in driver.say("orga", START_NAMED)
    again = driver.say("orga", START_NAMED)
    assert "Feedback-Runde #1 „Quartiersentwicklung Musterstadt“ ist schon offen" in again
    assert len(dms_to(driver, "ben")) == 1
    other = START_NAMED.replace("Freitag 18 Uhr", "Samstag 12 Uhr")
    assert "#2" in driver.say("orga", other)
    assert len(dms_to(driver, "ben")) == 2


def test_rounds_are_named_by_title_then_presenters_in_nudges_and_overview(
    driver: Driver,
) -> None:
    driver.say("orga", START_NAMED)
    label = "Quartiersentwicklung Musterstadt – Annastadt"
    assert f"Feedback-Runde 1: {label}" in driver.say("ben", "ueberblick")
    assert f"Feedback-Runde 1 – {label}: 0 von 4" in driver.say("orga", "ueberblick")
    driver.messenger.transcript.clear()
    driver.say("orga", "nachfassen feedback 1")
    nudged = dms_to(driver, "ben")
    assert nudged and f"Feedback-Runde 1 „{label}“ wartet" in nudged[0]
