"""The bot's one HTTP server: an aiohttp.web application on its own event loop thread.

Why aiohttp.web (see docs/deploy.md): it is already installed (matrix-nio depends on it), it
is a production server with a body limit (``client_max_size``, checked while streaming),
keep-alive/header timeouts and header size limits, and as an asyncio server an idle
connection costs a socket and a few KB, never a thread. Sync work (bolt's dispatch, the
SQLAlchemy services) runs in one bounded thread pool. Routes for other pages (``/healthz``,
the web app of issue 17) are added to the same ``web.Application``.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Protocol, TypeVar

from aiohttp import web

log = logging.getLogger(__name__)

T = TypeVar("T")


class SharedServer(Protocol):
    """A server another adapter owns and has not started yet (the web pages'): routes are
    added to ``app`` first, then :meth:`start` serves them all on one port."""

    app: web.Application

    def start(self) -> str:
        """Serve; returns the base URL."""
        ...

    def stop(self) -> None: ...


@dataclass(frozen=True)
class HttpLimits:
    """What one client may cost the server. Slack's payloads are well below 1 MB."""

    max_body: int = 1024 * 1024
    # Time for a new connection to send its request headers and for a kept-alive connection
    # to send the next request; then it is closed (aiohttp arms it at connection start).
    idle_timeout: float = 15.0
    read_timeout: float = 10.0  # for the whole request body, once the headers are in
    workers: int = 8  # threads for sync work (bolt dispatch, services)
    max_pending: int = 64  # requests waiting for or in a worker; beyond that 503
    lingering_time: float = 1.0  # after an early answer (413), discard the rest this long


async def read_body(request: web.Request, limits: HttpLimits) -> bytes:
    """The body, refused with 413 before reading when Content-Length is too large, and while
    streaming (chunked) as soon as it grows past the limit; 408 when the client is too slow."""
    declared = request.content_length
    if declared is not None and declared > limits.max_body:
        raise web.HTTPRequestEntityTooLarge(max_size=limits.max_body, actual_size=declared)
    try:
        async with asyncio.timeout(limits.read_timeout):
            return await request.read()  # client_max_size raises 413 past the limit
    except TimeoutError:
        raise web.HTTPRequestTimeout(text="request body too slow") from None


class WorkerPool:
    """A bounded thread pool for sync work with a bounded queue in front (503 when full)."""

    def __init__(self, limits: HttpLimits) -> None:
        self._executor = ThreadPoolExecutor(limits.workers, thread_name_prefix="http-worker")
        self._max_pending = limits.max_pending
        self._pending = 0  # only touched on the event loop thread

    async def run(self, fn: Callable[[], T]) -> T:
        if self._pending >= self._max_pending:
            raise web.HTTPServiceUnavailable(text="busy, retry later", headers={"Retry-After": "1"})
        self._pending += 1
        try:
            return await asyncio.get_running_loop().run_in_executor(self._executor, fn)
        finally:
            self._pending -= 1

    def shutdown(self) -> None:
        self._executor.shutdown(wait=True, cancel_futures=True)


class HttpServer:
    """Serves a ``web.Application`` in a background thread; ``start`` returns the bound port."""

    def __init__(self, app: web.Application, limits: HttpLimits) -> None:
        self.app = app
        self.limits = limits
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._runner: web.AppRunner | None = None

    def start(self, host: str, port: int) -> int:
        loop = asyncio.new_event_loop()
        self._loop = loop
        self._thread = threading.Thread(target=loop.run_forever, name="http", daemon=True)
        self._thread.start()
        try:
            return asyncio.run_coroutine_threadsafe(self._serve(host, port), loop).result(30)
        except BaseException:
            self.stop()
            raise

    async def _serve(self, host: str, port: int) -> int:
        runner = web.AppRunner(
            self.app,
            handle_signals=False,
            access_log=None,
            keepalive_timeout=self.limits.idle_timeout,
            lingering_time=self.limits.lingering_time,
            shutdown_timeout=5.0,
        )
        self._runner = runner
        await runner.setup()
        site = web.TCPSite(runner, host, port, backlog=128)
        await site.start()
        for address in runner.addresses:
            return int(address[1])
        raise OSError(f"not listening on {host}:{port}")

    def stop(self) -> None:
        loop, self._loop = self._loop, None
        if loop is None:
            return
        if self._runner is not None:
            runner, self._runner = self._runner, None
            try:
                asyncio.run_coroutine_threadsafe(runner.cleanup(), loop).result(15)
            except Exception:  # shutting down anyway
                log.exception("HTTP server cleanup failed")
        loop.call_soon_threadsafe(loop.stop)
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None
        loop.close()


def make_application(limits: HttpLimits) -> web.Application:
    """An application with the body limit set; add routes to it."""
    return web.Application(client_max_size=limits.max_body)
