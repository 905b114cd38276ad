"""``POST /slack/events`` on the shared HTTP server: checks, then bolt's sync dispatch.

What Slack cannot send is answered here with 4xx before bolt sees it (bolt would answer a
malformed timestamp or a non-UTF-8 body with a 500 and a traceback in the log): an oversize
body (413, see :func:`handlers.http_server.read_body`), a timestamp that is not a number or
a body that is not UTF-8 (400). Only ids and sizes are logged, never bodies.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

from aiohttp import web
from multidict import CIMultiDict
from slack_bolt import App
from slack_bolt.request import BoltRequest

from handlers.http_server import HttpLimits, WorkerPool, read_body

log = logging.getLogger(__name__)

EVENTS_PATH = "/slack/events"
TIMESTAMP_HEADER = "X-Slack-Request-Timestamp"


def _bad_request(reason: str) -> web.Response:
    return web.Response(status=400, text=f"Bad Request: {reason}\n")


def add_slack_route(
    app: web.Application, bolt: App, pool: WorkerPool, limits: HttpLimits, path: str = EVENTS_PATH
) -> None:
    async def slack_events(request: web.Request) -> web.Response:
        body = await read_body(request, limits)
        timestamp = request.headers.get(TIMESTAMP_HEADER)
        if timestamp is not None and not (timestamp.isascii() and timestamp.isdigit()):
            return _bad_request(f"{TIMESTAMP_HEADER} must be a Unix time in seconds")
        try:
            text = body.decode("utf-8")
        except UnicodeDecodeError:
            return _bad_request("the body must be UTF-8")
        headers: dict[str, str | Sequence[str]] = {
            name: request.headers.getall(name) for name in request.headers
        }
        bolt_request = BoltRequest(body=text, query=request.query_string, headers=headers)
        response = await pool.run(lambda: bolt.dispatch(bolt_request))
        log.debug("slack request %d bytes -> %d", len(body), response.status)
        out: CIMultiDict[str] = CIMultiDict()
        for name, values in response.headers.items():
            for value in values:
                out.add(name, value)
        return web.Response(status=response.status, body=response.body.encode(), headers=out)

    app.router.add_post(path, slack_events)
