"""Request path: a bare slack-bolt app that only acks a signed block_actions click vs the bot
handling a signed vote click (signature check → dispatcher → vote committed → ack), both served
the same way (bolt's WSGI adapter under the same threaded server) over loopback HTTP, at
concurrency 1, 10 and 50; on SQLite and on PostgreSQL. The baseline runs at its best
(process_before_response=True: no 10 ms ack polling).

Usage: .venv/bin/python bench/bench_request.py [--requests 600]
Writes bench/results/request.json.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import statistics
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any
from wsgiref.simple_server import make_server

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from slack_bolt import App  # noqa: E402
from slack_bolt.adapter.wsgi import SlackRequestHandler  # noqa: E402
from slack_sdk import WebClient  # noqa: E402
from sqlalchemy import create_engine, text  # noqa: E402

from app import build_bot  # noqa: E402
from bot.clock import SystemClock  # noqa: E402
from bot.context import Conversation, Request  # noqa: E402
from bot.identity import Identity  # noqa: E402
from handlers.slack.runner import SlackConfig, SlackRuntime, _QuietHandler, _ThreadingWSGIServer  # noqa: E402
from tests.helpers import make_settings  # noqa: E402
from tests.support import slack_requests as sr  # noqa: E402
from tests.support.slack_double import SlackDouble  # noqa: E402

CHANNEL = "C0BENCH"
LEVELS = (1, 10, 50)


def serve_bare(double: SlackDouble) -> tuple[str, Callable[[], None]]:
    app = App(
        client=WebClient(base_url=double.base_url, token="xoxb-bench"),
        signing_secret=sr.SIGNING_SECRET,
        process_before_response=True,
    )
    app.action({"action_id": "cmd:0"})(lambda ack: ack())
    server = make_server(
        "127.0.0.1",
        0,
        SlackRequestHandler(app, path="/slack/events"),
        server_class=_ThreadingWSGIServer,
        handler_class=_QuietHandler,
    )
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()

    def stop() -> None:
        server.shutdown()
        server.server_close()

    return f"http://127.0.0.1:{server.server_port}/slack/events", stop


def prepare_cohort(bot: Any, voters: int) -> None:
    def say(user: str, line: str) -> str:
        req = Request(Identity("slack", user), Conversation("slack", CHANNEL), line)
        return "\n".join(r.message.plain_text() for r in bot.dispatcher.handle(req) if r.message)

    say("U0ORGA", f'jahrgang anlegen "Bench" plaetze={voters}')
    for i in range(voters):
        answer = say(
            f"U{i:07d}",
            f'anmelden name="P {i}" kommune=K funktion=Stabsstelle '
            f"email=p{i}@example.org zustimmung=ja",
        )
        assert "Platz" in answer, answer
    created = say("U0ORGA", 'umfrage "Welches Thema?" "Wohnen" "Mobilität" "Pflege" "Bildung"')
    assert "1" in created, created


def click_body(user: str, command: str) -> sr.SignedRequest:
    return sr.block_actions(
        "cmd:0", command, user_id=user, channel_id=CHANNEL, message_ts="1.000001"
    )


def drive(url: str, bodies: list[sr.SignedRequest], concurrency: int) -> dict[str, float]:
    host, port = url.split("//")[1].split("/")[0].split(":")
    latencies: list[float] = []
    errors: list[str] = []
    lock = threading.Lock()
    queue = list(reversed(bodies))

    def worker() -> None:
        while True:
            with lock:
                if not queue:
                    return
                req = queue.pop()
            start = time.perf_counter()
            conn = http.client.HTTPConnection(host, int(port), timeout=30)
            conn.request("POST", "/slack/events", body=req.body, headers=dict(req.headers))
            response = conn.getresponse()
            response.read()
            conn.close()
            elapsed = time.perf_counter() - start
            with lock:
                latencies.append(elapsed)
                if response.status != 200:
                    errors.append(str(response.status))

    start = time.perf_counter()
    threads = [threading.Thread(target=worker) for _ in range(concurrency)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wall = time.perf_counter() - start
    latencies.sort()
    return {
        "rps": len(latencies) / wall,
        "p50_ms": statistics.median(latencies) * 1000,
        "p99_ms": latencies[int(len(latencies) * 0.99) - 1] * 1000,
        "errors": len(errors),
    }


def pg_url() -> str:
    base = os.environ.get(
        "STADTLABOR_TEST_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/test"
    )
    base = base.replace("postgresql://", "postgresql+psycopg://", 1)
    schema = f"bench_{uuid.uuid4().hex[:8]}"
    engine = create_engine(base)
    with engine.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    engine.dispose()
    sep = "&" if "?" in base else "?"
    return f"{base}{sep}options=-csearch_path%3D{schema}"


def run_backend(name: str, db_url: str, double: SlackDouble, n: int) -> list[dict[str, Any]]:
    bot = build_bot(make_settings(db_url, organizers="slack:U0ORGA"), SystemClock())
    prepare_cohort(bot, n)
    config = SlackConfig(
        bot_token="xoxb-bench",
        signing_secret=sr.SIGNING_SECRET,
        app_token=None,
        api_url=double.base_url,
    )
    runtime = SlackRuntime(bot, config)
    bot_url = runtime.start_http("127.0.0.1", 0)
    bare_url, stop_bare = serve_bare(double)
    rows = []
    try:
        for level in LEVELS:
            option = 1 + level % 4
            votes = [click_body(f"U{i:07d}", f"abstimmen 1 {option}") for i in range(n)]
            bare = drive(bare_url, [click_body("U0000000", "x") for _ in range(n)], level)
            mine = drive(bot_url, votes, level)
            with bot.uow_factory() as uow:
                counted = uow.session.execute(
                    text("select count(distinct person_id) from votes")
                ).scalar()
            rows.append(
                {
                    "db": name,
                    "concurrency": level,
                    "bare": bare,
                    "bot": mine,
                    "ratio": mine["rps"] / bare["rps"],
                    "voters_counted": counted,
                }
            )
    finally:
        runtime.stop()
        stop_bare()
        bot.engine.dispose()
    return rows


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=600)
    args = parser.parse_args()
    results: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory() as tmp, SlackDouble() as double:
        results += run_backend("sqlite", f"sqlite:///{tmp}/bench.db", double, args.requests)
        results += run_backend("postgres", pg_url(), double, args.requests)
    print(
        f"{'db':<9}{'conc':>5}{'bare rps':>10}{'bot rps':>9}{'ratio':>7}"
        f"{'bare p50':>10}{'bot p50':>9}{'bare p99':>10}{'bot p99':>9}{'errors':>8}"
    )
    for r in results:
        b, m = r["bare"], r["bot"]
        print(
            f"{r['db']:<9}{r['concurrency']:>5}{b['rps']:>10.0f}{m['rps']:>9.0f}"
            f"{r['ratio']:>7.2f}{b['p50_ms']:>10.1f}{m['p50_ms']:>9.1f}{b['p99_ms']:>10.1f}"
            f"{m['p99_ms']:>9.1f}{m['errors']:>8}"
        )
    out = ROOT / "bench" / "results" / "request.json"
    out.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
