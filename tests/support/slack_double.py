"""A local, strict Slack Web API double served over real HTTP on 127.0.0.1.

Usage::

    with SlackDouble() as slack:
        client = WebClient(base_url=slack.base_url, token="xoxb-test")
        client.chat_postMessage(channel="C1", text="hi")
        assert slack.messages("C1")[0].text == "hi"

The method implementations live in :mod:`tests.support.slack_double_api`, the Block Kit
checks in :mod:`tests.support.slack_double_blocks` and the Socket Mode endpoint in
:mod:`tests.support.slack_double_socket`.
"""

from __future__ import annotations

import json
import math
import threading
import time
from collections.abc import Callable, Collection, Iterable
from dataclasses import dataclass, field
from email.parser import BytesParser
from email.policy import HTTP
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from .slack_double_api import (
    APP_ID,
    BOT_ID,
    BOT_USER_ID,
    TEAM_ID,
    ApiError,
    PostedMessage,
    SlackApiState,
    SlackUser,
    UploadedFile,
)
from .slack_double_socket import SocketModeEndpoint

__all__ = [
    "APP_ID",
    "BOT_ID",
    "BOT_USER_ID",
    "TEAM_ID",
    "Call",
    "PostedMessage",
    "SlackDouble",
    "SlackUser",
    "UploadedFile",
]

_SERVER_ERRORS = {500: "fatal_error", 502: "bad_gateway", 503: "service_unavailable"}


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 128  # the default 5 drops SYNs under concurrent clients (1 s stalls)


@dataclass(frozen=True)
class Call:
    """One recorded request. ``status``/``error`` describe what the double answered."""

    method: str
    args: dict[str, Any]
    headers: dict[str, str]
    time: float
    status: int = 200
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.status == 200 and self.error is None


@dataclass
class _Fault:
    status: int
    retry_after: int
    remaining: int


@dataclass
class _Bucket:
    rate: float  # tokens per second
    capacity: float
    tokens: float
    stamp: float

    def refill(self, now: float) -> None:
        self.tokens = min(self.capacity, self.tokens + (now - self.stamp) * self.rate)
        self.stamp = now

    def wait_time(self) -> float:
        return 0.0 if self.tokens >= 1.0 else (1.0 - self.tokens) / self.rate


@dataclass
class _RateLimits:
    per_channel_per_sec: float
    burst: int
    per_workspace_per_min: int
    workspace_burst: int
    channels: dict[str, _Bucket] = field(default_factory=dict)
    workspace: _Bucket | None = None


