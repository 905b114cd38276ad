"""Build correctly signed (or deliberately forged / stale) Slack HTTP requests for a bolt app.

Every builder returns a :class:`SignedRequest` (``body`` bytes + ``headers``) shaped like
what Slack sends; :func:`post` delivers it with urllib and :func:`serve_wsgi` runs a WSGI
app (e.g. ``slack_bolt.adapter.wsgi.SlackRequestHandler(app)``) on 127.0.0.1 in a thread.
"""

from __future__ import annotations

import itertools
import json
import shlex
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server
from wsgiref.types import WSGIApplication

from slack_sdk.signature import SignatureVerifier

from bot.actions import CommandAction, encode

from .slack_double_models import APP_ID, BOT_USER_ID, TEAM_ID

SIGNING_SECRET = "stadtlabor-test-signing-secret"
VERIFICATION_TOKEN = "legacy-verification-token"
COMMAND = "/stadtlabor"
STALE_AFTER_SECONDS = 5 * 60
_FORM = "application/x-www-form-urlencoded"
_JSON = "application/json"
_ids = itertools.count(1)


@dataclass(frozen=True)
class SignedRequest:
    """A request body plus the headers Slack would send with it."""

    body: bytes
    headers: dict[str, str]

    def json_payload(self) -> Any:
        """The decoded JSON (event body, or the ``payload`` form field of interactions)."""
        if self.headers["Content-Type"] == _JSON:
            return json.loads(self.body)
        fields = dict(urllib.parse.parse_qsl(self.body.decode()))
        return json.loads(fields["payload"]) if "payload" in fields else fields


@dataclass(frozen=True)
class Response:
    status: int
    headers: dict[str, str]
    body: bytes

    @property
    def text(self) -> str:
        return self.body.decode("utf-8")

    def json(self) -> Any:
        return json.loads(self.body)


def _trigger_id() -> str:
    return f"{next(_ids)}.{int(time.time())}.trigger{next(_ids):06d}"


def sign(
    body: bytes,
    content_type: str,
    *,
    secret: str = SIGNING_SECRET,
    timestamp: int | None = None,
    forge: bool = False,
    stale: bool = False,
) -> dict[str, str]:
    """Headers for ``body``. ``forge`` signs with a wrong secret; ``stale`` dates the request
    more than five minutes back (bolt rejects both with 401)."""
    if timestamp is None:
        timestamp = int(time.time()) - (STALE_AFTER_SECONDS + 60 if stale else 0)
    key = secret + "-forged" if forge else secret
    signature = SignatureVerifier(key).generate_signature(timestamp=str(timestamp), body=body)
    assert signature is not None
    return {
        "Content-Type": content_type,
        "X-Slack-Request-Timestamp": str(timestamp),
        "X-Slack-Signature": signature,
    }


def _signed(body: str, content_type: str, options: Mapping[str, Any]) -> SignedRequest:
    raw = body.encode("utf-8")
    return SignedRequest(raw, sign(raw, content_type, **options))


def _user(user_id: str, user_name: str) -> dict[str, str]:
    return {"id": user_id, "username": user_name, "name": user_name, "team_id": TEAM_ID}


def slash_command(
    text: str,
    user_id: str = "U0ANNA",
    channel_id: str = "C0GENERAL",
    *,
    command: str = COMMAND,
    user_name: str = "anna",
    channel_name: str = "general",
    trigger_id: str | None = None,
    response_url: str = "https://hooks.slack.invalid/commands/T0001/1/x",
    **sign_options: Any,
) -> SignedRequest:
    """Form-encoded slash command; ``sign_options`` go to :func:`sign`."""
    form = {
        "token": VERIFICATION_TOKEN,
        "team_id": TEAM_ID,
        "team_domain": "stadtlabor-test",
        "channel_id": channel_id,
        "channel_name": channel_name,
        "user_id": user_id,
        "user_name": user_name,
        "command": command,
        "text": text,
        "api_app_id": APP_ID,
        "is_enterprise_install": "false",
        "response_url": response_url,
        "trigger_id": trigger_id or _trigger_id(),
    }
    return _signed(urlencode(form), _FORM, sign_options)


def _interaction(payload: dict[str, Any], sign_options: Mapping[str, Any]) -> SignedRequest:
    payload = {
        "api_app_id": APP_ID,
        "token": VERIFICATION_TOKEN,
        "team": {"id": TEAM_ID, "domain": "stadtlabor-test"},
        "enterprise": None,
        "is_enterprise_install": False,
        **payload,
    }
    return _signed(urlencode({"payload": json.dumps(payload)}), _FORM, sign_options)


def command_value(line: str) -> str:
    """The typed action a "run this command" button for ``line`` carries (its words as plain
    arguments): a test clicks — or forges — such a button without the bot's message."""
    words = shlex.split(line)
    return encode(CommandAction(words[0], tuple(words[1:])))


def command_click(line: str, **options: Any) -> SignedRequest:
    """A click on a button carrying :func:`command_value` of ``line``."""
    return block_actions("act:cmd:0", command_value(line), **options)


