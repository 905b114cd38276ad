"""The due-work kernel: scheduled work on the database as truth (reminders, deadlines,
milestone messages).

A row in ``reminders`` says *what* is due *when* (``kind`` + ids in ``target``; no personal data
in the scheduler): :func:`schedule`, :func:`cancel`. Each feature registers a handler per kind
(:class:`DueHandlers`); the one executor (:func:`bot.scheduling.batch.run_batch`) claims due
rows, runs their handlers with a :class:`DueContext` and marks them done in one transaction,
and the handlers' messages are outbox rows in that same transaction — so a crash either
leaves a row pending (and nothing was sent) or done (and its messages are queued): never
lost, never doubled. What could not be done in time goes to the organisers' digest
(:func:`record_missed`).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select

from bot.settings import Settings
from storage.models import Reminder
from storage.models_reminders import DigestEntry
from storage.ports import UnitOfWorkPort
from storage.uow import UnitOfWork

log = logging.getLogger(__name__)


HEARTBEAT_KEY = "reminders:heartbeat"
NOTIFY_CHANNEL = "stadtlabor_reminders"
DEFAULT_GRACE_HOURS = 6.0


@dataclass
class DueContext:
    """``lateness``: how long after its due time the row runs while the engine runs in real
    time (after downtime); zero under a simulated clock (``!clock`` jumps are not downtime)."""

    uow: UnitOfWork
    reminder: Reminder
    now: datetime
    settings: Settings
    lateness: timedelta = timedelta(0)

    @property
    def grace(self) -> timedelta:
        return grace_period(self.settings)


def grace_period(settings: Settings) -> timedelta:
    """STADTLABOR_REMINDER_GRACE_HOURS (default 6): late work within it is still sent."""
    return timedelta(hours=settings.reminder_grace_hours)


_listeners: list[Callable[[], None]] = []


def on_change(listener: Callable[[], None]) -> Callable[[], None]:
    """Call ``listener`` after a commit that scheduled or moved a row (this process);
    returns a function that removes it again."""
    _listeners.append(listener)
    return lambda: _listeners.remove(listener) if listener in _listeners else None


def _wake() -> None:
    """After a commit that scheduled or moved a row: wake this process's engine."""
    for listener in list(_listeners):
        try:
            listener()
        except Exception:
            log.exception("reminder change listener failed")


DueHandler = Callable[[DueContext], None]


class DueHandlers:
    """kind → handler; each feature registers the kinds it schedules."""

    def __init__(self) -> None:
        self._handlers: dict[str, DueHandler] = {}

    def add(self, kind: str, handler: DueHandler) -> None:
        if kind in self._handlers:
            raise ValueError(f"due kind registered twice: {kind}")
        self._handlers[kind] = handler

    def get(self, kind: str) -> DueHandler | None:
        return self._handlers.get(kind)

    @property
    def kinds(self) -> list[str]:
        return sorted(self._handlers)


def schedule(
    uow: UnitOfWorkPort,
    *,
    key: str,
    due_at: datetime,
    kind: str,
    now: datetime,
    cohort_id: int | None = None,
    person_id: int | None = None,
    target: dict[str, Any] | None = None,
    text: str | None = None,
    recurrence: str | None = None,
) -> Reminder:
    """Create the row for ``key``, or move a still-pending one to the new time (idempotent)."""
    row = uow.reminders.by_key(key)
    if row is None:
        row = Reminder(
            idempotency_key=key,
            due_at=due_at,
            kind=kind,
            cohort_id=cohort_id,
            person_id=person_id,
            target=target or {},
            text=text,
            recurrence=recurrence,
            status="pending",
            attempts=0,
            created_at=now,
        )
        uow.reminders.add(row)
    elif row.status == "pending":
        row.due_at, row.target, row.text = due_at, target or {}, text
        row.recurrence = recurrence
    # after commit: wake this process's engine; on PostgreSQL also NOTIFY the leader
    uow.reminders.announce(NOTIFY_CHANNEL, _wake)
    return row


def cancel(uow: UnitOfWorkPort, key_prefix: str) -> int:
    """Cancel pending rows whose key starts with ``key_prefix``."""
    return uow.reminders.cancel_prefix(key_prefix)


DIGEST_KIND = "reminders-digest"


def record_missed(uow: UnitOfWork, source: str, ref_id: int, now: datetime) -> None:
    """Remember for the organisers' digest that ``source`` row ``ref_id`` was missed or is
    uncertain, and make sure one digest run is pending (ids only; texts are read at send time)."""
    uow.session.add(DigestEntry(at=now, source=source, ref_id=ref_id))
    pending = uow.session.scalar(
        select(Reminder.id).where(Reminder.kind == DIGEST_KIND, Reminder.status == "pending")
    )
    if pending is None:
        schedule(
            uow,
            key=f"{DIGEST_KIND}:{source}:{ref_id}:{now.isoformat()}",
            due_at=now,
            kind=DIGEST_KIND,
            now=now,
        )
