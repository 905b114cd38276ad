"""Benchmark: a feedback round DMs its prompt to N participants against the rate-limiting
Slack double; wall time against the floor the double's limits alone allow.

Run:  .venv/bin/python bench/bench_fanout.py [--people 500] [--backends sqlite,postgres]
      [--workspace-burst 300,5] [--injected 15] [--retry-after 1]
The double enforces 1 chat.postMessage/s per channel (burst 3) and 300/min per workspace: a
token bucket of ``--workspace-burst`` tokens that starts full (the double's default is 300, a
whole minute at once; 5 is a strict variant). It also answers ``--injected`` chat.postMessage
calls, spread over the run, with 429 + Retry-After. The bot is the production Slack runtime
(bolt over HTTP, outbox flusher every 0.5 s, real clock); the organiser's signed slash command
``feedback starten …`` opens the round. Per backend (a SQLite file; PostgreSQL from
STADTLABOR_TEST_DATABASE_URL in a fresh schema, dropped afterwards) it prints wall time
(command → last prompt accepted), the floor, their ratio, lost and duplicated prompts and the
429s, and writes bench/results/fanout.json. Exits 1 if a prompt was lost or duplicated.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
from collections import Counter
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # bench/ is not a package; make bot/ and storage/ importable


from app import build_bot  # noqa: E402
from bot.clock import SystemClock  # noqa: E402
from tests.helpers import make_settings  # noqa: E402
from tests.support import slack_double_fanout as fan  # noqa: E402
from tests.support.pg_schema import bench_database  # noqa: E402
from tests.support.slack_double import SlackDouble  # noqa: E402

RESULTS = ROOT / "bench" / "results" / "fanout.json"


def database(backend: str) -> AbstractContextManager[str]:
    return bench_database(backend, "fanout")


def measure(
    backend: str, people: int, injected: int, retry_after: int, workspace_burst: int
) -> dict[str, Any]:
    limits = fan.Limits(
        per_channel_per_sec=1.0,
        burst=3,
        per_workspace_per_min=300,
        workspace_burst=workspace_burst,
    )
    with database(backend) as url:
        bot = build_bot(make_settings(url, organizers=f"slack:{fan.ORGA.id}"), SystemClock())
        try:
            fan.populate(bot, people)
            with SlackDouble(users=[fan.ORGA]) as slack:
                slack.enforce_rate_limits(
                    per_channel_per_sec=limits.per_channel_per_sec,
                    burst=limits.burst,
                    per_workspace_per_min=limits.per_workspace_per_min,
                    workspace_burst=limits.workspace_burst,
                )
                slack.fail_calls(
                    "chat.postMessage", fan.spread(injected, people), retry_after=retry_after
                )
                runtime, url_events = fan.start_runtime(bot, slack)
                try:
                    timeout = 3 * max(limits.floor(Counter({"x": people + 1})), 20.0) + 60
                    result = fan.run(bot, slack, url_events, people, limits, timeout)
                finally:
                    runtime.stop()
        finally:
            bot.engine.dispose()
    return {"backend": backend, "workspace_burst": workspace_burst, **result.as_dict()}


def table(rows: list[dict[str, Any]]) -> str:
    head = (
        "| db | workspace burst | people | rows committed | first DM | wall | floor | wall/floor "
        "| 429 limiter / injected | retried ok | lost | duplicated | outbox |\n"
        "|---|---:|---:|---:|---:|---:|---:|---:|---|---:|---:|---:|---|"
    )
    lines = [head]
    for r in rows:
        outbox = ", ".join(f"{k} {v}" for k, v in sorted(r["outbox"].items()))
        lines.append(
            f"| {r['backend']} | {r['workspace_burst']} | {r['people']} | {r['enqueued_s']:.1f} s "
            f"| {r['first_dm_s']:.1f} s | {r['wall_s']:.1f} s "
            f"| {r['floor_s']:.1f} s | {r['ratio']:.2f}× | {r['rate_limited_429']} / "
            f"{r['injected_429']} | {r['retried_ok']} | {r['lost']} | {r['duplicated']} "
            f"| {outbox} |"
        )
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--people", type=int, default=500)
    parser.add_argument("--backends", default="sqlite,postgres")
    parser.add_argument("--injected", type=int, default=None, help="default: 3 %% of people")
    parser.add_argument("--retry-after", type=int, default=1)
    parser.add_argument(
        "--workspace-burst",
        default="300,5",
        help="capacities of the workspace bucket to run (the double's default is 300)",
    )
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args()
    injected = args.injected if args.injected is not None else max(1, round(args.people * 0.03))
    rows = []
    bursts = [int(b) for b in args.workspace_burst.split(",") if b.strip()]
    for burst in bursts:
        for backend in [b.strip() for b in args.backends.split(",") if b.strip()]:
            row = measure(backend, args.people, injected, args.retry_after, burst)
            print(json.dumps(row), flush=True)
            rows.append(row)
    print(table(rows))
    report = {
        "date": fan.stamp(),
        "machine": (
            f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}"
        ),
        "limits": {
            "per_channel_per_sec": 1.0,
            "burst": 3,
            "per_workspace_per_min": 300,
            "workspace_burst": bursts,
        },
        "injected_retry_after_s": args.retry_after,
        "floor_formula": (
            "max(0, (posts - workspace_burst) / (300/60 per s), "
            "max over channels (posts_c - 3) / (1 per s)); posts = successful chat.postMessage"
        ),
        "results": rows,
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=2) + "\n")
    bad = any(r["lost"] or r["duplicated"] for r in rows)
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
