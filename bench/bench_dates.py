"""Benchmark for bot.dates.parse_when: latency after warm-up, and accuracy against raw dateparser.

Run:  .venv/bin/python bench/bench_dates.py [--rounds N]
Prints a table and writes bench/results/dates.json. Uses the phrase table of the tests
(tests/dates_cases.py), so accuracy here is measured on exactly the cases the tests pin down.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import time
from datetime import date
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # bench/ is not a package; make bot/ and tests/ importable

import dateparser  # noqa: E402

from bot.dates import messages as msg  # noqa: E402
from bot.dates import parse_when  # noqa: E402
from bot.errors import UserFacingError  # noqa: E402
from tests.dates_cases import CASES, NOWS, Case  # noqa: E402

TZ = "Europe/Berlin"
RESULTS = ROOT / "bench" / "results" / "dates.json"


def ours(case: Case) -> str:
    """parse_when's answer in the table's notation: ISO minutes+offset or the error's name."""
    try:
        return parse_when(case.text, now=NOWS[case.now], tz=TZ).isoformat(timespec="minutes")
    except UserFacingError as err:
        return next(n for n, v in vars(msg).items() if n.isupper() and v == err.msgid)


def raw(case: Case) -> str:
    """Raw dateparser as the issue describes it: languages, future preference, base, zone."""
    now = NOWS[case.now]
    settings: Any = {
        "PREFER_DATES_FROM": "future",
        "RELATIVE_BASE": now.replace(tzinfo=None),
        "TIMEZONE": TZ,
        "RETURN_AS_TIMEZONE_AWARE": True,
    }
    try:
        found = dateparser.parse(case.text, languages=["de", "en"], settings=settings)
    except Exception:  # raw dateparser may raise on odd input; that counts as a refusal
        return "ERROR"
    return "ERROR" if found is None else found.isoformat(timespec="minutes")


def correct(case: Case, answer: str) -> bool:
    if case.expected[0].isdigit():
        return answer == case.expected
    # For a phrase that must be refused, any refusal counts for raw dateparser (it has no
    # error types); parse_when must give the exact error message.
    return not answer[0].isdigit() and answer in {case.expected, "ERROR"}


def percentile(samples: list[float], share: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def latencies(parse: Any, rounds: int) -> list[float]:
    samples = []
    for _ in range(rounds):
        for case in CASES:
            started = time.perf_counter()
            parse(case)
            samples.append((time.perf_counter() - started) * 1000)
    return samples


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=20, help="timed passes over the table")
    rounds = parser.parse_args().rounds

    started = time.perf_counter()
    ours(CASES[0])
    first_call_ms = (time.perf_counter() - started) * 1000
    started = time.perf_counter()
    parse_when("1-Dec-2026", now=NOWS["wed"], tz=TZ)  # the rules hand this to dateparser
    first_fallback_ms = (time.perf_counter() - started) * 1000
    warm_ours = [ours(case) for case in CASES]  # warm-up, and the answers for accuracy
    warm_raw = [raw(case) for case in CASES]
    ours_ms, raw_ms = latencies(ours, rounds), latencies(raw, rounds)

    valid = [i for i, case in enumerate(CASES) if case.expected[0].isdigit()]
    refuse = [i for i, case in enumerate(CASES) if i not in set(valid)]

    def share(answers: list[str], indices: list[int]) -> float:
        return sum(correct(CASES[i], answers[i]) for i in indices) / len(indices)

    everything = list(range(len(CASES)))
    report: dict[str, Any] = {
        "date": date.today().isoformat(),
        "machine": f"{platform.machine()}, {os.cpu_count()} cores, "
        f"Python {platform.python_version()}",
        "dateparser": dateparser.__version__,
        "cases": len(CASES),
        "rounds": rounds,
        "first_call_ms": round(first_call_ms, 1),
        "first_fallback_call_ms": round(first_fallback_ms, 1),
        "parse_when_ms": {"p50": percentile(ours_ms, 0.50), "p99": percentile(ours_ms, 0.99),
                          "max": max(ours_ms), "mean": statistics.fmean(ours_ms)},
        "dateparser_ms": {"p50": percentile(raw_ms, 0.50), "p99": percentile(raw_ms, 0.99),
                          "max": max(raw_ms), "mean": statistics.fmean(raw_ms)},
        "accuracy": {
            name: {"parse_when": share(warm_ours, idx), "dateparser": share(warm_raw, idx),
                   "cases": len(idx)}
            for name, idx in (("all", everything), ("valid", valid), ("refusals", refuse))
        },
        # Fairer to dateparser, which cannot know our default 09:00: is the calendar day right?
        "same_day": {
            "parse_when": sum(warm_ours[i][:10] == CASES[i].expected[:10] for i in valid)
            / len(valid),
            "dateparser": sum(warm_raw[i][:10] == CASES[i].expected[:10] for i in valid)
            / len(valid),
        },
        "raw_wrong": [
            {"now": CASES[i].now, "text": CASES[i].text[:60], "expected": CASES[i].expected,
             "dateparser": warm_raw[i]}
            for i in everything if not correct(CASES[i], warm_raw[i])
        ],
        "parse_when_wrong": [
            {"now": CASES[i].now, "text": CASES[i].text[:60], "expected": CASES[i].expected,
             "parse_when": warm_ours[i]}
            for i in everything if not correct(CASES[i], warm_ours[i])
        ],
    }  # fmt: skip
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(report, indent=2, ensure_ascii=False, default=str) + "\n")
    _print(report)


def _print(report: dict[str, Any]) -> None:
    ours_ms, raw_ms = report["parse_when_ms"], report["dateparser_ms"]
    print(f"bot.dates benchmark - {report['cases']} phrases x {report['rounds']} rounds")
    print(f"{report['machine']}, dateparser {report['dateparser']}, {report['date']}")
    print(f"first call (cold): {report['first_call_ms']:.1f} ms, first call that reaches the")
    print(f"dateparser fallback: {report['first_fallback_call_ms']:.1f} ms\n")
    print(f"{'':28}{'raw dateparser':>16}{'parse_when':>14}")
    for key in ("p50", "p99", "max"):
        print(f"{'latency ' + key + ' (ms)':28}{raw_ms[key]:>16.2f}{ours_ms[key]:>14.2f}")
    for name, row in report["accuracy"].items():
        label = f"correct, {name} ({row['cases']})"
        print(f"{label:28}{row['dateparser']:>16.1%}{row['parse_when']:>14.1%}")
    same_day = report["same_day"]
    label = "right day, valid (time aside)"
    print(f"{label:28}{same_day['dateparser']:>16.1%}{same_day['parse_when']:>14.1%}")
    print(f"\nraw dateparser wrong on {len(report['raw_wrong'])}, e.g.:")
    for row in report["raw_wrong"][:12]:
        print(f"  {row['text']!r:32} expected {row['expected']:24} got {row['dateparser']}")
    print(f"parse_when wrong on {len(report['parse_when_wrong'])}")
    print(f"\nwritten to {RESULTS.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
