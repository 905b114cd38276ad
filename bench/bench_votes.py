"""Benchmark: 1,000 votes from 1,000 distinct participants, as fast as the machine allows.

Run:  .venv/bin/python bench/bench_votes.py [--votes 1000] [--threads 1,8]
      [--backends sqlite,postgres]
Per backend (a SQLite file; PostgreSQL from STADTLABOR_TEST_DATABASE_URL, default
postgresql://postgres@127.0.0.1:5432/test, in a fresh schema that is dropped afterwards) a cohort
with plaetze=N gets N confirmed participants and two polls, each posted (so every vote also
coalesces the in-place result update in the outbox). Then N votes are cast by ``--threads``
workers (each worker count in a fresh database), once through the service (``polls.cast_vote``
in its own unit of work) and once through the dispatcher (``abstimmen 2 N`` as typed). Prints a
table and writes bench/results/votes.json with throughput, p50/p99 latency and the final count.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import threading
import time
from collections.abc import Callable
from contextlib import AbstractContextManager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # bench/ is not a package; make bot/ and storage/ importable


from app import Bot, build_bot  # noqa: E402
from bot.clock import SimulatedClock  # noqa: E402
from bot.context import Conversation, Request  # noqa: E402
from bot.identity import Identity  # noqa: E402
from bot.services import polls  # noqa: E402
from bot.services.cohorts import create_cohort  # noqa: E402
from bot.services.poll_results import tally  # noqa: E402
from bot.settings import Settings  # noqa: E402
from storage.models import Participant, Person, PlatformIdentity, Poll, PostedMessage  # noqa: E402
from tests.support.pg_schema import bench_database  # noqa: E402

RESULTS = ROOT / "bench" / "results" / "votes.json"
START = datetime(2026, 11, 25, 11, 0, tzinfo=UTC)


def database(backend: str) -> AbstractContextManager[str]:
    return bench_database(backend, "votes")


def setup(bot: Bot, n: int) -> list[int]:
    """A cohort with ``n`` confirmed participants and two posted polls; returns person ids."""
    now = bot.clock.now()
    with bot.uow_factory() as uow:
        organiser = Person(display_name="Benchmark", created_at=now, is_organiser=True)
        uow.session.add(organiser)
        uow.session.flush()
        cohort = create_cohort(
            uow,
            actor_id=organiser.id,
            name="Benchmark",
            capacity=n,
            moderated=False,
            deadline=None,
            platform="console",
            channel_id="stadtlabor",
            now=now,
        )
        uow.session.flush()
        people = [Person(display_name=f"Person {i}", created_at=now) for i in range(n)]
        uow.session.add_all(people)
        uow.session.flush()
        for i, person in enumerate(people):
            uow.session.add(
                PlatformIdentity(person_id=person.id, platform="console", external_id=f"v{i:05d}")
            )
            uow.session.add(
                Participant(
                    cohort_id=cohort.id,
                    person_id=person.id,
                    status="confirmed",
                    registered_at=now,
                    updated_at=now,
                )
            )
        for number in (1, 2):
            spec = polls.PollSpec(f"Benchmark {number}?", ("A", "B", "C", "D"))
            poll = polls.create_poll(
                uow,
                cohort=cohort,
                spec=spec,
                creator_id=people[0].id,
                now=now,
                settings=bot.settings,
            )
            uow.session.add(
                PostedMessage(
                    subject=f"poll:{poll.id}",
                    platform="console",
                    channel_id="stadtlabor",
                    message_id=str(number),
                )
            )
        uow.commit()
        return [p.id for p in people]


def run(work: list[Callable[[], None]], threads: int) -> tuple[float, list[float]]:
    """Run every callable once on ``threads`` workers; wall time and per-call latencies."""
    latencies: list[float] = []
    lock = threading.Lock()
    queue = list(reversed(work))

    def worker() -> None:
        while True:
            with lock:
                if not queue:
                    return
                job = queue.pop()
            started = time.perf_counter()
            job()
            elapsed = time.perf_counter() - started
            with lock:
                latencies.append(elapsed)

    pool = [threading.Thread(target=worker) for _ in range(threads)]
    begun = time.perf_counter()
    for t in pool:
        t.start()
    for t in pool:
        t.join()
    return time.perf_counter() - begun, latencies


def service_vote(bot: Bot, poll_id: int, person_id: int, option: int) -> Callable[[], None]:
    def vote() -> None:
        with bot.uow_factory() as uow:
            polls.cast_vote(
                uow,
                poll_id=poll_id,
                person_id=person_id,
                positions=(option,),
                mode="replace",
                now=bot.clock.now(),
                settings=bot.settings,
            )
            uow.commit()

    return vote


def typed_vote(bot: Bot, user: str, option: int) -> Callable[[], None]:
    req = Request(
        Identity("console", user),
        Conversation("console", None, is_direct=True),
        f"abstimmen 2 {option}",
    )

    def vote() -> None:
        answer = bot.dispatcher.handle(req)[0].message
        assert answer is not None and "gezählt" in answer.plain_text(), answer

    return vote


def summary(wall: float, latencies: list[float], counted: Any, n: int) -> dict[str, Any]:
    cuts = statistics.quantiles(latencies, n=100, method="inclusive")
    return {
        "votes": len(latencies),
        "seconds": round(wall, 3),
        "votes_per_second": round(len(latencies) / wall, 1),
        "p50_ms": round(cuts[49] * 1000, 2),
        "p99_ms": round(cuts[98] * 1000, 2),
        "max_ms": round(max(latencies) * 1000, 2),
        "ballots_counted": counted.ballots,
        "votes_counted": sum(counted.counts.values()),
        "exact": counted.ballots == n and sum(counted.counts.values()) == n,
    }


def bench(backend: str, n: int, threads: int) -> dict[str, Any]:
    with database(backend) as url:
        settings = Settings(database_url=url, _env_file=None)  # type: ignore[call-arg]
        bot = build_bot(settings, SimulatedClock(START))
        try:
            people = setup(bot, n)
            with bot.uow_factory() as uow:
                poll_ids = [p.id for p in polls.polls_of(uow, polls_of_cohort(uow))]
            out: dict[str, Any] = {}
            for mode, poll_id in (("service", poll_ids[0]), ("dispatcher", poll_ids[1])):
                if mode == "service":
                    work = [
                        service_vote(bot, poll_id, pid, i % 4 + 1) for i, pid in enumerate(people)
                    ]
                else:
                    work = [typed_vote(bot, f"v{i:05d}", i % 4 + 1) for i in range(n)]
                wall, latencies = run(work, threads)
                with bot.uow_factory() as uow:
                    poll = uow.session.get(Poll, poll_id)
                    assert poll is not None
                    counted = tally(uow, poll)
                out[mode] = summary(wall, latencies, counted, n)
            return out
        finally:
            bot.engine.dispose()


def polls_of_cohort(uow: Any) -> int:
    cohort = uow.cohorts.get_by_name("Benchmark")
    assert cohort is not None
    return int(cohort.id)


def print_table(results: dict[str, Any]) -> None:
    n = results["votes"]
    print(f"{n} votes from {n} distinct participants (load before: {results['load_before']})")
    head = f"{'backend, threads / path':<34}{'votes/s':>9}{'p50 ms':>9}{'p99 ms':>9}{'max ms':>10}"
    print(head + "  final count")
    for name, modes in results["runs"].items():
        if "error" in modes:
            print(f"{name:<34} skipped: {modes['error']}")
            continue
        for mode, row in modes.items():
            print(
                f"{name + ' / ' + mode:<34}{row['votes_per_second']:>9}{row['p50_ms']:>9}"
                f"{row['p99_ms']:>9}{row['max_ms']:>10}  {row['ballots_counted']} "
                f"({'exact' if row['exact'] else 'WRONG'})"
            )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--votes", type=int, default=1000)
    parser.add_argument("--threads", default="1,8", help="comma-separated worker counts")
    parser.add_argument("--backends", default="sqlite,postgres")
    args = parser.parse_args()
    results: dict[str, Any] = {
        "machine": (
            f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}"
        ),
        "date": datetime.now(UTC).date().isoformat(),
        "load_before": " ".join(f"{x:.2f}" for x in os.getloadavg()),
        "votes": args.votes,
        "runs": {},
    }
    for backend in args.backends.split(","):
        for threads in (int(t) for t in args.threads.split(",")):
            name = f"{backend}, {threads} threads"
            try:
                results["runs"][name] = bench(backend, args.votes, threads)
            except Exception as exc:  # e.g. no PostgreSQL reachable: report and go on
                results["runs"][name] = {"error": str(exc).splitlines()[0][:200]}
    print_table(results)
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    failed = any(
        not row.get("exact", False)
        for m in results["runs"].values()
        if "error" not in m
        for row in m.values()
    )
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
