"""Preview before publishing: polls, feedback rounds and announcements reach the cohort only
after the organiser confirmed what the bot read."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from app import Bot
from bot.clock import SimulatedClock
from storage.models import FeedbackRound, OutboxMessage, Poll
from tests.helpers import Driver, signup


@pytest.fixture
def driver(bot: Bot) -> Driver:
    d = Driver(bot)
    assert "angelegt" in d.say("orga", 'jahrgang anlegen "Stadtlabor 2026/27" plaetze=4')
    for name in ("anna", "ben"):
        d.say(name, signup(name))
    d.messenger.transcript.clear()
    return d


def _count(bot: Bot, model: type) -> int:
    with bot.uow_factory() as uow:
        return int(uow.session.scalar(select(func.count()).select_from(model)) or 0)


def _channel_posts(driver: Driver) -> list[str]:
    return driver.messenger.texts("post")


def test_poll_is_previewed_privately_and_published_on_ja(driver: Driver) -> None:
    outbox_before = _count(driver.bot, OutboxMessage)
    preview = driver.say("orga", 'umfrage "Welches Thema?" "Wohnen" "Pflege" anonym')
    assert "Vorschau" in preview
    assert "Welches Thema?" in preview and "1. Wohnen" in preview and "2. Pflege" in preview
    assert "Anonym: ja" in preview
    assert "Noch nichts ist veröffentlicht" in preview
    assert _count(driver.bot, Poll) == 0
    assert _count(driver.bot, OutboxMessage) == outbox_before
    assert _channel_posts(driver) == []
    # anything else meanwhile runs as usual and leaves the preview pending
    assert "Welches Thema?" not in driver.say("orga", "umfragen")
    assert _count(driver.bot, Poll) == 0
    answer = driver.say("orga", "ja")
    assert "Umfrage 1 ist angelegt" in answer
    assert _count(driver.bot, Poll) == 1
    assert any("Welches Thema?" in p for p in _channel_posts(driver))
    # the preview was used up: a second "ja" publishes nothing twice
    again = driver.say("orga", "ja")
    assert "Es wartet nichts auf Ihre Bestätigung" in again
    assert _count(driver.bot, Poll) == 1


def test_ja_counts_in_the_direct_chat_and_only_for_the_author(driver: Driver) -> None:
    driver.say("orga", 'umfrage "Termin?" "März" "April"')
    assert "Es wartet nichts" in driver.say("anna", "ja")  # not hers
    assert _count(driver.bot, Poll) == 0
    assert "Umfrage 1 ist angelegt" in driver.say("orga", "ja", dm=True)
    assert any("Termin?" in p for p in _channel_posts(driver))


def test_ja_in_another_channel_does_not_publish(driver: Driver) -> None:
    driver.say("orga", 'umfrage "Termin?" "März" "April"')
    assert "Es wartet nichts" in driver.say("orga", "ja", channel="anderer-kanal")
    assert _count(driver.bot, Poll) == 0


def test_a_preview_expires_after_an_hour(driver: Driver, clock: SimulatedClock) -> None:
    driver.say("orga", 'umfrage "Termin?" "März" "April"')
    clock.advance(timedelta(minutes=61))
    assert "Es wartet nichts" in driver.say("orga", "ja")
    assert _count(driver.bot, Poll) == 0


def test_sofort_skips_the_preview_but_stays_text_inside_an_announcement(driver: Driver) -> None:
    assert "Umfrage 1 ist angelegt" in driver.say("orga", 'umfrage "Q?" "A" "B" sofort')
    driver.messenger.transcript.clear()
    preview = driver.say("orga", "ankuendigen Bitte sofort antworten")
    assert "Vorschau" in preview and "Bitte sofort antworten" in preview
    assert _channel_posts(driver) == []
    assert "verschickt" in driver.say("orga", "ja")
    assert any("Bitte sofort antworten" in p for p in _channel_posts(driver))


def test_feedback_round_preview_names_what_was_read(driver: Driver) -> None:
    preview = driver.say(
        "orga", 'feedback starten titel="Quartier Nord" fuer=@ben bis="in 10 Tagen 18 Uhr" anonym'
    )
    assert "Quartier Nord" in preview and "Anonym: ja" in preview and "Schluss:" in preview
    assert _count(driver.bot, FeedbackRound) == 0
    assert driver.messenger.texts("dm") == []
    assert "ist offen" in driver.say("orga", "ja")
    assert _count(driver.bot, FeedbackRound) == 1


def test_a_bad_poll_is_refused_before_the_preview(driver: Driver) -> None:
    answer = driver.say("orga", 'umfrage "Nur eine?" "A"')
    assert "2 bis 20 Optionen" in answer
    assert "Es wartet nichts" in driver.say("orga", "ja")


def test_english_yes(driver: Driver) -> None:
    driver.say("orga", "sprache en")
    preview = driver.say("orga", 'umfrage "Which topic?" "Housing" "Care"')
    assert "Preview" in preview and "Nothing has been published yet" in preview
    assert "Poll 1" in driver.say("orga", "yes")
    assert _count(driver.bot, Poll) == 1


def test_a_bare_ja_answers_the_question_just_asked(driver: Driver) -> None:
    """'Zum Bestätigen: vergessen ja' — people type just 'ja': it confirms that question, for
    the person asked and only there."""
    assert "Wirklich" in driver.say("orga", "teilnehmende entfernen @ben")
    assert "Es wartet nichts" in driver.say("anna", "ja")  # not hers to confirm
    assert "Ben Muster wurde entfernt" in driver.say("orga", "ja")
    assert "Wirklich alles löschen" in driver.say("anna", "vergessen", dm=True)
    assert "gelöscht" in driver.say("anna", "ja", dm=True)
    assert "wirklich abschließen" in driver.say("orga", "jahrgang abschliessen")
    assert "ist abgeschlossen" in driver.say("orga", "ja")
    assert "Es wartet nichts" in driver.say("orga", "ja")  # used up
