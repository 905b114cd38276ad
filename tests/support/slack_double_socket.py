"""Socket Mode WebSocket endpoint of the Slack double (what ``apps.connections.open`` hands out).

An aiohttp server on 127.0.0.1 runs in its own thread and event loop, started lazily on
the first :meth:`SocketModeEndpoint.connection_url`. Each connection receives Slack's
``hello`` message; tests push envelopes with :meth:`send` and wait for the client's
acknowledgement with :meth:`wait_for_ack`.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import threading
import uuid
from typing import Any

from aiohttp import WSMsgType, web

from .slack_double_models import APP_ID


class SocketModeEndpoint:
    """Local stand-in for ``wss://wss-primary.slack.com/link/``."""

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._runner: web.AppRunner | None = None
        self._thread: threading.Thread | None = None
        self._port = 0
        self._connections: list[web.WebSocketResponse] = []
        self._acks: dict[str, dict[str, Any]] = {}
        self._tickets = itertools.count(1)
        self.received: list[dict[str, Any]] = []
        self.total_connections = 0

    # -- lifecycle ----------------------------------------------------------------------
    def _start(self) -> None:
        if self._loop is not None:
            return
        loop = asyncio.new_event_loop()
        app = web.Application()
        app.router.add_get("/link/", self._ws_handler)
        runner = web.AppRunner(app)
        loop.run_until_complete(runner.setup())
        site = web.TCPSite(runner, "127.0.0.1", 0)
        loop.run_until_complete(site.start())
        address = runner.addresses[0]
        self._port = int(address[1])
        self._loop, self._runner = loop, runner
        self._thread = threading.Thread(target=loop.run_forever, name="slack-socket", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        loop, runner = self._loop, self._runner
        if loop is None or runner is None:
            return
        asyncio.run_coroutine_threadsafe(self._shutdown(runner), loop).result(timeout=10)
        loop.call_soon_threadsafe(loop.stop)
        if self._thread is not None:
            self._thread.join(timeout=5)
        loop.close()
        self._loop = self._runner = self._thread = None

    async def _shutdown(self, runner: web.AppRunner) -> None:
        for ws in list(self._connections):
            await ws.close()
        await runner.cleanup()

    def connection_url(self) -> str:
        """A fresh ``ws://`` URL with a one-off ticket (as ``apps.connections.open`` returns)."""
        with self._cond:
            self._start()
            return f"ws://127.0.0.1:{self._port}/link/?ticket={next(self._tickets)}&app_id={APP_ID}"

    # -- server side ----------------------------------------------------------------------
    async def _ws_handler(self, request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse(autoping=True)
        await ws.prepare(request)
        with self._cond:
            self._connections.append(ws)
            self.total_connections += 1
            count = len(self._connections)
            self._cond.notify_all()
        hello = {
            "type": "hello",
            "num_connections": count,
            "debug_info": {"host": "applink-double", "approximate_connection_time": 18060},
            "connection_info": {"app_id": APP_ID},
        }
        await ws.send_str(json.dumps(hello))
        try:
            async for msg in ws:
                if msg.type != WSMsgType.TEXT:
                    continue
                data = json.loads(msg.data)
                with self._cond:
                    self.received.append(data)
                    if isinstance(data, dict) and "envelope_id" in data:
                        self._acks[str(data["envelope_id"])] = data
                    self._cond.notify_all()
        finally:
            with self._cond:
                if ws in self._connections:
                    self._connections.remove(ws)
                self._cond.notify_all()
        return ws

    # -- test side ------------------------------------------------------------------------
    @property
    def connection_count(self) -> int:
        with self._cond:
            return len(self._connections)

    def wait_for_connection(self, count: int = 1, timeout: float = 10.0) -> None:
        with self._cond:
            if not self._cond.wait_for(lambda: len(self._connections) >= count, timeout):
                raise TimeoutError(f"no {count} Socket Mode connection(s) within {timeout}s")

    def _send_raw(self, message: dict[str, Any], timeout: float) -> None:
        with self._cond:
            if not self._connections or self._loop is None:
                raise RuntimeError("no Socket Mode client connected")
            ws, loop = self._connections[-1], self._loop
        future = asyncio.run_coroutine_threadsafe(ws.send_str(json.dumps(message)), loop)
        future.result(timeout=timeout)

    def send(
        self,
        envelope_type: str,
        payload: dict[str, Any],
        *,
        accepts_response_payload: bool | None = None,
        retry_attempt: int = 0,
        retry_reason: str = "",
        timeout: float = 5.0,
    ) -> str:
        """Push an envelope (``events_api``, ``slash_commands``, ``interactive``) to the
        newest connection; return its ``envelope_id``."""
        envelope_id = str(uuid.uuid4())
        if accepts_response_payload is None:
            accepts_response_payload = envelope_type != "events_api"
        envelope: dict[str, Any] = {
            "envelope_id": envelope_id,
            "type": envelope_type,
            "payload": payload,
            "accepts_response_payload": accepts_response_payload,
        }
        if envelope_type == "events_api":
            envelope.update(retry_attempt=retry_attempt, retry_reason=retry_reason)
        self._send_raw(envelope, timeout)
        return envelope_id

    def wait_for_ack(self, envelope_id: str, timeout: float = 5.0) -> dict[str, Any]:
        """Block until the client acknowledged ``envelope_id``; return the ack message."""
        with self._cond:
            if not self._cond.wait_for(lambda: envelope_id in self._acks, timeout):
                raise TimeoutError(f"envelope {envelope_id} not acknowledged within {timeout}s")
            return self._acks[envelope_id]

    def request_disconnect(self, reason: str = "refresh_requested", timeout: float = 5.0) -> None:
        """Send Slack's ``disconnect`` message (clients reconnect with a new URL)."""
        self._send_raw({"type": "disconnect", "reason": reason, "debug_info": {}}, timeout)
