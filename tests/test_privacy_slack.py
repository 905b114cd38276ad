"""Slack and privacy: a stored modal (with the name and e-mail it was filled with) is dropped
when submitted, cancelled, after 24 hours and on erasure; the Home refresh after ``vergessen``
brings nobody back. Over signed HTTP against the Slack Web API double."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import insert, select

from app import Bot
from bot.clock import SimulatedClock
from handlers.slack.runner import SlackConfig, SlackRuntime
from storage.models import KeyValue, Person
from tests.helpers import Driver, wait_for
from tests.support import slack_requests as sr
from tests.support.slack_double import SlackDouble, SlackUser

ANNA = SlackUser(id="U0ANNA", real_name="Annegret Formular", display_name="annegret")


@dataclass
class Running:
    bot: Bot
    slack: SlackDouble
    url: str
    runtime: SlackRuntime

    def send(self, request: sr.SignedRequest) -> None:
        assert sr.post_signed(self.url, request).status == 200

    def open_registration(self) -> dict[str, Any]:
        """``anmelden`` in Slack opens the registration modal, filled with her Slack name."""
        opened = len(self.slack.calls("views.open"))
        self.send(sr.slash_command("anmelden", ANNA.id, "C0GENERAL", trigger_id="T-1"))
        calls = wait_for(lambda: self.slack.calls("views.open")[opened:], what="modal")
        view: dict[str, Any] = calls[0].args["view"]
        return view

    def forms(self) -> dict[str, str]:
        with self.bot.uow_factory() as uow:
            rows = uow.session.scalars(select(KeyValue).where(KeyValue.key.like("slack:form:%")))
            return {row.key: row.value for row in rows}


@pytest.fixture
def running(bot: Bot) -> Iterator[Running]:
    Driver(bot).say("orga", 'jahrgang anlegen "Formulare" plaetze=3')
    with SlackDouble(users=[ANNA]) as slack:
        config = SlackConfig(
            bot_token="xoxb-test", signing_secret=sr.SIGNING_SECRET, api_url=slack.base_url
        )
        runtime = SlackRuntime(bot, config, pace=0.01, flush_interval=0.05)
        runtime.listeners.home.delay = runtime.listeners.home.organiser_delay = 0.02
        url = runtime.start_http("127.0.0.1", 0)
        yield Running(bot, slack, url, runtime)
        runtime.stop()


def _closed(view: dict[str, Any]) -> sr.SignedRequest:
    payload = {
        "type": "view_closed",
        "user": {"id": ANNA.id, "username": ANNA.display_name, "team_id": "T0001"},
        "view": {**view, "id": "V0CLOSED", "state": {"values": {}}},
        "is_cleared": False,
    }
    return sr._interaction(payload, {})


def test_a_form_is_kept_with_its_owner_and_dropped_when_submitted(running: Running) -> None:
    view = running.open_registration()
    (stored,) = running.forms().values()
    assert "Annegret Formular" in stored and json.loads(stored)["owner"] == "slack:U0ANNA"
    values: dict[str, dict[str, Any]] = {
        "name": {"value": "Annegret Formular"},
        "kommune": {"value": "Formstadt"},
        "funktion": {"value": {"type": "static_select", "selected_option": {"value": "1"}}},
        "email": {"value": "annegret@form.de"},
        "zustimmung": {"value": {"type": "checkboxes", "selected_options": [{"value": "ja"}]}},
    }
    running.send(
        sr.view_submission(
            "stadtlabor_form", values, ANNA.id, view["private_metadata"], view_id="V0SUBMIT"
        )
    )
    assert running.forms() == {}
    with running.bot.uow_factory() as uow:
        assert uow.participants.of_person(uow.persons.get_by_identity("slack", ANNA.id).id)  # type: ignore[union-attr]


def test_a_cancelled_form_is_dropped(running: Running) -> None:
    view = running.open_registration()
    assert view.get("notify_on_close") is True  # else Slack never tells us
    assert len(running.forms()) == 1
    running.send(_closed(view))
    assert running.forms() == {}


def test_an_open_form_is_dropped_after_a_day(running: Running, bot: Bot) -> None:
    running.open_registration()
    assert isinstance(bot.clock, SimulatedClock)
    bot.due.run_due(bot.clock.now() + timedelta(hours=22))
    assert len(running.forms()) == 1
    bot.due.run_due(bot.clock.now() + timedelta(hours=24))
    assert running.forms() == {}


def test_forget_drops_open_forms_and_the_home_refresh_does_not_bring_her_back(
    running: Running, bot: Bot
) -> None:
    running.open_registration()  # left open; she then registers with one line
    signup = 'anmelden name="Annegret Formular" kommune=Formstadt funktion=Bürgermeisterin'
    running.send(sr.slash_command(f"{signup} email=a@form.de zustimmung=ja", ANNA.id, "D0ANNA"))
    wait_for(lambda: "Platz 1" in str(running.slack.ephemerals(ANNA.id)), what="registered")
    assert len(running.forms()) == 1
    running.send(sr.slash_command("vergessen ja", ANNA.id, "D0ANNA"))
    wait_for(lambda: "kennt Sie nicht mehr" in str(running.slack.ephemerals(ANNA.id)))
    wait_for(
        lambda: (
            "/stadtlabor hilfe" in json.dumps(running.slack.home_view(ANNA.id), ensure_ascii=False)
        ),
        what="neutral Home tab",
    )
    wait_for(running.runtime.listeners.home.idle)
    assert running.forms() == {}
    with bot.uow_factory() as uow:
        assert uow.persons.get_by_identity("slack", ANNA.id) is None
        names = uow.session.scalars(select(Person.display_name)).all()
        assert "Annegret Formular" not in names
    home = json.dumps(running.slack.home_view(ANNA.id), ensure_ascii=False)
    assert "/stadtlabor hilfe" in home and "Platz" not in home


def test_the_upgrade_drops_forms_stored_without_owner_and_expiry(db_url: str) -> None:
    """Forms from before 0006_erasure cannot be found by erasure or expiry: they go."""
    from storage.db import create_db_engine
    from storage.migrate import upgrade

    engine = create_db_engine(db_url)
    try:
        upgrade(engine, "0005_reminders")
        old = json.dumps({"form_id": "registration", "fields": [{"initial": "Anna Alt"}]})
        new = json.dumps({"form": {}, "owner": "slack:U0NEW", "until": "2026-12-01T00:00:00"})
        with engine.begin() as conn:
            conn.execute(
                insert(KeyValue),
                [
                    {"key": "slack:form:open-old", "value": old},
                    {"key": "slack:form:open-new", "value": new},
                    {"key": "matrix:user_id", "value": "@bot:ex.org"},
                ],
            )
        upgrade(engine)
        with engine.connect() as conn:
            keys = set(conn.scalars(select(KeyValue.key)))
        assert keys == {"slack:form:open-new", "matrix:user_id"}
    finally:
        engine.dispose()
