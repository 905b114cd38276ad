"""Signed request builders against a real bolt App served over WSGI on 127.0.0.1."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from slack_bolt import Ack, App, BoltRequest
from slack_bolt.adapter.wsgi import SlackRequestHandler
from slack_sdk import WebClient

from tests.support import slack_requests as sr
from tests.support.slack_double import SlackDouble


@dataclass
class Seen:
    commands: list[dict[str, Any]] = field(default_factory=list)
    actions: list[dict[str, Any]] = field(default_factory=list)
    views: list[dict[str, Any]] = field(default_factory=list)
    events: list[tuple[dict[str, Any], str | None]] = field(default_factory=list)


@dataclass
class BoltServer:
    url: str
    seen: Seen
    slack: SlackDouble


@pytest.fixture
def bolt() -> Iterator[BoltServer]:
    seen = Seen()
    with SlackDouble() as slack:
        app = App(
            signing_secret=sr.SIGNING_SECRET,
            client=WebClient(base_url=slack.base_url, token="xoxb-test"),
            process_before_response=True,
        )

        @app.command(sr.COMMAND)
        def on_command(ack: Ack, command: dict[str, Any]) -> None:
            seen.commands.append(command)
            ack(f"echo: {command['text']}")

        @app.action("checkin")
        def on_action(ack: Ack, body: dict[str, Any]) -> None:
            seen.actions.append(body)
            ack()

        @app.view("feedback")
        def on_view(ack: Ack, view: dict[str, Any]) -> None:
            seen.views.append(view)
            ack(response_action="errors", errors={"mood": "bitte ausfüllen"})

        @app.event("message")
        def on_message(event: dict[str, Any], request: BoltRequest) -> None:
            retry = request.headers.get("x-slack-retry-num")
            seen.events.append((event, retry[0] if retry else None))

        with sr.serve_wsgi(SlackRequestHandler(app)) as url:
            yield BoltServer(url, seen, slack)


def test_slash_command_reaches_listener(bolt: BoltServer) -> None:
    request = sr.slash_command("checkin heute", user_id="U0ANNA", channel_id="C0GENERAL")
    resp = sr.post(bolt.url, request.body, request.headers)
    assert resp.status == 200 and resp.text == "echo: checkin heute"
    (command,) = bolt.seen.commands
    assert command["command"] == "/stadtlabor" and command["user_id"] == "U0ANNA"
    assert command["channel_id"] == "C0GENERAL" and command["trigger_id"]
    assert bolt.slack.calls("auth.test"), "bolt authorized against the double"


@pytest.mark.parametrize(("forge", "stale"), [(True, False), (False, True)])
def test_forged_or_stale_requests_are_rejected(bolt: BoltServer, forge: bool, stale: bool) -> None:
    request = sr.slash_command("hack", forge=forge, stale=stale)
    resp = sr.post_signed(bolt.url, request)
    assert resp.status == 401
    assert bolt.seen.commands == []


def test_tampered_body_is_rejected(bolt: BoltServer) -> None:
    request = sr.slash_command("harmless")
    resp = sr.post(bolt.url, request.body.replace(b"harmless", b"evil"), request.headers)
    assert resp.status == 401 and bolt.seen.commands == []


def test_block_actions_reach_listener(bolt: BoltServer) -> None:
    request = sr.block_actions("checkin", "yes", user_id="U0BERT", message_ts="1700000000.000200")
    assert sr.post_signed(bolt.url, request).status == 200
    (body,) = bolt.seen.actions
    assert body["actions"][0]["value"] == "yes" and body["user"]["id"] == "U0BERT"
    assert body["container"]["message_ts"] == "1700000000.000200"


def test_view_submission_values_and_response_action(bolt: BoltServer) -> None:
    request = sr.view_submission(
        "feedback", {"mood": {"mood_input": "gut"}}, user_id="U0ANNA", private_metadata='{"w": 3}'
    )
    resp = sr.post_signed(bolt.url, request)
    assert resp.status == 200
    assert resp.json() == {"response_action": "errors", "errors": {"mood": "bitte ausfüllen"}}
    (view,) = bolt.seen.views
    assert view["state"]["values"]["mood"]["mood_input"]["value"] == "gut"
    assert json.loads(view["private_metadata"]) == {"w": 3}


def test_event_callback_with_retry_headers(bolt: BoltServer) -> None:
    event = {
        "type": "message",
        "user": "U0ANNA",
        "channel": "D0ANNA",
        "text": "hallo",
        "ts": "1700000000.000300",
        "channel_type": "im",
    }
    first = sr.event_callback(event, event_id="Ev1")
    retry = sr.event_callback(event, event_id="Ev1", retry_num=1)
    assert retry.headers["X-Slack-Retry-Reason"] == "http_timeout"
    assert sr.post_signed(bolt.url, first).status == 200
    assert sr.post_signed(bolt.url, retry).status == 200
    assert [(e["text"], r) for e, r in bolt.seen.events] == [("hallo", None), ("hallo", "1")]
    assert sr.post_signed(bolt.url, sr.event_callback(event, forge=True)).status == 401
    assert len(bolt.seen.events) == 2


def test_url_verification_and_payload_decoding(bolt: BoltServer) -> None:
    resp = sr.post_signed(bolt.url, sr.url_verification("c-123"))
    assert resp.status == 200 and resp.json() == {"challenge": "c-123"}
    assert sr.block_actions("a", "v").json_payload()["actions"][0]["value"] == "v"
    assert sr.slash_command("t").json_payload()["text"] == "t"
