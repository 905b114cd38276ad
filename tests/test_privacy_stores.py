"""One list of personal-data stores (meine-daten, vergessen), posts edited after an erasure,
platform bookkeeping removed, and persons who never registered purged after 30 days."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from app import Bot
from bot.clock import SimulatedClock
from bot.i18n import translator
from bot.services import privacy
from storage.models import Dialog, KeyValue, Person, PlatformIdentity
from storage.models_reminders import ChannelPacing
from tests.helpers import Driver, signup
from tests.test_privacy_scan import _current_console_texts


@pytest.fixture
def driver(bot: Bot) -> Driver:
    d = Driver(bot)
    d.say("orga", 'jahrgang anlegen "Datenschutz" plaetze=3')
    return d


def _named_poll_closed(driver: Driver) -> None:
    driver.say("hilde", signup("hilde", name='"Hilde Abstimmerin"', kommune="Zwiebelhausen"))
    driver.say("ben", signup("ben"))
    driver.say("orga", 'umfrage "Welches Thema?" "Wohnen" "Pflege" sofort')
    driver.say("hilde", "abstimmen 1 2")
    driver.say("ben", "abstimmen 1 1")
    driver.say("orga", "umfrage schliessen 1")
    shown = "\n".join(_current_console_texts(driver.messenger))
    assert "Hilde Abstimmerin" in shown  # the closed named poll names its voters


def _poll_posts(driver: Driver) -> str:
    return "\n".join(t for t in _current_console_texts(driver.messenger) if "Welches Thema" in t)


def test_the_post_of_a_closed_named_poll_no_longer_names_an_erased_voter(driver: Driver) -> None:
    _named_poll_closed(driver)
    driver.say("hilde", "vergessen ja")
    posts = _poll_posts(driver)
    assert posts and "Hilde Abstimmerin" not in posts and "Person-" in posts
    assert "Zwiebelhausen" not in "\n".join(_current_console_texts(driver.messenger))
    assert "Ben Muster" in posts  # the others stay named


def test_the_retention_purge_edits_the_closed_poll_post_too(driver: Driver, bot: Bot) -> None:
    _named_poll_closed(driver)
    driver.say("orga", "jahrgang abschliessen ja")
    assert isinstance(bot.clock, SimulatedClock)
    bot.clock.advance(timedelta(days=366))
    with bot.uow_factory() as uow:
        now = bot.clock.now()
        assert privacy.purge_expired(uow, now=now, retention_days=365, default_language="de")
        uow.commit()
    driver.flush()
    posts = _poll_posts(driver)
    assert posts and "Hilde Abstimmerin" not in posts and "Ben Muster" not in posts


def test_my_data_lists_every_store_that_forget_erases(driver: Driver) -> None:
    driver.say("hilde", signup("hilde"))
    driver.say("hilde", "erinnern morgen 9 Uhr; Anreise", dm=True)
    driver.say("hilde", "meine-daten")
    summary = [s for s in driver.messenger.transcript if s.kind == "file"][-1]
    confirmation = driver.say("hilde", "vergessen")
    for store in privacy.STORES:  # one list: shown by meine-daten and named by vergessen
        assert store.label in summary.text, store.name
        assert store.label in confirmation, store.name
    data = json.loads(summary.content or b"")
    assert {"anmeldungen", "kennungen", "person", "reminders", "technisch"} <= set(data)
    # times as in every other answer: the person's time zone, in words
    assert "Donnerstag, 26. November 2026, 09:00 Uhr" in summary.text
    assert "angemeldet Mittwoch, 25. November 2026, 12:00 Uhr" in summary.text
    assert "+00:00" not in summary.text and "T09:00" not in summary.text


def test_my_data_speaks_english_to_english_users(driver: Driver) -> None:
    driver.say("hilde", signup("hilde"))
    driver.say("hilde", "sprache en")
    driver.say("hilde", "erinnern morgen 9 Uhr; Anreise", dm=True)
    driver.say("hilde", "meine-daten")
    summary = [s for s in driver.messenger.transcript if s.kind == "file"][-1].text
    english = translator("en")
    for store in privacy.STORES:
        assert english(store.label) != store.label, f"no English for {store.label!r}"
        assert english(store.label) in summary
    for word in ("Ihre gespeicherten Daten", "Kennungen", "Erinnerung:", "bestätigt", "Uhr"):
        assert word not in summary, word
    assert "Thursday, 26 November 2026, 09:00" in summary and "confirmed" in summary


def test_forget_removes_link_codes_dm_rooms_and_pacing_rows(driver: Driver, bot: Bot) -> None:
    driver.say("hilde", signup("hilde"))
    assert "verknuepfen" in driver.say("hilde", "verknuepfen", dm=True)  # a code, for her
    now = bot.clock.now()
    with bot.uow_factory() as uow:
        hilde = uow.persons.get_by_identity("console", "hilde")
        assert hilde is not None
        uow.session.add(
            PlatformIdentity(person_id=hilde.id, platform="matrix", external_id="@hilde:ex.org")
        )
        uow.state.put("matrix:dm:@hilde:ex.org", "!hildes-room:ex.org")
        uow.state.put("matrix:dm:@other:ex.org", "!other-room:ex.org")
        for channel in ("console:hilde", "matrix:@hilde:ex.org", "C0GENERAL"):
            uow.session.add(ChannelPacing(platform="console", channel=channel, next_at=now))
        uow.commit()
    driver.say("hilde", "meine-daten")
    export = [s for s in driver.messenger.transcript if s.kind == "file"][-1].content
    assert any(k.startswith("link:") for k in json.loads(export or b"")["technisch"])
    driver.say("hilde", "vergessen ja")
    bot.due.run_due(bot.clock.now())
    with bot.uow_factory() as uow:
        keys = list(uow.session.scalars(select(KeyValue.key)))
        channels = list(uow.session.scalars(select(ChannelPacing.channel)))
    assert not [k for k in keys if k.startswith("link:")]
    assert "matrix:dm:@hilde:ex.org" not in keys and "matrix:dm:@other:ex.org" in keys
    assert channels == ["C0GENERAL"]


def test_persons_who_never_registered_are_purged_after_30_days(driver: Driver, bot: Bot) -> None:
    driver.say("gast", "hilfe")
    assert "Name" in driver.say("zoegernd", "anmelden", dm=True)  # a dialog, abandoned
    driver.say("anna", signup("anna"))
    assert isinstance(bot.clock, SimulatedClock)

    def persons() -> int:
        with bot.uow_factory() as uow:
            return int(uow.session.scalar(select(func.count()).select_from(Person)) or 0)

    count = persons()
    bot.clock.advance(timedelta(days=29))
    bot.due.run_due(bot.clock.now())
    assert persons() == count
    bot.clock.advance(timedelta(days=2))
    bot.due.run_due(bot.clock.now())
    assert persons() == count - 2
    with bot.uow_factory() as uow:
        assert uow.persons.get_by_identity("console", "gast") is None
        assert uow.persons.get_by_identity("console", "zoegernd") is None
        assert uow.session.scalar(select(func.count()).select_from(Dialog)) == 0
        assert uow.persons.get_by_identity("console", "anna") is not None  # registered: stays
        assert uow.persons.get_by_identity("console", "orga") is not None  # organiser: stays


def test_an_office_contact_is_not_purged_as_a_stranger(driver: Driver, bot: Bot) -> None:
    """The Büroleitung only ever typed ``hilfe``, but a participant named them: they get the
    copies of meeting notices, so the 30-day purge of strangers must keep them."""
    driver.say("dora", "hilfe")
    driver.say("anna", signup("anna") + " bueroleitung=@dora")
    assert isinstance(bot.clock, SimulatedClock)
    bot.clock.advance(timedelta(days=45))
    bot.due.run_due(bot.clock.now())
    with bot.uow_factory() as uow:
        assert uow.persons.get_by_identity("console", "dora") is not None
