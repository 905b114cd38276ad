"""Benchmark: the organisers' overview page (issue 17) under 10 concurrent browsers.

Run:  .venv/bin/python bench/bench_web.py [--seconds 10] [--concurrency 10]
      [--cohorts 100] [--backends sqlite,postgres]
Per backend (a SQLite file; PostgreSQL from STADTLABOR_TEST_DATABASE_URL in a fresh schema) a
cohort of 20 confirmed participants with 3 meetings, 10 open polls and 6 open feedback rounds
is built through the chat commands (tests/web/seed.py); the web server runs as `stadtlabor
console --web-port 0` runs it (handlers.web.app.start_web) and an organiser logs in with the
link from the DM. Measured over HTTP at ``--concurrency`` concurrent requests:

* ``/healthz`` — the baseline: the same server, worker pool, unit of work and one query;
* ``/jahrgang`` — the overview, once with this one cohort and once after ``--cohorts``-1 more
  cohorts of the same shape were added to the same database (bulk-inserted rows): the ratio
  shows whether other cohorts slow the page down.

Also counts the SQL statements of one overview request. Prints a table and writes
bench/results/web.json.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import platform
import re
import statistics
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import aiohttp
from sqlalchemy import event, text

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # bench/ is not a package; make bot/ and storage/ importable

from request_load import drive_get  # noqa: E402

from app import Bot, build_bot  # noqa: E402
from bot.clock import SimulatedClock  # noqa: E402
from handlers.web.app import start_web  # noqa: E402
from handlers.web.core import COOKIE  # noqa: E402
from storage.models import (  # noqa: E402
    Cohort,
    FeedbackRound,
    Meeting,
    Participant,
    Person,
    Poll,
    PollOption,
)
from storage.models_feedback import FeedbackPresenter  # noqa: E402
from storage.models_meetings import Attendance  # noqa: E402
from storage.models_polls import PollBallot  # noqa: E402
from tests.helpers import Driver, make_settings  # noqa: E402
from tests.support.pg_schema import bench_database  # noqa: E402
from tests.web import seed  # noqa: E402
from tests.web.support import counted, login_link  # noqa: E402

RESULTS = ROOT / "bench" / "results" / "web.json"
START = datetime(2026, 11, 25, 11, 0, tzinfo=UTC)
TOKEN = re.compile(r'name="token" value="([^"]+)"')
CSRF = re.compile(r'name="csrf" value="([^"]+)"')


def more_cohorts(bot: Bot, count: int, like: Cohort) -> None:
    """``count`` cohorts shaped like the measured one (20 people, 3 meetings with 10 answers,
    10 polls with 6 ballots each, 6 rounds with a presenter), inserted in bulk. They are
    closed (earlier years, as in a real database after some years): running cohorts would
    each add a line to the page's cohort switch, which measures the page, not the queries."""
    now = bot.clock.now()
    with bot.uow_factory() as uow:
        for k in range(count):
            cohort = Cohort(
                programme_id=like.programme_id,
                name=f"Vergleich {k}",
                capacity=20,
                created_at=now,
                ended_at=now,
            )
            people = [
                Person(display_name=f"P{k}-{i}", municipality=f"Ort {i}", created_at=now)
                for i in range(20)
            ]
            uow.session.add_all([cohort, *people])
            uow.session.flush()
            uow.session.add_all(
                Participant(
                    cohort_id=cohort.id,
                    person_id=p.id,
                    status="confirmed",
                    registered_at=now + timedelta(microseconds=i),
                    updated_at=now,
                )
                for i, p in enumerate(people)
            )
            meetings = [
                Meeting(
                    cohort_id=cohort.id,
                    number=m,
                    title=f"Treffen {m}",
                    starts_at=now + timedelta(days=30 * m),
                    ends_at=now + timedelta(days=30 * m + 1),
                )
                for m in (1, 2, 3)
            ]
            polls = [
                Poll(cohort_id=cohort.id, number=n, question=f"Frage {n}?", created_at=now)
                for n in range(1, 11)
            ]
            rounds = [
                FeedbackRound(
                    cohort_id=cohort.id,
                    number=r,
                    title=f"Runde {r}",
                    questions={"fragen": ["Was?"]},
                    closes_at=now + timedelta(days=7),
                    created_at=now,
                )
                for r in range(1, 7)
            ]
            uow.session.add_all([*meetings, *polls, *rounds])
            uow.session.flush()
            options = [
                PollOption(poll_id=poll.id, position=i, label=label)
                for poll in polls
                for i, label in enumerate(("Ja", "Nein", "Vielleicht"), 1)
            ]
            uow.session.add_all(options)
            uow.session.add_all(
                PollBallot(poll_id=poll.id, person_id=p.id, vote_ids=[])
                for poll in polls
                for p in people[:6]
            )
            uow.session.add_all(
                Attendance(meeting_id=meetings[0].id, person_id=p.id, days="1,2", answered_at=now)
                for p in people[:10]
            )
            uow.session.add_all(
                FeedbackPresenter(round_id=rnd.id, person_id=people[r].id)
                for r, rnd in enumerate(rounds)
            )
        uow.commit()
    if bot.engine.dialect.name == "postgresql":
        # What autovacuum does soon after a bulk insert; without it the planner still sees
        # the tiny tables of before and joins the ballots by scanning (40 ms instead of 2).
        with bot.engine.connect() as conn:
            conn.execute(text("ANALYZE"))
            conn.commit()


