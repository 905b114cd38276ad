"""Benchmark for bot.networking.matching.pair_up: tandems for 200 people (goal < 1 s).

Run:  .venv/bin/python bench/bench_tandems.py [--people 200] [--rounds 5]
Prints the timings and writes bench/results/tandems.json. Each round pairs the same cohort
again with the pairs of all earlier rounds forbidden (as ``tandems starten`` does), so later
rounds run on a sparser graph.
"""

from __future__ import annotations

import argparse
import json
import platform
import random
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # bench/ is not a package; make bot/ importable

import networkx  # noqa: E402

from bot.networking import matching  # noqa: E402
from bot.networking.matching import Member, Tandems, pair_up, pairs_of, weight  # noqa: E402
from bot.networking.topics import CURATED, key  # noqa: E402

SIZES = ("Landgemeinde", "Kleinstadt", "Mittelstadt", "Großstadt")


def cohort(people: int, seed: int) -> list[Member]:
    rng = random.Random(seed)
    topics = [key(t) for t in CURATED]
    return [
        Member(
            i,
            frozenset(rng.sample(topics, rng.randint(0, 4))),
            frozenset(rng.sample(topics, rng.randint(0, 1))),
            rng.choice(SIZES),
            i < 3,  # three people from the host city
        )
        for i in range(people)
    ]


def fit(members: list[Member], result: Tandems) -> int:
    by_id = {m.person_id: m for m in members}
    return sum(weight(by_id[a], by_id[b], key("Pflege")) for a, b in pairs_of(result.groups))


def exact(members: list[Member]) -> tuple[float, int]:
    """The first round solved on the full graph: how long, and its fit (the optimum)."""
    sparse_above = matching.SPARSE_ABOVE
    matching.SPARSE_ABOVE = len(members) + 1
    try:
        started = time.perf_counter()
        result = pair_up(members, set(), theme=key("Pflege"))
        return time.perf_counter() - started, fit(members, result)
    finally:
        matching.SPARSE_ABOVE = sparse_above


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--people", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    members = cohort(args.people, seed=18)
    history: set[frozenset[int]] = set()
    seconds = []
    fits = []
    for _ in range(args.rounds):
        started = time.perf_counter()
        result = pair_up(members, history, theme=key("Pflege"))
        seconds.append(time.perf_counter() - started)
        assert not result.unplaced and not pairs_of(result.groups) & history
        history |= pairs_of(result.groups)
        fits.append(fit(members, result))
    exact_s, exact_fit = exact(members)
    report = {
        "people": args.people,
        "rounds": args.rounds,
        "seconds_per_round": [round(s, 4) for s in seconds],
        "max_s": round(max(seconds), 4),
        "median_s": round(statistics.median(seconds), 4),
        "goal_s": 1.0,
        "first_round_full_graph_s": round(exact_s, 4),
        "first_round_fit_vs_full_graph": round(fits[0] / exact_fit, 4),
        "python": platform.python_version(),
        "networkx": networkx.__version__,
    }
    print(json.dumps(report, indent=2))
    out = ROOT / "bench" / "results" / "tandems.json"
    out.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    if max(seconds) >= 1.0:
        sys.exit(f"tandem matching for {args.people} people took {max(seconds):.2f} s (goal < 1 s)")


if __name__ == "__main__":
    main()
