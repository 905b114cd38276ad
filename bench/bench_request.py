"""Request path: a bare slack-bolt app that only acks a signed block_actions click vs the bot
handling a signed vote click (signature check → dispatcher → vote committed → ack), over
loopback HTTP at concurrency 1, 10 and 50, on SQLite and on PostgreSQL.

Both sides are served the same way (bolt's WSGI adapter under the same threaded WSGI server,
each in its own process, see bench/request_serve.py); the baseline runs at its best
(process_before_response=True: no 10 ms ack polling). The Slack Web API double runs in a third
process and the load generator (wrk, see bench/request_load.py) in a fourth, replaying the
same signed bytes to both sides. Every bot request is a real vote change, committed before the
ack. Each level starts a fresh bot process and warms both sides up for a second; the bot's
background work (answers, poll updates) drains before and after each measurement.

Usage: .venv/bin/python bench/bench_request.py [--db sqlite,postgres] [--levels 1,10,50]
       [--seconds 8] [--voters 300] [--out bench/results/request.json]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from request_load import CHANNEL, drive, handle, voter  # noqa: E402
from sqlalchemy import create_engine, func, select, text  # noqa: E402

from app import build_bot  # noqa: E402
from bot.clock import SystemClock  # noqa: E402
from bot.context import Conversation, Request  # noqa: E402
from bot.identity import Identity  # noqa: E402
from storage.models import OutboxMessage, Vote  # noqa: E402
from storage.models_polls import PollCounter  # noqa: E402
from tests.helpers import make_settings  # noqa: E402

SERVE = ROOT / "bench" / "request_serve.py"


class Server:
    """One bench/request_serve.py process; its stderr goes to a log file."""

    def __init__(self, log: IO[str], *args: str) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, str(SERVE), *args],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=log,
            text=True,
        )
        self.url = self._expect("READY ")

    def _expect(self, prefix: str) -> str:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            if line.startswith(prefix):
                return line[len(prefix) :].strip()
        raise RuntimeError(f"server exited: {self.proc.wait()}")

    def wait_idle(self) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.write("idle\n")
        self.proc.stdin.flush()
        self._expect("IDLE")

    def stop(self) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.close()
        self.proc.terminate()
        self.proc.wait(timeout=30)


def prepare(db_url: str, voters: int) -> None:
    """A cohort bound to CHANNEL, ``voters`` confirmed participants, a four-option poll."""
    bot = build_bot(make_settings(db_url, organizers="slack:U0ORGA"), SystemClock())

    def say(user: str, line: str, name: str | None = None) -> str:
        req = Request(Identity("slack", user), Conversation("slack", CHANNEL), line, handle=name)
        return "\n".join(r.message.plain_text() for r in bot.dispatcher.handle(req) if r.message)

    say("U0ORGA", f'jahrgang anlegen "Bench" plaetze={voters}')
    for i in range(voters):
        answer = say(
            voter(i),
            f'anmelden name="P {i}" kommune=K funktion=Stabsstelle '
            f"email=p{i}@example.org zustimmung=ja",
            handle(i),
        )
        assert "Platz" in answer, answer
    created = say(
        "U0ORGA", 'umfrage "Welches Thema?" "Wohnen" "Mobilität" "Pflege" "Bildung" sofort'
    )
    assert "1" in created, created
    bot.engine.dispose()


def counted(db_url: str) -> dict[str, int]:
    """The final tally, and how many edits of the poll post the clicks caused (refresh rows
    coalesce a poll's clicks between two sends into one chat.update; "version": the clicks
    that changed a ballot)."""
    bot = build_bot(make_settings(db_url), SystemClock())
    with bot.uow_factory() as uow:
        ballots = uow.session.scalar(select(PollCounter.ballots)) or 0
        version = uow.session.scalar(select(PollCounter.version)) or 0
        votes = uow.session.scalar(select(func.count(Vote.id))) or 0
        edits = uow.session.scalar(
            select(func.count(OutboxMessage.id)).where(
                OutboxMessage.operation.in_(("update", "refresh"))
            )
        )
    bot.engine.dispose()
    return {
        "ballots": int(ballots),
        "votes": int(votes),
        "ballot_changes": int(version),
        "post_edits": int(edits or 0),
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


def run_backend(
    name: str, db_url: str, api: str, bare_url: str, args: argparse.Namespace, tmp: Path
) -> list[dict[str, Any]]:
    """Per level a fresh bot process (Home refreshes still pending from the previous level
    are dropped, as at a restart), a short warm-up of both sides, then bare and bot."""
    prepare(db_url, args.voters)
    log_path = tmp / f"bot-{name}.log"
    rows: list[dict[str, Any]] = []
    start, pool = 0, args.voters * 4 * 10
    with log_path.open("w", encoding="utf-8") as log:
        for level in args.levels:
            bot = Server(log, "bot", "--api", api, "--db", db_url)
            try:
                bot.wait_idle()  # the poll's first post is delivered
                common = {"concurrency": level, "voters": args.voters, "pool": pool}
                drive(bare_url, seconds=1, start=0, **common)
                start = drive(bot.url, seconds=1, start=start, **common).next_start
                bot.wait_idle()
                bare = drive(bare_url, seconds=args.seconds, start=0, **common)
                mine = drive(bot.url, seconds=args.seconds, start=start, **common)
                start = mine.next_start
                bot.wait_idle()
            finally:
                bot.stop()
            rows.append(
                {
                    "db": name,
                    "concurrency": level,
                    "bare": bare.as_dict(),
                    "bot": mine.as_dict(),
                    "ratio": mine.rps / bare.rps,
                }
            )
            print(_line(rows[-1]), flush=True)
    logged = log_path.read_text(encoding="utf-8")
    tally = counted(db_url)
    for row in rows:
        row["database_locked"] = logged.count("database is locked")
        row["logged_errors"] = logged.count("Traceback")
        row["final_count"] = tally
    return rows


HEADER = (
    f"{'db':<9}{'conc':>5}{'bare rps':>10}{'bot rps':>9}{'ratio':>7}"
    f"{'bare p50':>10}{'bot p50':>9}{'bare p99':>10}{'bot p99':>9}{'errors':>8}"
)


def _line(r: dict[str, Any]) -> str:
    b, m = r["bare"], r["bot"]
    return (
        f"{r['db']:<9}{r['concurrency']:>5}{b['rps']:>10.0f}{m['rps']:>9.0f}"
        f"{r['ratio']:>7.2f}{b['p50_ms']:>10.1f}{m['p50_ms']:>9.1f}{b['p99_ms']:>10.1f}"
        f"{m['p99_ms']:>9.1f}{m['errors'] + b['errors']:>8}"
    )


def _commit() -> str:
    done = subprocess.run(
        ["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"], capture_output=True, text=True
    )
    return done.stdout.strip() or "unknown"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--db", default="sqlite,postgres")
    parser.add_argument("--levels", default="1,10,50")
    parser.add_argument("--seconds", type=float, default=8.0)
    parser.add_argument("--voters", type=int, default=300)
    parser.add_argument("--out", default=str(ROOT / "bench" / "results" / "request.json"))
    args = parser.parse_args()
    args.levels = [int(x) for x in args.levels.split(",")]
    load_before = os.getloadavg()
    results: list[dict[str, Any]] = []
    print(HEADER, flush=True)
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        with (tmp / "double.log").open("w") as dlog, (tmp / "bare.log").open("w") as blog:
            double = Server(dlog, "double")
            bare = Server(blog, "bare", "--api", double.url)
            try:
                for name in args.db.split(","):
                    url = f"sqlite:///{tmp}/bench.db" if name == "sqlite" else pg_url()
                    results += run_backend(name, url, double.url, bare.url, args, tmp)
            finally:
                bare.stop()
                double.stop()
    for r in results:
        print(
            f"{r['db']} c={r['concurrency']}: 'database is locked' logged "
            f"{r['database_locked']}×, tracebacks {r['logged_errors']}, final {r['final_count']}"
        )
    meta = {
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": f"{platform.machine()}, {os.cpu_count()} cores, Python "
        f"{platform.python_version()}",
        "seconds_per_run": args.seconds,
        "voters": args.voters,
        "load": "wrk, own process, new connection per request",
        "loadavg_before": [round(x, 2) for x in load_before],
        "loadavg_after": [round(x, 2) for x in os.getloadavg()],
        "commit": _commit(),
    }
    Path(args.out).write_text(
        json.dumps({"meta": meta, "rows": results}, indent=2) + "\n", encoding="utf-8"
    )


if __name__ == "__main__":
    time.tzset()
    main()
