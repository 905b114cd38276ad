"""Due work: everything that becomes due with time (reminders, deadlines) runs through here.

The clock is injected, so the console's ``!clock`` and the tests run due work without waiting.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime

log = logging.getLogger(__name__)

DueJob = Callable[[datetime], int]


class DueWorkRunner:
    def __init__(self) -> None:
        self._jobs: list[tuple[str, DueJob]] = []

    def add(self, name: str, job: DueJob) -> None:
        self._jobs.append((name, job))

    def run_due(self, now: datetime) -> int:
        """Run every job for ``now`` in registration order; returns how much work was done."""
        done = 0
        for name, job in self._jobs:
            try:
                done += job(now)
            except Exception:
                log.exception("due job %s failed at %s", name, now.isoformat())
        return done
