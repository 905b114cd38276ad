"""The one scheduler of a process: due rows through the one executor, then the periodic jobs.

:meth:`Scheduler.run_due` is what "everything due at ``now``" means, for every caller: the
reminder engine's refill (real time), the console's ``!clock`` and the tests (simulated time).
It runs :func:`bot.scheduling.batch.run_due` (batches until nothing is due; with the
process's sender a batch's messages are handed over right after its commit), then each job
registered with :meth:`Scheduler.add` (retention, expiry) in registration order. The engine
(:mod:`bot.scheduling.engine`) runs :meth:`Scheduler.run_batch` when a row's job fires.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime

from bot.outbox.sender import OutboxSender
from bot.scheduling import batch
from bot.scheduling.due import DueHandlers
from bot.settings import Settings
from storage.uow import UnitOfWork

log = logging.getLogger(__name__)

DueJob = Callable[[datetime], int]


class Scheduler:
    def __init__(
        self,
        uow_factory: Callable[[], UnitOfWork],
        handlers: DueHandlers,
        settings: Settings,
        sender: OutboxSender | None = None,
    ) -> None:
        self.uow_factory, self.handlers, self.settings = uow_factory, handlers, settings
        self.sender = sender
        self._jobs: list[tuple[str, DueJob]] = []

    def add(self, name: str, job: DueJob) -> None:
        """A periodic job, run after the due rows on every :meth:`run_due`."""
        self._jobs.append((name, job))

    def run_batch(self, now: datetime, *, realtime: bool = True) -> list[int]:
        """One batch of the rows due at ``now`` (the engine's row job); returns their ids.
        The outcomes of the hand-over are written off this thread (the next row may be due)."""
        return batch.run_handing_over(
            self.uow_factory,
            self.handlers,
            self.settings,
            now,
            realtime=realtime,
            sender=self.sender,
            record_later=True,
        )

    def run_due(self, now: datetime, *, realtime: bool | None = None) -> int:
        """Everything due at ``now``: the rows (until none is left), then the jobs; returns how
        much work was done. A failing job is logged; the others still run."""
        done = 0
        try:
            done += batch.run_due(
                self.uow_factory,
                self.handlers,
                self.settings,
                now,
                realtime=realtime,
                sender=self.sender,
            )
        except Exception:
            log.exception("due rows failed at %s", now.isoformat())
        return done + self.run_jobs(now)

    def drain(self) -> None:
        """Wait until the outcomes of the hand-overs so far are written."""
        if self.sender is not None:
            self.sender.drain()

    def run_jobs(self, now: datetime) -> int:
        done = 0
        for name, job in self._jobs:
            try:
                done += job(now)
            except Exception:
                log.exception("due job %s failed at %s", name, now.isoformat())
        return done
