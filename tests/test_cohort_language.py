"""One language per audience: channel posts in the cohort's language, answers in the person's."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from app import Bot
from bot.clock import SimulatedClock
from storage.models import Cohort
from tests.helpers import Driver, signup


@pytest.fixture
def driver(bot: Bot) -> Driver:
    d = Driver(bot)
    answer = d.say("orga", 'jahrgang anlegen "Urban Lab" plaetze=5 sprache=en')
    assert "angelegt" in answer  # the German organiser is answered in German
    for name in ("anna", "ben", "cara"):
        d.say(name, signup(name))
    d.messenger.transcript.clear()
    return d


def test_the_cohort_keeps_its_language(driver: Driver) -> None:
    with driver.bot.uow_factory() as uow:
        cohort = uow.session.scalars(select(Cohort)).one()
        assert cohort.language == "en"
    assert "Beiträge im Kanal: auf Englisch" in driver.say("orga", "jahrgang")


def test_posts_follow_the_cohort_not_the_german_organiser(
    driver: Driver, clock: SimulatedClock
) -> None:
    answer = driver.say("orga", 'umfrage "Welches Thema?" "Wohnen" "Pflege" sofort')
    assert "Umfrage 1 ist angelegt" in answer  # private answer: the caller's language
    post = driver.messenger.texts("post")[-1]
    assert "Poll 1" in post and "Umfrage" not in post
    driver.say("anna", "abstimmen 1 1")
    driver.say("orga", "umfrage 1 schliessen")
    summary = "\n".join(driver.messenger.texts("post"))
    assert "Poll 1 is closed" in summary, summary
    driver.say(
        "orga",
        'treffen anlegen titel="Spring meeting" von="3.3.2027 10 Uhr" bis="4.3.2027 16 Uhr"',
    )
    assert "1" in driver.say("orga", "agenda posten 1")
    agenda = driver.messenger.texts("post")[-1]
    assert "Day 1" in agenda and "Tag 1" not in agenda


def test_bad_language_is_refused(bot: Bot) -> None:
    driver = Driver(bot)
    answer = driver.say("orga", 'jahrgang anlegen "Lab" sprache=fr')
    assert "sprache= ist de (Deutsch) oder en (Englisch)" in answer
    with bot.uow_factory() as uow:
        assert uow.session.scalars(select(Cohort)).all() == []


def test_english_reminder_in_the_channel(driver: Driver, clock: SimulatedClock) -> None:
    driver.say("orga", "erinnern kanal morgen 9 Uhr; Bitte Berichte schicken")
    clock.advance(timedelta(days=2))
    driver.bot.due.run_due(clock.now())
    driver.flush()
    posts = driver.messenger.texts("post")
    assert posts and "Bitte Berichte schicken" in posts[-1]
    assert "Erinnerung" not in posts[-1]


def test_a_prepared_channel_reminder_is_in_the_cohort_language(driver: Driver) -> None:
    """The engine's plans made ahead (bot.scheduling.prepare) render like the handler."""
    from bot.scheduling import prepare
    from storage.models import Reminder

    driver.say("orga", "erinnern kanal morgen 9 Uhr; Bitte Berichte schicken")
    with driver.bot.uow_factory() as uow:
        row = uow.session.scalars(select(Reminder).where(Reminder.kind == "channel")).one()
        snap = prepare.Snapshot(
            row.id, row.due_at, row.kind, row.person_id, row.cohort_id, row.text, None, "{}"
        )
        row_id = row.id
        plans = prepare.plan_rows(uow.session, driver.bot.settings, [snap])
    text = str(plans[row_id])
    assert "Reminder: Bitte Berichte schicken" in text
    assert "Erinnerung:" not in text
