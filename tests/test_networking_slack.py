"""Networking over Slack (signed requests to the running bolt app, the Web API double)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest

from app import build_bot
from bot.clock import SimulatedClock
from handlers.slack.runner import SlackConfig, SlackRuntime
from tests.helpers import make_settings
from tests.support import slack_requests as sr
from tests.support.slack_double import PostedMessage, SlackDouble
from tests.test_slack_cohort_flow import GENERAL, ORGA, PEOPLE, Flow, _buttons, _signup, _texts


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


def _modal(flow: Flow, needle: str) -> dict[str, Any] | None:
    """The opened modal showing ``needle`` (the Home tab's views are published meanwhile)."""
    found = [
        v
        for v in flow.slack.views()
        if v.get("type") == "modal" and needle in _texts(v.get("blocks") or [])
    ]
    return found[-1] if found else None


def test_tandem_question_buttons_and_modal_over_slack(flow: Flow) -> None:
    """At the deadline the DM asks with buttons; "Ja" opens a modal; the insight reaches the
    organisers' rate without a name, as promised in the DM."""
    anna, ben = PEOPLE[:2]
    flow.answer(ORGA, 'jahrgang anlegen "Tandems Slack" plaetze=5')
    for n, person in enumerate((anna, ben)):
        flow.answer(person, _signup(person, n))
    assert "Tandem-Runde 1" in flow.answer(ORGA, "tandems starten bis=30.11.2026")
    flow.bot.due.run_due(flow.clock.advance(timedelta(days=6)))
    asked = flow.wait(
        lambda: [
            m
            for m in flow.slack.messages(flow.slack.dm_channel_for(anna.id))
            if "Haben Sie sich mit" in _texts(m.blocks or [])
        ]
    )
    assert "Person 01" in _texts(asked[0].blocks or [])
    (yes,) = [b for b in _buttons(asked[0]) if b["text"]["text"] == "Ja"]
    flow.send(
        sr.block_actions(
            yes["action_id"],
            yes["value"],
            user_id=anna.id,
            channel_id=flow.slack.dm_channel_for(anna.id),
            message_ts=asked[0].ts,
            user_name=anna.display_name,
        )
    )
    view = flow.wait(lambda: _modal(flow, "Erkenntnis"))
    values: dict[str, dict[str, Any]] = {
        "erkenntnis": {"value": "Ein Seniorenbeirat braucht ein eigenes Budget."},
        "namen": {"value": {"type": "static_select", "selected_option": {"value": "1"}}},
    }
    flow.send(
        sr.view_submission(
            "stadtlabor_form", values, anna.id, view["private_metadata"], view_id="V0TANDEM"
        )
    )
    status = flow.wait(
        lambda: (s := flow.answer(ORGA, "tandems stand")) and "Seniorenbeirat" in s and s
    )
    assert "1 von 1 Tandems haben sich ausgetauscht" in status
    assert "Antworten: 1 von 2 (ja: 1, nein: 0)" in status and "Person 00" not in status


def test_checkin_button_and_modal_over_slack(flow: Flow) -> None:
    """The monthly DM's "Antworten" opens a modal with the three questions; the shared answer
    is what another participant reads with "checkins"."""
    anna, ben = PEOPLE[:2]
    flow.answer(ORGA, 'jahrgang anlegen "Check-ins Slack" plaetze=5')
    for n, person in enumerate((anna, ben)):
        flow.answer(person, _signup(person, n))
    flow.answer(anna, 'profil aendern vorhaben="Seniorenbüro im Rathaus"')
    assert "jeden ersten Montag" in flow.answer(ORGA, "checkin tag an")
    flow.bot.due.run_due(flow.clock.advance(timedelta(days=12)))
    asked = flow.wait(
        lambda: [
            m
            for m in flow.slack.messages(flow.slack.dm_channel_for(anna.id))
            if "Seniorenbüro im Rathaus" in _texts(m.blocks or [])
        ]
    )
    (button,) = _buttons(asked[0])
    flow.send(
        sr.block_actions(
            button["action_id"],
            button["value"],
            user_id=anna.id,
            channel_id=flow.slack.dm_channel_for(anna.id),
            message_ts=asked[0].ts,
            user_name=anna.display_name,
        )
    )
    view = flow.wait(lambda: _modal(flow, "Was ist vorangekommen?"))
    values: dict[str, dict[str, Any]] = {
        "a1": {"value": "Raum gefunden"},
        "a2": {"value": "Personal fehlt"},
        "a3": {"value": "Beispiele anderer Kommunen"},
        "teilen": {"value": {"type": "static_select", "selected_option": {"value": "2"}}},
    }
    flow.send(
        sr.view_submission(
            "stadtlabor_form", values, anna.id, view["private_metadata"], view_id="V0CHECKIN"
        )
    )
    seen = flow.wait(lambda: (s := flow.answer(ben, "checkins")) and "Personal fehlt" in s and s)
    assert "Person 00 (Kommune 00): „Seniorenbüro im Rathaus“" in seen
