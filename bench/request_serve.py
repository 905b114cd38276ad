"""Servers for bench/bench_request.py, each in its own process (so the load generator, the
Slack double and the two sides never share a GIL).

    python bench/request_serve.py double
    python bench/request_serve.py bare --api URL
    python bench/request_serve.py bot --api URL --db URL

Prints ``READY <url>`` on stdout, then serves until stdin is closed. The bot side also answers
a line ``idle`` on stdin with ``IDLE`` once its background work (answers, outbox) is done,
so one measurement does not bleed into the next.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from request_load import ACTION_ID  # noqa: E402
from slack_bolt import App  # noqa: E402
from slack_sdk import WebClient  # noqa: E402
from sqlalchemy import func, select  # noqa: E402

from app import build_bot  # noqa: E402
from bot.clock import SystemClock  # noqa: E402
from handlers.http_server import HttpLimits, HttpServer, WorkerPool, make_application  # noqa: E402
from handlers.slack.endpoint import add_slack_route  # noqa: E402
from handlers.slack.runner import SlackConfig, SlackRuntime  # noqa: E402
from storage.models import OutboxMessage  # noqa: E402
from tests.helpers import make_settings  # noqa: E402
from tests.support import slack_requests as sr  # noqa: E402
from tests.support.slack_double import SlackDouble  # noqa: E402

ORGANISER = "U0ORGA"


def serve_double() -> tuple[str, Callable[[], bool]]:
    double = SlackDouble().start()
    return double.base_url, lambda: True


def serve_bare(api: str) -> tuple[str, Callable[[], bool]]:
    """bolt at its best: process_before_response=True, the listener only acks."""
    app = App(
        client=WebClient(base_url=api, token="xoxb-bench"),
        signing_secret=sr.SIGNING_SECRET,
        process_before_response=True,
    )
    app.action({"action_id": ACTION_ID})(lambda ack: ack())
    # The same server, limits and route as SlackRuntime.start_http.
    limits = HttpLimits()
    web_app = make_application(limits)
    add_slack_route(web_app, app, WorkerPool(limits), limits)
    port = HttpServer(web_app, limits).start("127.0.0.1", 0)
    return f"http://127.0.0.1:{port}/slack/events", lambda: True


def serve_bot(api: str, db_url: str) -> tuple[str, Callable[[], bool]]:
    bot = build_bot(make_settings(db_url, organizers=f"slack:{ORGANISER}"), SystemClock())
    config = SlackConfig(
        bot_token="xoxb-bench", signing_secret=sr.SIGNING_SECRET, app_token=None, api_url=api
    )
    runtime = SlackRuntime(bot, config)
    url = runtime.start_http("127.0.0.1", 0)
    listeners = runtime.listeners

    def idle() -> bool:
        pool = listeners._pool._work_queue.qsize()
        with bot.uow_factory() as uow:
            pending = uow.session.scalar(
                select(func.count(OutboxMessage.id)).where(
                    OutboxMessage.status.in_(("pending", "sending")),
                    OutboxMessage.not_before <= bot.clock.now(),
                )
            )
        # Home refreshes drain at Slack's pace (about 1.5 a second) and are not waited for.
        return pool == 0 and not pending

    return url, idle


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("side", choices=("double", "bare", "bot"))
    parser.add_argument("--api", default="")
    parser.add_argument("--db", default="")
    args = parser.parse_args()
    if args.side == "double":
        url, idle = serve_double()
    elif args.side == "bare":
        url, idle = serve_bare(args.api)
    else:
        url, idle = serve_bot(args.api, args.db)
    print(f"READY {url}", flush=True)
    for line in sys.stdin:
        if line.strip() == "idle":
            deadline = time.monotonic() + 120
            while not idle() and time.monotonic() < deadline:
                time.sleep(0.2)
            print("IDLE", flush=True)


if __name__ == "__main__":
    main()
