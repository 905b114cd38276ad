"""Crash safety: the console bot is killed with SIGKILL at seeded random points of a scripted
run and restarted; no reminder is lost, and one shows up twice only if its outbox row was
marked ``uncertain`` (its send was interrupted between the platform call and the commit)."""

from __future__ import annotations

import contextlib
import os
import random
import re
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

ROOT = Path(__file__).resolve().parents[1]
REMINDERS = 30
STEPS = ["!clock +2m"] * 50  # 100 minutes of simulated time, reminders every 3 minutes


def _run(db: str, lines: list[str], kill_at: tuple[int, float] | None) -> str:
    """Run the console on ``lines``; ``kill_at=(n, delay)``: SIGKILL ``delay`` seconds after
    the n-th clock step was echoed (so the kill lands inside the scripted work)."""
    env = {**os.environ, "STADTLABOR_DATABASE_URL": db, "PYTHONPATH": str(ROOT)}
    env.pop("STADTLABOR_ORGANIZERS", None)
    proc = subprocess.Popen(
        [sys.executable, "-u", "app.py", "console"],
        cwd=ROOT,
        env=env,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
    )
    assert proc.stdin is not None and proc.stdout is not None
    stdout = proc.stdout
    out: list[str] = []
    steps = threading.Semaphore(0)

    def read() -> None:
        for raw in stdout:
            line = raw.decode("utf-8", errors="replace")
            out.append(line)
            if line.startswith("[clock]"):
                steps.release()

    reader = threading.Thread(target=read)
    reader.start()
    with contextlib.suppress(BrokenPipeError):
        proc.stdin.write("".join(f"{line}\n" for line in lines).encode())
        proc.stdin.close()
    if kill_at is not None:
        for _ in range(kill_at[0]):
            if not steps.acquire(timeout=60):
                break
        time.sleep(kill_at[1])
        proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=120)
    reader.join(timeout=30)
    return "".join(out)


def _crash_run(tmp_path: Path, seed: int, kills: int) -> None:
    db = f"sqlite:///{tmp_path}/crash.db"
    setup = [f"@anna dm: erinnern in {3 * k + 2} Minuten; R{k}" for k in range(REMINDERS)]
    out = _run(db, setup, None)
    assert out.count("angelegt") == REMINDERS
    rng = random.Random(seed)
    outputs = []
    for _ in range(kills):
        outputs.append(_run(db, STEPS, (rng.randint(1, 12), rng.uniform(0, 0.02))))
    outputs.append(_run(db, STEPS, None))  # and a final run to the end
    seen = Counter(re.findall(r"Erinnerung: (R\d+)", "".join(outputs)))
    engine = create_engine(db)
    with engine.connect() as conn:
        uncertain = {
            str(row[0])
            for row in conn.execute(text("SELECT payload FROM outbox WHERE status = 'uncertain'"))
        }
        left = conn.execute(
            text("SELECT count(*) FROM reminders WHERE status IN ('pending', 'running')")
        ).scalar()
    engine.dispose()
    assert left == 0
    for k in range(REMINDERS):
        name = f"R{k}"
        marked = any(
            f"Erinnerung: {name}\\n" in p or f'Erinnerung: {name}"' in p for p in uncertain
        )
        assert seen[name] >= 1 or marked, f"{name} lost (seed {seed})"
        assert seen[name] <= 1 or marked, f"{name} sent {seen[name]} times (seed {seed})"


def test_sigkill_at_random_points_loses_no_reminder(tmp_path: Path) -> None:
    _crash_run(tmp_path, seed=8, kills=2)


@pytest.mark.slow
@pytest.mark.parametrize("seed", [1, 2, 3])
def test_sigkill_long(tmp_path: Path, seed: int) -> None:
    started = time.monotonic()
    _crash_run(tmp_path, seed=seed, kills=12)
    assert time.monotonic() - started < 300