def block_actions(
    action_id: str,
    value: str | None = None,
    user_id: str = "U0ANNA",
    channel_id: str = "C0GENERAL",
    message_ts: str = "1700000000.000100",
    trigger_id: str | None = None,
    *,
    block_id: str = "actions",
    action_type: str = "button",
    view: dict[str, Any] | None = None,
    user_name: str = "anna",
    **sign_options: Any,
) -> SignedRequest:
    """A ``block_actions`` interaction (a button click) on a message, or inside ``view``."""
    action: dict[str, Any] = {
        "action_id": action_id,
        "block_id": block_id,
        "type": action_type,
        "action_ts": f"{time.time():.6f}",
    }
    if value is not None:
        action["value"] = value
    if action_type == "button":
        action["text"] = {"type": "plain_text", "text": action_id}
    payload: dict[str, Any] = {
        "type": "block_actions",
        "user": _user(user_id, user_name),
        "trigger_id": trigger_id or _trigger_id(),
        "actions": [action],
    }
    if view is not None:
        payload["container"] = {"type": "view", "view_id": view.get("id", "V0VIEW")}
        payload["view"] = view
    else:
        payload["container"] = {
            "type": "message",
            "message_ts": message_ts,
            "channel_id": channel_id,
            "is_ephemeral": False,
        }
        payload["channel"] = {"id": channel_id, "name": "general"}
        payload["message"] = {"type": "message", "ts": message_ts, "user": BOT_USER_ID, "text": ""}
        payload["response_url"] = "https://hooks.slack.invalid/actions/T0001/1/x"
    return _interaction(payload, sign_options)


def view_submission(
    callback_id: str,
    values: Mapping[str, Mapping[str, Any]],
    user_id: str = "U0ANNA",
    private_metadata: str = "",
    *,
    view_id: str = "V0VIEW",
    trigger_id: str | None = None,
    user_name: str = "anna",
    **sign_options: Any,
) -> SignedRequest:
    """A modal submission. ``values`` is ``{block_id: {action_id: state}}``; a plain string
    state is shorthand for ``{"type": "plain_text_input", "value": s}``."""
    state = {
        block_id: {
            action_id: ({"type": "plain_text_input", "value": v} if isinstance(v, str) else dict(v))
            for action_id, v in actions.items()
        }
        for block_id, actions in values.items()
    }
    view: dict[str, Any] = {
        "id": view_id,
        "team_id": TEAM_ID,
        "type": "modal",
        "callback_id": callback_id,
        "private_metadata": private_metadata,
        "blocks": [],
        "state": {"values": state},
        "hash": "1700000000.abcdef",
        "title": {"type": "plain_text", "text": "Stadtlabor"},
        "root_view_id": view_id,
        "previous_view_id": None,
        "app_id": APP_ID,
        "bot_id": "B0BOT",
    }
    payload = {
        "type": "view_submission",
        "user": _user(user_id, user_name),
        "trigger_id": trigger_id or _trigger_id(),
        "view": view,
        "response_urls": [],
    }
    return _interaction(payload, sign_options)


def event_callback(
    event: dict[str, Any],
    event_id: str | None = None,
    retry_num: int | None = None,
    *,
    retry_reason: str = "http_timeout",
    **sign_options: Any,
) -> SignedRequest:
    """An Events API delivery (JSON). With ``retry_num`` it carries Slack's retry headers."""
    body = {
        "token": VERIFICATION_TOKEN,
        "team_id": TEAM_ID,
        "api_app_id": APP_ID,
        "event": event,
        "type": "event_callback",
        "event_id": event_id or f"Ev{next(_ids):08d}",
        "event_time": int(time.time()),
        "authorizations": [
            {
                "enterprise_id": None,
                "team_id": TEAM_ID,
                "user_id": BOT_USER_ID,
                "is_bot": True,
                "is_enterprise_install": False,
            }
        ],
        "is_ext_shared_channel": False,
    }
    request = _signed(json.dumps(body), _JSON, sign_options)
    if retry_num is not None:
        request.headers["X-Slack-Retry-Num"] = str(retry_num)
        request.headers["X-Slack-Retry-Reason"] = retry_reason
    return request


def url_verification(challenge: str, **sign_options: Any) -> SignedRequest:
    body = {"token": VERIFICATION_TOKEN, "challenge": challenge, "type": "url_verification"}
    return _signed(json.dumps(body), _JSON, sign_options)


def post(url: str, body: bytes, headers: Mapping[str, str], timeout: float = 10.0) -> Response:
    """POST and return the response, also for 4xx/5xx answers (no exception)."""
    request = urllib.request.Request(url, data=body, headers=dict(headers), method="POST")
    try:
        with urllib.request.urlopen(request, timeout=timeout) as resp:
            return Response(resp.status, dict(resp.headers.items()), resp.read())
    except urllib.error.HTTPError as err:
        return Response(err.code, dict(err.headers.items()), err.read())


def post_signed(url: str, request: SignedRequest, timeout: float = 10.0) -> Response:
    return post(url, request.body, request.headers, timeout)


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass


@contextmanager
def serve_wsgi(app: WSGIApplication, path: str = "/slack/events") -> Iterator[str]:
    """Serve ``app`` on 127.0.0.1 (free port) in a thread; yield the URL of ``path``."""
    server: WSGIServer = make_server("127.0.0.1", 0, app, handler_class=_QuietHandler)
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}{path}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
