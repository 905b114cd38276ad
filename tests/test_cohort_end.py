"""A cohort that ends: closing says what will happen, does it, and leaves the cohort read-only."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from app import Bot
from bot.clock import SimulatedClock
from storage.models import FeedbackRound, Meeting, Poll, Reminder, Vote
from tests.helpers import Driver, signup

COHORT = '"Stadtlabor 2026/27"'


@pytest.fixture
def driver(bot: Bot) -> Driver:
    d = Driver(bot)
    assert "angelegt" in d.say("orga", f"jahrgang anlegen {COHORT} plaetze=4")
    for name in ("anna", "ben", "cara"):
        assert "Sie sind angemeldet" in d.say(name, signup(name))
    d.say(
        "orga",
        'treffen anlegen titel="Herbsttreffen" von="3.3.2027 10 Uhr" bis="4.3.2027 16 Uhr"',
    )
    d.say("orga", 'umfrage "Welches Thema?" "Wohnen" "Pflege" sofort')
    d.say("anna", "abstimmen 1 1")
    d.say("orga", 'feedback starten titel="Plan" fuer=@ben bis="in 20 Tagen" sofort')
    d.say("orga", "erinnern kanal in 3 Tagen 9 Uhr; Bitte Berichte schicken")
    d.messenger.transcript.clear()
    return d


def _count(bot: Bot, stmt: object) -> int:
    with bot.uow_factory() as uow:
        return int(uow.session.scalar(stmt) or 0)  # type: ignore[call-overload]


def test_closing_asks_with_a_summary_first_and_changes_nothing(driver: Driver) -> None:
    preview = driver.say("orga", "jahrgang abschliessen")
    assert "wirklich abschließen" in preview
    assert "offene Umfragen werden geschlossen, Ergebnisse gepostet: #1" in preview
    assert "offene Feedback-Runden werden geschlossen" in preview
    assert "künftige Treffen werden abgesagt: #1" in preview
    assert "geplante Erinnerungen und Nachfragen werden gestrichen" in preview
    assert "jahrgang abschliessen ja" in preview
    bot = driver.bot
    assert _count(bot, select(func.count()).select_from(Poll).where(Poll.closed_at.is_(None))) == 1
    assert not driver.messenger.texts("post")


def test_closing_closes_everything_and_tells_the_channel(
    driver: Driver, clock: SimulatedClock
) -> None:
    bot = driver.bot
    pending_before = _count(
        bot, select(func.count()).select_from(Reminder).where(Reminder.status == "pending")
    )
    assert pending_before > 0
    answer = driver.say("orga", "jahrgang abschliessen ja")
    assert "ist abgeschlossen" in answer
    posts = "\n".join(driver.messenger.texts("post"))
    assert "Der Jahrgang „Stadtlabor 2026/27“ ist abgeschlossen" in posts
    assert "Welches Thema?" in posts  # the poll's result summary was posted
    open_polls = select(func.count()).select_from(Poll).where(Poll.closed_at.is_(None))
    assert _count(bot, open_polls) == 0
    open_rounds = (
        select(func.count()).select_from(FeedbackRound).where(FeedbackRound.closed_at.is_(None))
    )
    assert _count(bot, open_rounds) == 0
    live = select(func.count()).select_from(Meeting).where(Meeting.deleted_at.is_(None))
    assert _count(bot, live) == 0
    pending = select(func.count()).select_from(Reminder).where(Reminder.status == "pending")
    assert _count(bot, pending) == 0
    # nothing more arrives later: no reminder, no nudge
    driver.messenger.transcript.clear()
    for _ in range(3):
        clock.advance(timedelta(days=8))
        bot.due.run_due(clock.now())
        driver.flush()
    assert driver.messenger.transcript == []


def test_a_closed_cohort_refuses_writes_and_keeps_reads(driver: Driver) -> None:
    driver.say("orga", "jahrgang abschliessen ja")
    driver.messenger.transcript.clear()
    bot = driver.bot
    votes = _count(bot, select(func.count()).select_from(Vote))
    writes = {
        "abstimmen 1 2": "anna",
        'umfrage "Noch eine?" "A" "B" sofort': "orga",
        'thema vorschlagen "Mobilität"': "anna",
        "teilnahme 1 ja": "anna",
        'treffen anlegen titel="X" von="3.5.2027 10 Uhr" bis="4.5.2027 16 Uhr"': "orga",
        "treffen 1 aendern titel=Y": "orga",
        "feedback 1 geben": "ben",
        "anmelden": "dora",
        'ankuendigen "Hallo" sofort': "orga",
    }
    for command, user in writes.items():
        answer = driver.say(user, command)
        assert "abgeschlossen und kann nur noch gelesen werden" in answer, (command, answer)
        assert "meine-daten" in answer
    assert _count(bot, select(func.count()).select_from(Vote)) == votes
    assert not driver.messenger.texts("post")
    assert "Welches Thema?" in driver.say("anna", "umfragen")
    assert "Welches Thema?" in driver.say("anna", "umfrage 1")
    assert "abgeschlossen" not in driver.say("anna", "meine-daten").split("\n")[0]
    assert "Wirklich alles löschen" in driver.say("anna", "vergessen")
    assert "gelöscht" in driver.say("anna", "vergessen ja")


def test_english_organiser_sees_the_summary_in_english(driver: Driver) -> None:
    driver.say("orga", "sprache en")
    preview = driver.say("orga", "jahrgang abschliessen")
    assert "open polls are closed and their results posted: #1" in preview
    assert "To confirm: cohort close yes" in preview
    assert "The cohort “Stadtlabor 2026/27” is closed" in driver.say("orga", "cohort close yes")
    answer = driver.say("orga", "abstimmen 1 2")
    assert "and can only be read" in answer