async def log_in(session: aiohttp.ClientSession, base: str, link: str) -> None:
    async with session.get(link) as shown:
        token = TOKEN.findall(await shown.text())[0]
    async with session.post(base + "/anmelden", data={"token": token}) as landed:
        html = await landed.text()
        assert landed.status == 200, html
    # Several cohorts run at once: choose the measured one (as the select on the page does).
    async with session.post(
        base + "/jahrgang/wahl", data={"csrf": CSRF.findall(html)[0], "jahrgang": "1"}
    ) as chosen:
        assert chosen.status == 200


def load(url: str, cookie: str, seconds: float, concurrency: int) -> dict[str, float]:
    """``url`` under ``concurrency`` keep-alive connections for ``seconds``, driven by wrk in
    its own process (an in-process client would take the server's interpreter lock)."""
    headers = {"Cookie": f"{COOKIE}={cookie}"} if cookie else {}
    drive_get(url, headers=headers, concurrency=concurrency, seconds=1)  # warm-up
    run = drive_get(url, headers=headers, concurrency=concurrency, seconds=seconds)
    assert run.errors == 0, f"{run.errors} errors on {url}"
    return {
        "p50_ms": round(run.p50_ms, 2),
        "p99_ms": round(run.p99_ms, 2),
        "per_second": round(run.rps, 1),
        "requests": run.requests,
    }


async def sql_ms(bot: Bot, session: aiohttp.ClientSession, url: str, n: int = 40) -> float:
    """Median time the database spends on one page (all its statements), requests one by one:
    what more cohorts in the database could slow down, without the Python around it."""
    spent: list[float] = []
    started: dict[int, float] = {}

    def before(_c: object, _cur: object, _s: str, _p: object, ctx: Any, _m: bool) -> None:
        started[id(ctx)] = time.perf_counter()

    def after(_c: object, _cur: object, _s: str, _p: object, ctx: Any, _m: bool) -> None:
        began = started.pop(id(ctx), None)
        if began is not None:
            spent.append((time.perf_counter() - began) * 1000)

    event.listen(bot.engine, "before_cursor_execute", before)
    event.listen(bot.engine, "after_cursor_execute", after)
    per_page: list[float] = []
    try:
        for _ in range(n):
            spent.clear()
            async with session.get(url) as answer:
                await answer.read()
            per_page.append(sum(spent))
    finally:
        event.remove(bot.engine, "before_cursor_execute", before)
        event.remove(bot.engine, "after_cursor_execute", after)
    return round(statistics.median(per_page), 3)


async def measure(bot: Bot, args: argparse.Namespace) -> dict[str, Any]:
    driver = Driver(bot)
    seed.cohort(driver, "Stadtlabor 2027")
    server = start_web(bot)
    assert server is not None
    base = server.url
    result: dict[str, Any] = {}
    try:
        jar = aiohttp.CookieJar(unsafe=True)
        connector = aiohttp.TCPConnector(limit=args.concurrency)
        async with aiohttp.ClientSession(cookie_jar=jar, connector=connector) as session:
            await log_in(session, base, login_link(driver, "orga"))
            cookie = next(c.value for c in jar if c.key == COOKIE)
            result["healthz"] = load(base + "/healthz", "", args.seconds, args.concurrency)
            with counted(bot) as statements:
                async with session.get(base + "/jahrgang") as page:
                    size = len(await page.read())
            result["statements_per_overview"] = len(statements)
            result["overview_bytes"] = size
            result["overview_1_cohort"] = load(
                base + "/jahrgang", cookie, args.seconds, args.concurrency
            )
            result["sql_ms_per_overview_1_cohort"] = await sql_ms(bot, session, base + "/jahrgang")
            with bot.uow_factory() as uow:
                first = uow.session.get(Cohort, 1)
                assert first is not None
                uow.session.expunge(first)
            more_cohorts(bot, args.cohorts - 1, first)
            with counted(bot) as statements:
                async with session.get(base + "/jahrgang") as page:
                    assert "Frage 10?" in await page.text()
            result["statements_per_overview_many"] = len(statements)
            result[f"overview_{args.cohorts}_cohorts"] = load(
                base + "/jahrgang", cookie, args.seconds, args.concurrency
            )
            result[f"sql_ms_per_overview_{args.cohorts}_cohorts"] = await sql_ms(
                bot, session, base + "/jahrgang"
            )
    finally:
        server.stop()
    one = result["overview_1_cohort"]["p99_ms"]
    result["ratio_overview_to_healthz_p99"] = round(one / result["healthz"]["p99_ms"], 2)
    many = result[f"overview_{args.cohorts}_cohorts"]["p99_ms"]
    result["ratio_many_to_one_cohort_p99"] = round(many / one, 2)
    return result


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--concurrency", type=int, default=10)
    parser.add_argument("--cohorts", type=int, default=100)
    parser.add_argument("--backends", default="sqlite,postgres")
    args = parser.parse_args()
    report: dict[str, Any] = {
        "date": datetime.now(UTC).date().isoformat(),
        "machine": f"{platform.machine()}, Python {platform.python_version()}",
        "seconds": args.seconds,
        "concurrency": args.concurrency,
        "cohorts": args.cohorts,
        "goal": "overview p99 < 30 ms at 10 concurrent; 100 cohorts do not slow it down",
    }
    for backend in args.backends.split(","):
        with bench_database(backend, "web") as url:
            settings = make_settings(url, organizers="console:orga", web_port=0)
            bot = build_bot(settings, SimulatedClock(START))
            try:
                report[backend] = asyncio.run(measure(bot, args))
            finally:
                bot.engine.dispose()
        print(backend, json.dumps(report[backend], indent=1))
    RESULTS.parent.mkdir(exist_ok=True)
    RESULTS.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
