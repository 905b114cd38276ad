"""Benchmark for bot.networking.ranking.rank: "wer kennt sich aus" over 2,000 profiles.

Run:  .venv/bin/python bench/bench_who_knows.py [--profiles 2000] [--rounds 20]
Prints the latency per query and writes bench/results/who_knows.json. The goal from issue 18
is p99 < 20 ms at 2,000 (alumni) profiles. Only the ranking is timed, not the database read.
"""

from __future__ import annotations

import argparse
import json
import platform
import random
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # bench/ is not a package; make bot/ importable

from bot.networking.ranking import Candidate, rank  # noqa: E402
from bot.networking.topics import CURATED  # noqa: E402

QUERIES = [*CURATED, "ÖPNV", "Senioren-Wohnen", "Dorfkino", "Hitzeschutz", "Raumfahrt"]
VORHABEN = (
    "Mobilität auf dem Land",
    "Seniorenbüro im Rathaus",
    "Hitzeaktionsplan für die Innenstadt",
    "Quartierstreff mit Ehrenamtlichen",
    "",
)


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


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--profiles", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=20)
    args = parser.parse_args()
    people = profiles(args.profiles, seed=18)
    for query in QUERIES:  # warm-up: the tag-folding cache fills once per process
        rank(query, people)
    timings = []
    for _ in range(args.rounds):
        for query in QUERIES:
            started = time.perf_counter()
            rank(query, people)
            timings.append(time.perf_counter() - started)
    timings.sort()
    ms = [t * 1000 for t in timings]
    report = {
        "profiles": args.profiles,
        "queries": len(ms),
        "p50_ms": round(ms[len(ms) // 2], 2),
        "p99_ms": round(ms[int(len(ms) * 0.99)], 2),
        "max_ms": round(ms[-1], 2),
        "goal_p99_ms": 20,
        "python": platform.python_version(),
    }
    print(json.dumps(report, indent=2))
    out = ROOT / "bench" / "results" / "who_knows.json"
    out.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    if report["p99_ms"] >= 20:
        sys.exit(f"ranking over {args.profiles} profiles: p99 {report['p99_ms']} ms (goal < 20)")


if __name__ == "__main__":
    main()
