"""Requests to the homeserver with ``M_LIMIT_EXCEEDED`` handling.

nio's own 429 retry is switched off (``max_limit_exceeded=0``): it sleeps for whatever the
server says. Here the wait is clamped. Inside an outbox delivery (:data:`OUTBOX`, set by the
synchronous :class:`~handlers.matrix.messenger.MatrixMessenger`) nothing waits: the answer
surfaces as :class:`bot.outbox.RateLimited` with the server's ``retry_after_ms``, and the
outbox reschedules the row and holds the room (its one rate limiter, in the database). A
direct answer, for which a person is waiting, is sent again after the clamped wait, a
bounded number of times; a resend reuses the same transaction id, so the homeserver
deduplicates it (no double messages even when the first attempt did get through).
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import uuid
from collections.abc import Awaitable, Callable
from contextvars import ContextVar
from typing import Any, TypeVar
from urllib.parse import quote

from nio import AsyncClient, ErrorResponse, RoomRedactResponse, RoomSendResponse

from bot.outbox import RateLimited

log = logging.getLogger(__name__)

MIN_WAIT = 0.1
MAX_WAIT = 30.0
MAX_ATTEMPTS = 8
R = TypeVar("R")


class MatrixSendError(RuntimeError):
    """The homeserver refused a request (the outbox retries the row later)."""


def clamp_wait(retry_after_ms: int | float | None) -> float:
    """Seconds to wait after ``M_LIMIT_EXCEEDED``, within sane bounds."""
    if retry_after_ms is None or retry_after_ms != retry_after_ms:  # None or NaN
        return 1.0
    return min(MAX_WAIT, max(MIN_WAIT, float(retry_after_ms) / 1000))


def new_txn_id() -> str:
    return f"stl-{uuid.uuid4().hex}"


class DeliveryTxns:
    """Transaction ids derived from an outbox row's idempotency key: the n-th request of a
    delivery gets the same id each time the row is sent, so a resend after a crash (the first
    attempt may have reached the homeserver) is deduplicated by it."""

    def __init__(self, key: str) -> None:
        self.prefix = "stl-" + hashlib.sha256(key.encode()).hexdigest()[:32]
        self.count = 0

    def next(self) -> str:
        self.count += 1
        return f"{self.prefix}-{self.count}"


DELIVERY: ContextVar[DeliveryTxns | None] = ContextVar("matrix_delivery_txns", default=None)
#: True while the outbox sends: a rate limit goes back to the outbox instead of waiting here.
OUTBOX: ContextVar[bool] = ContextVar("matrix_outbox_send", default=False)


def _txn() -> str:
    txns = DELIVERY.get()
    return txns.next() if txns is not None else new_txn_id()


def _rate_limited(resp: object) -> bool:
    return isinstance(resp, ErrorResponse) and resp.status_code in ("M_LIMIT_EXCEEDED", "429")


class Transport:
    """Thin layer over :class:`nio.AsyncClient` used by the messenger and the bot."""

    def __init__(
        self, client: AsyncClient, sleep: Callable[[float], Awaitable[None]] | None = None
    ):
        self.client = client
        self._sleep = sleep or asyncio.sleep
        self.waits: list[float] = []  # every rate-limit wait (for logs and tests)

    def _limited(self, wait: float, what: str) -> None:
        """Note a rate limit; in an outbox delivery, hand it to the outbox (raises)."""
        self.waits.append(wait)
        if OUTBOX.get():
            log.info("rate limited on %s; the outbox retries in %.2fs", what, wait)
            raise RateLimited(wait, f"M_LIMIT_EXCEEDED on {what}")
        log.info("rate limited on %s; waiting %.2fs", what, wait)

    async def retrying(self, call: Callable[[], Awaitable[R]], what: str) -> R:
        """Run ``call`` again after each ``M_LIMIT_EXCEEDED`` (clamped wait)."""
        for _ in range(MAX_ATTEMPTS):
            resp = await call()
            if not _rate_limited(resp):
                return resp
            wait = clamp_wait(getattr(resp, "retry_after_ms", None))
            self._limited(wait, what)
            await self._sleep(wait)
        raise MatrixSendError(f"{what}: still rate limited after {MAX_ATTEMPTS} attempts")

    async def send(
        self, room_id: str, event_type: str, content: dict[str, Any], txn_id: str | None = None
    ) -> str:
        """Send one event; returns its event id. The transaction id is kept across retries."""
        txn = txn_id or _txn()

        async def call() -> Any:
            return await self.client.room_send(
                room_id, event_type, content, tx_id=txn, ignore_unverified_devices=True
            )

        resp = await self.retrying(call, f"send to {room_id}")
        if not isinstance(resp, RoomSendResponse):
            raise MatrixSendError(f"send to {room_id} failed: {resp}")
        return str(resp.event_id)

    async def redact(self, room_id: str, event_id: str) -> None:
        txn = _txn()

        async def call() -> Any:
            return await self.client.room_redact(room_id, event_id, tx_id=txn)

        resp = await self.retrying(call, f"redact in {room_id}")
        if not isinstance(resp, RoomRedactResponse):
            raise MatrixSendError(f"redact {event_id} failed: {resp}")

    async def account_data(self, event_type: str) -> dict[str, Any] | None:
        """Global account data of the bot (nio has no call for it), None if unset."""
        status, body = await self._raw("GET", self._account_path(event_type))
        if status == 404:
            return None
        if status != 200:
            raise MatrixSendError(f"GET account data {event_type}: {status} {body}")
        return body

    async def put_account_data(self, event_type: str, data: dict[str, Any]) -> None:
        status, body = await self._raw("PUT", self._account_path(event_type), data)
        if status != 200:
            raise MatrixSendError(f"PUT account data {event_type}: {status} {body}")

    async def members(self, room_id: str) -> set[str] | None:
        """Who is in the room (joined or invited) as the homeserver sees it now; None if the
        bot cannot read it (not a member any more). Asked, not taken from the last sync: a
        member invited a moment ago must count before anything private is sent."""
        path = f"/_matrix/client/v3/rooms/{quote(room_id, safe='')}/members?not_membership=leave"
        status, body = await self._raw("GET", path)
        if status in (403, 404):
            return None
        if status != 200:
            raise MatrixSendError(f"GET members of {room_id}: {status} {body}")
        return {
            str(event.get("state_key"))
            for event in body.get("chunk", [])
            if isinstance(event, dict)
            and isinstance(event.get("content"), dict)
            and event["content"].get("membership") in ("join", "invite")
        }

    def _account_path(self, event_type: str) -> str:
        user = quote(self.client.user_id, safe="")
        return f"/_matrix/client/v3/user/{user}/account_data/{quote(event_type, safe='')}"

    async def _raw(
        self, method: str, path: str, body: dict[str, Any] | None = None
    ) -> tuple[int, dict[str, Any]]:
        headers = {
            "Authorization": f"Bearer {self.client.access_token}",
            "Content-Type": "application/json",
        }
        data = None if body is None else json.dumps(body)
        for _ in range(MAX_ATTEMPTS):
            resp = await self.client.send(method, path, data, headers)
            try:
                answer: dict[str, Any] = await resp.json(content_type=None)
            finally:
                resp.release()
            if resp.status != 429:
                return resp.status, answer
            wait = clamp_wait(answer.get("retry_after_ms"))
            self._limited(wait, f"{method} {path}")
            await self._sleep(wait)
        raise MatrixSendError(f"{method} {path}: still rate limited")
