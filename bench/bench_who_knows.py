"""Benchmark for "wer kennt sich aus" over 2,000 alumni profiles (issue 18: p99 < 20 ms).

Run:  .venv/bin/python bench/bench_who_knows.py [--profiles 2000] [--rounds 20] [--db URL]

Two figures:

* ``lookup``: what the command does — the cohort's members ranked in Python
  (bot.networking.ranking.rank) and the alumni found by their precomputed folded topic keys
  (bot.networking.alumni.matches: an indexed query on ``alumni_topic_keys``), merged. Timed
  against a real database (a fresh SQLite file with the migrations applied, or ``--db``), in an
  open unit of work as in a request.
* ``python_ranking``: for comparison, ranking every one of the 2,000 profiles in Python.

Prints the latencies and writes bench/results/who_knows.json. Always exits 0 (``make bench``
goes on); a missed goal is reported in the output and the JSON (``goal_met``).
"""

from __future__ import annotations

import argparse
import json
import platform
import random
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # bench/ is not a package; make bot/ importable

from sqlalchemy.orm import Session, sessionmaker  # noqa: E402

from bot.networking import alumni  # noqa: E402
from bot.networking.ranking import Candidate, merge, rank  # noqa: E402
from bot.networking.topics import CURATED  # noqa: E402
from storage.db import create_db_engine, session_factory  # noqa: E402
from storage.migrate import upgrade  # noqa: E402
from storage.models import Person  # noqa: E402
from storage.models_alumni import AlumniTopicKey, Alumnus  # noqa: E402
from storage.models_networking import Profile  # noqa: E402
from storage.uow import SqlUnitOfWork  # noqa: E402

QUERIES = [*CURATED, "ÖPNV", "Senioren-Wohnen", "Dorfkino", "Hitzeschutz", "Raumfahrt"]
VORHABEN = (
    "Mobilität auf dem Land",
    "Seniorenbüro im Rathaus",
    "Hitzeaktionsplan für die Innenstadt",
    "Quartierstreff mit Ehrenamtlichen",
    "",
)
GOAL_MS = 20
MEMBERS = 20  # the asking cohort's own participants, ranked in Python as before


def profiles(count: int, seed: int) -> list[Candidate]:
    rng = random.Random(seed)
    tags = [*CURATED, "Dorfkino", "Bürgerbus", "Pflegestützpunkt"]
    return [
        Candidate(
            i,
            f"Person {i}",
            f"Kommune {i % 300}",
            tuple(rng.sample(tags, rng.randint(0, 4))),
            f"{rng.choice(VORHABEN)} {i}",  # every text differs, as in life
        )
        for i in range(count)
    ]


def seed_alumni(factory: sessionmaker[Session], people: list[Candidate]) -> None:
    """Persons, profiles, alumni rows and their keys, as ``alumni ja`` leaves them."""
    now = datetime.now(UTC)
    with SqlUnitOfWork(factory) as uow:
        for c in people:
            person = Person(display_name=c.name, municipality=c.municipality, created_at=now)
            uow.session.add(person)
            uow.session.flush()
            uow.session.add(
                Profile(
                    person_id=person.id,
                    topics=list(c.topics),
                    vorhaben_title=c.vorhaben,
                    updated_at=now,
                )
            )
            row = Alumnus(
                person_id=person.id,
                cohort_name="Stadtlabor 2025",
                year=2025,
                topics=[],
                consent="ja",
                consent_at=now,
                source="cohort",
            )
            uow.session.add(row)
            uow.session.flush()
            uow.session.add_all(
                AlumniTopicKey(alumnus_id=row.id, key=k, kind=kind, tag=tag)
                for k, kind, tag in alumni.topic_keys(c.topics, c.vorhaben)
            )
        uow.commit()


def _percentiles(timings: list[float]) -> dict[str, float]:
    ms = sorted(t * 1000 for t in timings)
    return {
        "p50_ms": round(ms[len(ms) // 2], 2),
        "p99_ms": round(ms[min(len(ms) - 1, int(len(ms) * 0.99))], 2),
        "max_ms": round(ms[-1], 2),
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--profiles", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=20)
    parser.add_argument("--db", default="", help="database URL (default: a fresh SQLite file)")
    args = parser.parse_args()
    people = profiles(args.profiles, seed=18)
    members = profiles(MEMBERS, seed=19)
    with tempfile.TemporaryDirectory() as folder:
        url = args.db or f"sqlite:///{folder}/bench.db"
        engine = create_db_engine(url)
        upgrade(engine)
        factory = session_factory(engine)
        seed_alumni(factory, people)
        lookup: list[float] = []
        found = 0
        with SqlUnitOfWork(factory, read_only=True) as uow:
            for query in QUERIES:  # warm-up
                alumni.matches(uow, query, exclude=set())
            for _ in range(args.rounds):
                for query in QUERIES:
                    started = time.perf_counter()
                    answer = merge(
                        rank(query, members, limit=len(members)),
                        alumni.matches(uow, query, exclude=set()),
                    )
                    lookup.append(time.perf_counter() - started)
                    found += len(answer)
        engine.dispose()
    for query in QUERIES:  # warm-up: the tag-folding cache fills once per process
        rank(query, people)
    python: list[float] = []
    for _ in range(args.rounds):
        for query in QUERIES:
            started = time.perf_counter()
            rank(query, people)
            python.append(time.perf_counter() - started)
    figures = _percentiles(lookup)
    report = {
        "profiles": args.profiles,
        "members": MEMBERS,
        "queries": len(lookup),
        "database": "sqlite file" if not args.db else url.split(":", 1)[0],
        "lookup": figures,
        "python_ranking": _percentiles(python),
        "goal_p99_ms": GOAL_MS,
        "python": platform.python_version(),
        "goal_met": figures["p99_ms"] < GOAL_MS,
    }
    print(json.dumps(report, indent=2))
    out = ROOT / "bench" / "results" / "who_knows.json"
    out.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    if not report["goal_met"]:
        print(f"GOAL MISSED: lookup p99 {figures['p99_ms']} ms (goal < {GOAL_MS} ms)")


if __name__ == "__main__":
    main()
