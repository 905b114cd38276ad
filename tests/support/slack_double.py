"""A local, strict Slack Web API double served over real HTTP on 127.0.0.1.

Usage::

    with SlackDouble() as slack:
        client = WebClient(base_url=slack.base_url, token="xoxb-test")
        client.chat_postMessage(channel="C1", text="hi")
        assert slack.messages("C1")[0].text == "hi"

The method implementations live in :mod:`tests.support.slack_double_api` (data types in
``slack_double_models``), the Block Kit checks in ``slack_double_blocks``, HTTP plumbing
and rate-limit buckets in ``slack_double_http`` and the Socket Mode endpoint in
``slack_double_socket``.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable, Collection, Iterable
from dataclasses import dataclass
from types import TracebackType
from typing import Any

from .slack_double_api import SlackApiState
from .slack_double_http import Bucket, RateLimits, Server, make_handler
from .slack_double_models import (
    APP_ID,
    BOT_ID,
    BOT_USER_ID,
    TEAM_ID,
    ApiError,
    PostedMessage,
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


@dataclass(frozen=True)
class Call:
    """One recorded request. ``status``/``error`` describe what the double answered."""

    method: str
    args: dict[str, Any]
    headers: dict[str, str]
    time: float
    status: int = 200
    error: str | None = None
    injected: bool = False  # answered by fail_next/fail_calls, not by the rate limiter

    @property
    def ok(self) -> bool:
        return self.status == 200 and self.error is None


@dataclass
class _Fault:
    status: int
    retry_after: int
    remaining: int


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
        self._nth_faults: dict[str, dict[int, _Fault]] = {}
        self._seen: dict[str, int] = {}
        self._limits: RateLimits | None = None
        self._server: Server | None = None
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
        server = Server(("127.0.0.1", 0), make_handler(self))
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

    def fail_calls(
        self, method: str, numbers: Iterable[int], status: int = 429, retry_after: int = 1
    ) -> None:
        """Answer the ``n``-th call of ``method`` (counted from 1 since start or :meth:`reset`,
        every call counts) with HTTP ``status`` for each ``n`` in ``numbers``: faults spread
        over a long run instead of :meth:`fail_next`'s consecutive ones."""
        with self._lock:
            planned = self._nth_faults.setdefault(method, {})
            for number in numbers:
                planned[int(number)] = _Fault(status, retry_after, 1)

    def enforce_rate_limits(
        self,
        per_channel_per_sec: float = 1.0,
        burst: int = 3,
        per_workspace_per_min: int = 300,
        workspace_burst: int | None = None,
    ) -> None:
        """Token buckets for chat.postMessage: one per channel and one for the workspace."""
        with self._lock:
            self._limits = RateLimits(
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
            self._nth_faults.clear()
            self._seen.clear()
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

    def user_upload(self, user: str, channel: str, filename: str, content: bytes) -> str:
        """A person shares a file in ``channel`` (as Slack stores it); returns its id."""
        with self._lock:
            return str(self.state.user_upload(user, channel, filename, content)["id"])

    def file_share_event(self, user: str, channel: str, file_id: str, text: str) -> dict[str, Any]:
        """The ``message`` event (subtype ``file_share``) Slack sends for an upload in a DM."""
        with self._lock:
            info = self.state.files_info({"file": file_id})["file"]
        return {
            "type": "message",
            "subtype": "file_share",
            "channel": channel,
            "channel_type": "im",
            "user": user,
            "text": text,
            "ts": f"{int(time.time())}.000100",
            "files": [info],
            "upload": True,
        }

    def file_content(self, path: str) -> bytes | None:
        with self._lock:
            return self.state.file_content(path)

    def accepts_token(self, token: str) -> bool:
        return self._token_error("files.info", token) is None

    def files(self) -> list[UploadedFile]:
        with self._lock:
            return list(self.state.files.values())

    def group_dms(self) -> dict[str, list[str]]:
        """Group DMs opened with ``conversations.open`` (channel -> members, bot included)."""
        with self._lock:
            return {k: list(v) for k, v in self.state.group_dms.items()}

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
        if channel.startswith("U"):  # a user id posts to the bot's DM: that channel's limit
            channel = self.state.dm_channel_for(channel)
        if channel not in limits.channels:
            limits.channels[channel] = Bucket(
                limits.per_channel_per_sec, limits.burst, limits.burst, now
            )
        if limits.workspace is None:
            ws_burst = limits.workspace_burst
            limits.workspace = Bucket(limits.per_workspace_per_min / 60.0, ws_burst, ws_burst, now)
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
        injected: bool = False,
    ) -> None:
        self._calls.append(Call(method, args, headers, time.time(), status, error, injected))

    def process(
        self, method: str, args: dict[str, Any], headers: dict[str, str], token: str | None
    ) -> tuple[int, dict[str, str], dict[str, Any]]:
        """Answer one API call: ``(http_status, extra_headers, json_body)``."""
        with self._lock:
            self._seen[method] = number = self._seen.get(method, 0) + 1
            fault = self._nth_faults.get(method, {}).pop(number, None)
            faults = self._faults.get(method)
            if fault is None and faults:
                fault = faults[0]
                fault.remaining -= 1
                if fault.remaining <= 0:
                    faults.pop(0)
            if fault is not None:
                if fault.status == 429:
                    self._record(method, args, headers, 429, "ratelimited", True)
                    return (
                        429,
                        {"Retry-After": str(fault.retry_after)},
                        {"ok": False, "error": "ratelimited"},
                    )
                error = _SERVER_ERRORS.get(fault.status, "internal_error")
                self._record(method, args, headers, fault.status, error, True)
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