class SlackDouble:
    """Slack Web API double. Start with ``with`` or :meth:`start`; see module doc."""

    def __init__(
        self,
        *,
        valid_tokens: Collection[str] | None = None,
        users: Iterable[SlackUser] = (),
        strict_triggers: bool = True,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        """``valid_tokens=None`` accepts any ``xoxb-`` token (and ``xapp-`` for
        ``apps.connections.open``); ``strict_triggers`` makes trigger_ids single-use."""
        self.valid_tokens = None if valid_tokens is None else frozenset(valid_tokens)
        self._clock = clock
        self._lock = threading.RLock()
        self._calls: list[Call] = []
        self._faults: dict[str, list[_Fault]] = {}
        self._limits: _RateLimits | None = None
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None
        self.state = SlackApiState(
            public_url=lambda: self.root_url, strict_triggers=strict_triggers
        )
        self.socket_mode = SocketModeEndpoint()
        for user in users:
            self.add_user(user)

    # -- lifecycle ------------------------------------------------------------------
    def start(self) -> SlackDouble:
        if self._server is not None:
            return self
        server = _Server(("127.0.0.1", 0), _make_handler(self))
        self._server = server
        self._thread = threading.Thread(
            target=server.serve_forever, args=(0.05,), name="slack-double", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None
        self.socket_mode.stop()

    def __enter__(self) -> SlackDouble:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    @property
    def port(self) -> int:
        if self._server is None:
            raise RuntimeError("SlackDouble is not started")
        return int(self._server.server_address[1])

    @property
    def root_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/"

    @property
    def base_url(self) -> str:
        """Pass as ``WebClient(base_url=...)``; slack_sdk appends the method name."""
        return f"{self.root_url}api/"

    # -- configuration ----------------------------------------------------------------
    def add_user(self, user: SlackUser) -> None:
        with self._lock:
            self.state.users[user.id] = user

    def add_channel(self, channel_id: str, name: str, *, is_private: bool = False) -> None:
        with self._lock:
            self.state.channels[channel_id] = {
                "id": channel_id,
                "name": name,
                "is_channel": not is_private,
                "is_group": is_private,
                "is_im": False,
                "is_private": is_private,
                "is_member": True,
                "created": int(time.time()),
            }

    def fail_next(
        self, method: str, status: int = 429, retry_after: int = 1, count: int = 1
    ) -> None:
        """Answer the next ``count`` calls of ``method`` with HTTP ``status`` (429 → ratelimited
        with ``Retry-After``; 5xx → a server error) without executing them."""
        with self._lock:
            self._faults.setdefault(method, []).append(_Fault(status, retry_after, count))

    def enforce_rate_limits(
        self,
        per_channel_per_sec: float = 1.0,
        burst: int = 3,
        per_workspace_per_min: int = 300,
        workspace_burst: int | None = None,
    ) -> None:
        """Token buckets for chat.postMessage: one per channel and one for the workspace."""
        with self._lock:
            self._limits = _RateLimits(
                per_channel_per_sec,
                burst,
                per_workspace_per_min,
                workspace_burst if workspace_burst is not None else per_workspace_per_min,
            )

    def disable_rate_limits(self) -> None:
        with self._lock:
            self._limits = None

    def reset(self) -> None:
        """Forget calls, faults, messages, views, DMs and files (users/channels stay)."""
        with self._lock:
            self._calls.clear()
            self._faults.clear()
            if self._limits is not None:
                self._limits.channels.clear()
                self._limits.workspace = None
            self.state.reset()

    # -- inspection ---------------------------------------------------------------------
    def calls(self, method: str | None = None) -> list[Call]:
        with self._lock:
            return [c for c in self._calls if method is None or c.method == method]

    def messages(
        self, channel: str | None = None, *, include_deleted: bool = False
    ) -> list[PostedMessage]:
        """Current state of messages (updates applied, deleted ones hidden), oldest first."""
        with self._lock:
            found = [
                m
                for m in self.state.messages.values()
                if (channel is None or m.channel == channel) and (include_deleted or not m.deleted)
            ]
        return sorted(found, key=lambda m: m.ts)

    def ephemerals(self, user: str | None = None) -> list[dict[str, Any]]:
        with self._lock:
            return [e for e in self.state.ephemerals if user is None or e["user"] == user]

    def views(self) -> list[dict[str, Any]]:
        with self._lock:
            return list(self.state.views.values())

    def home_view(self, user_id: str) -> dict[str, Any] | None:
        with self._lock:
            return self.state.home_views.get(user_id)

    def files(self) -> list[UploadedFile]:
        with self._lock:
            return list(self.state.files.values())

    def dm_channel_for(self, user_id: str) -> str:
        """The DM channel id ``conversations.open(users=user_id)`` answers (stable)."""
        with self._lock:
            return self.state.dm_channel_for(user_id)

    # -- request processing (called from the HTTP handler threads) ----------------------
    def _token_error(self, method: str, token: str | None) -> str | None:
        if not token:
            return "not_authed"
        prefix = "xapp-" if method == "apps.connections.open" else "xoxb-"
        if self.valid_tokens is not None:
            return (
                None if token in self.valid_tokens and token.startswith(prefix) else "invalid_auth"
            )
        if token.startswith(prefix):
            return None
        return "not_allowed_token_type" if token.startswith(("xapp-", "xoxb-")) else "invalid_auth"

    def _rate_limited(self, method: str, args: dict[str, Any]) -> int | None:
        limits = self._limits
        if limits is None or method != "chat.postMessage":
            return None
        now = self._clock()
        channel = str(args.get("channel", ""))
        if channel not in limits.channels:
            limits.channels[channel] = _Bucket(
                limits.per_channel_per_sec, limits.burst, limits.burst, now
            )
        if limits.workspace is None:
            ws_burst = limits.workspace_burst
            limits.workspace = _Bucket(limits.per_workspace_per_min / 60.0, ws_burst, ws_burst, now)
        buckets = (limits.channels[channel], limits.workspace)
        for bucket in buckets:
            bucket.refill(now)
        wait = max(bucket.wait_time() for bucket in buckets)
        if wait > 0:
            return max(1, math.ceil(wait))
        for bucket in buckets:
            bucket.tokens -= 1.0
        return None

    def _record(
        self,
        method: str,
        args: dict[str, Any],
        headers: dict[str, str],
        status: int,
        error: str | None,
    ) -> None:
        self._calls.append(Call(method, args, headers, time.time(), status, error))

    def process(
        self, method: str, args: dict[str, Any], headers: dict[str, str], token: str | None
    ) -> tuple[int, dict[str, str], dict[str, Any]]:
        """Answer one API call: ``(http_status, extra_headers, json_body)``."""
        with self._lock:
            faults = self._faults.get(method)
            if faults:
                fault = faults[0]
                fault.remaining -= 1
                if fault.remaining <= 0:
                    faults.pop(0)
                if fault.status == 429:
                    self._record(method, args, headers, 429, "ratelimited")
                    return (
                        429,
                        {"Retry-After": str(fault.retry_after)},
                        {"ok": False, "error": "ratelimited"},
                    )
                error = _SERVER_ERRORS.get(fault.status, "internal_error")
                self._record(method, args, headers, fault.status, error)
                return fault.status, {}, {"ok": False, "error": error}
            if (auth_error := self._token_error(method, token)) is not None:
                self._record(method, args, headers, 200, auth_error)
                return 200, {}, {"ok": False, "error": auth_error}
            if (retry_after := self._rate_limited(method, args)) is not None:
                self._record(method, args, headers, 429, "ratelimited")
                return 429, {"Retry-After": str(retry_after)}, {"ok": False, "error": "ratelimited"}
            try:
                if method == "apps.connections.open":
                    body = {"url": self.socket_mode.connection_url()}
                else:
                    handler = self.state.handlers.get(method)
                    if handler is None:
                        raise ApiError("unknown_method")
                    body = handler(args)
            except ApiError as err:
                self._record(method, args, headers, 200, err.code)
                answer: dict[str, Any] = {"ok": False, "error": err.code}
                if err.messages:
                    answer["response_metadata"] = {"messages": err.messages}
                return 200, {}, answer
            self._record(method, args, headers, 200, None)
            return 200, {}, {"ok": True, **body}

    def receive_upload(self, file_id: str, content: bytes) -> bool:
        with self._lock:
            return self.state.receive_upload(file_id, content)


def _parse_body(content_type: str, raw: bytes) -> dict[str, Any]:
    if not raw:
        return {}
    mime = content_type.split(";")[0].strip().lower()
    if mime == "application/json":
        parsed = json.loads(raw.decode("utf-8"))
        if not isinstance(parsed, dict):
            raise ValueError("JSON body must be an object")
        return parsed
    if mime == "multipart/form-data":
        message = BytesParser(policy=HTTP).parsebytes(
            f"Content-Type: {content_type}\r\n\r\n".encode() + raw
        )
        result: dict[str, Any] = {}
        for part in message.iter_parts():
            name = part.get_param("name", header="content-disposition")
            payload = part.get_payload(decode=True)
            if isinstance(name, str) and isinstance(payload, bytes):
                is_file = part.get_filename() is not None
                result[name] = payload if is_file else payload.decode("utf-8")
        return result
    return dict(parse_qsl(raw.decode("utf-8"), keep_blank_values=True))


def _make_handler(double: SlackDouble) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: Any) -> None:
            pass

        def _send(self, status: int, body: bytes, headers: dict[str, str], ctype: str) -> None:
            self.send_response(status)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(body)))
            for key, value in headers.items():
                self.send_header(key, value)
            self.end_headers()
            self.wfile.write(body)

        def _handle(self) -> None:
            url = urlsplit(self.path)
            raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            if url.path.startswith("/upload/v1/"):
                ok = double.receive_upload(url.path.rsplit("/", 1)[-1], raw)
                text = f"OK - {len(raw)}" if ok else "upload_url_not_found"
                self._send(200 if ok else 404, text.encode(), {}, "text/plain; charset=utf-8")
                return
            if not url.path.startswith("/api/"):
                self._send(404, b"not found", {}, "text/plain; charset=utf-8")
                return
            method = url.path[len("/api/") :]
            headers = dict(self.headers.items())
            args: dict[str, Any] = dict(parse_qsl(url.query, keep_blank_values=True))
            try:
                args.update(_parse_body(self.headers.get("Content-Type", ""), raw))
            except ValueError:
                body = {"ok": False, "error": "invalid_json"}
                double._record(method, args, headers, 200, "invalid_json")
                self._send(200, json.dumps(body).encode(), {}, "application/json; charset=utf-8")
                return
            token = args.pop("token", None)
            auth = self.headers.get("Authorization", "")
            if auth.startswith("Bearer "):
                token = auth[len("Bearer ") :].strip()
            status, extra, answer = double.process(method, args, headers, token)
            self._send(
                status, json.dumps(answer).encode(), extra, "application/json; charset=utf-8"
            )

        do_POST = _handle
        do_GET = _handle

    return Handler
