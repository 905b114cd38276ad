"""Networking over Slack (signed requests to the running bolt app, the Web API double)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from sqlalchemy import text

from app import build_bot
from bot.clock import SimulatedClock
from bot.outbox.send import send as outbox_send
from bot.views import Message
from handlers.slack.messenger import SlackMessenger
from handlers.slack.runner import SlackConfig, SlackRuntime
from storage.models import OutboxMessage
from tests.helpers import make_settings
from tests.support import slack_requests as sr
from tests.support.slack_double import PostedMessage, SlackDouble
from tests.support.slack_double_models import BOT_USER_ID
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
    assert "Ich habe Person 01 gefragt" in done, done
    ask = flow.wait(
        lambda: [
            m
            for m in flow.slack.messages(flow.slack.dm_channel_for(ben.id))
            if "möchte Sie gern kennenlernen" in _texts(m.blocks or [])
        ]
    )[0]
    assert "Person 00 (Kommune 00)" in _texts(ask.blocks or []) and "„Mobilität“" in _texts(
        ask.blocks or []
    )
    assert not flow.slack.group_dms()  # nothing is opened before Ben agrees
    (accept,) = [b for b in _buttons(ask) if b["text"]["text"] == "Annehmen"]
    flow.send(
        sr.block_actions(
            accept["action_id"],
            accept["value"],
            user_id=ben.id,
            channel_id=flow.slack.dm_channel_for(ben.id),
            message_ts=ask.ts,
            user_name=ben.display_name,
        )
    )
    (channel, members) = flow.wait(lambda: list(flow.slack.group_dms().items()))[0]
    assert members == sorted([anna.id, ben.id, BOT_USER_ID])
    posted = flow.wait(lambda: flow.slack.messages(channel))
    intro = _texts(posted[0].blocks or [])
    assert "Darf ich vorstellen: Person 00 (Kommune 00) und Person 01 (Kommune 01)" in intro
    assert "„Mobilität“" in intro and "3. " in intro
    told = flow.wait(lambda: [t for t in _dm_texts(flow, anna.id) if "angenommen" in t])
    assert "Person 01 hat Ihre Anfrage angenommen" in told[0]
    opened = [c for c in flow.slack.calls("conversations.open") if "," in str(c.args)]
    assert len(opened) == 1
    with flow.bot.engine.connect() as conn:
        stored = conn.execute(
            text("select conversation_platform, conversation_id from introductions")
        ).one()
    assert tuple(stored) == ("slack", channel)
    # Cara declines Anna's request: Anna hears one neutral sentence.
    flow.answer(anna, f"vorstellen <@{cara.id}>")
    flow.wait(lambda: [t for t in _dm_texts(flow, cara.id) if "kennenlernen" in t])
    flow.answer(cara, "vorstellen ablehnen")
    declined = flow.wait(lambda: [t for t in _dm_texts(flow, anna.id) if "nicht möglich" in t])
    assert declined[0].startswith("Eine Vorstellung bei Person 02 ist derzeit nicht möglich.")


def test_the_group_dm_is_opened_once_when_its_post_is_retried() -> None:
    """The outbox retries a group row whose post failed: the retry reuses the group DM."""
    anna, ben = PEOPLE[:2]
    with SlackDouble(users=[anna, ben]) as slack:
        messenger = SlackMessenger(WebClient(token="xoxb-test", base_url=slack.base_url))
        row = OutboxMessage(
            id=1,
            idempotency_key="intro-room:7",
            platform="slack",
            operation="group",
            target={"identities": [f"slack:{anna.id}", f"slack:{ben.id}"], "group": "x"},
            payload={"message": Message.text("Darf ich vorstellen").to_dict()},
        )
        slack.fail_next("chat.postMessage", status=500)
        with pytest.raises(SlackApiError):
            outbox_send(row, messenger)
        ref = outbox_send(row, messenger)
        assert ref is not None and ref.channel_id.startswith("G")
        assert len(slack.calls("conversations.open")) == 1
        assert [m.text for m in slack.messages(ref.channel_id)] == ["Darf ich vorstellen"]
        assert slack.group_dms()[ref.channel_id] == sorted([anna.id, ben.id, BOT_USER_ID])


def test_the_double_refuses_a_group_dm_without_the_scope() -> None:
    """The double checks the manifest's scope, so a missing ``mpim:write`` would fail here."""
    anna, ben = PEOPLE[:2]
    with SlackDouble(users=[anna, ben]) as slack:
        slack.state.scopes.discard("mpim:write")
        client = WebClient(token="xoxb-test", base_url=slack.base_url)
        with pytest.raises(SlackApiError, match="missing_scope"):
            client.conversations_open(users=f"{anna.id},{ben.id}")
        assert client.conversations_open(users=anna.id)["channel"]["id"].startswith("D")


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
