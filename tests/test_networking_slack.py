"""Networking over Slack (signed requests to the running bolt app, the Web API double)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from app import build_bot
from bot.clock import SimulatedClock
from handlers.slack.runner import SlackConfig, SlackRuntime
from tests.helpers import make_settings
from tests.support import slack_requests as sr
from tests.support.slack_double import PostedMessage, SlackDouble
from tests.test_slack_cohort_flow import GENERAL, ORGA, PEOPLE, Flow, _signup, _texts


@pytest.fixture
def flow(sqlite_url: str, clock: SimulatedClock) -> Iterator[Flow]:
    """The bolt app over HTTP against the Slack double, as in test_slack_cohort_flow."""
    bot = build_bot(make_settings(sqlite_url, organizers="slack:U0ORGA"), clock)
    with SlackDouble(users=[ORGA, *PEOPLE[:3]]) as slack:
        config = SlackConfig(
            bot_token="xoxb-test", signing_secret=sr.SIGNING_SECRET, api_url=slack.base_url
        )
        runtime = SlackRuntime(bot, config, pace=0.05, flush_interval=0.1)
        url = runtime.start_http("127.0.0.1", 0)
        try:
            yield Flow(url, slack, bot, clock)
        finally:
            runtime.stop()
            bot.engine.dispose()


def _dm_texts(flow: Flow, user_id: str) -> list[str]:
    messages: list[PostedMessage] = flow.slack.messages(flow.slack.dm_channel_for(user_id))
    return [_texts(m.blocks or []) for m in messages]


def test_who_knows_and_introduce_over_slack(flow: Flow) -> None:
    anna, ben, cara = PEOPLE[:3]
    flow.answer(ORGA, 'jahrgang anlegen "Vernetzung Slack" plaetze=5')
    for n, person in enumerate((anna, ben, cara)):
        flow.answer(person, _signup(person, n))
    saved = flow.answer(ben, 'profil aendern themen="ÖPNV, Pflege" groesse=Mittelstadt')
    assert "Themen: Mobilität, Pflege" in saved, saved
    answer = flow.answer(anna, "wer kennt sich aus mit Mobilität")
    assert "Person 01 (Kommune 01) – Expertise: Mobilität" in answer, answer
    assert "Person 02" not in answer
    posted = [_texts(m.blocks or []) for m in flow.slack.messages(GENERAL)]
    assert not [t for t in posted if "Mobilität" in t]  # answered privately (ephemeral)
    assert 'vorstellen "Person 01" thema="Mobilität"' in answer  # the next step, ready to type
    done = flow.answer(anna, f"vorstellen <@{ben.id}> thema=Mobilität")
    assert "Direktnachricht" in done, done
    intro = flow.wait(lambda: [t for t in _dm_texts(flow, ben.id) if "Darf ich vorstellen" in t])
    assert "Person 00 (Kommune 00)" in intro[0] and "„Mobilität“" in intro[0]
    flow.answer(ben, "vorstellen ablehnen")
    told = flow.wait(lambda: [t for t in _dm_texts(flow, anna.id) if "nicht austauschen" in t])
    assert "Person 01 kann sich gerade leider nicht austauschen" in told[0]
