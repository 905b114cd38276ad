"""Scheduled work on the database as truth: reminders, deadlines, milestone messages.

A row in ``reminders`` says *what* is due *when* (``kind`` + ids in ``target``; no personal data
in the scheduler). Due rows are run by kind-specific handlers. A row is claimed, handled and
marked done in one transaction, and the handler's messages are outbox rows in that same
transaction — so a crash either leaves the row pending (and nothing was sent) or done (and its
messages are queued): never lost, never doubled.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select, update

from bot.settings import Settings
from storage.models import Reminder
from storage.uow import UnitOfWork

log = logging.getLogger(__name__)


@dataclass
class DueContext:
    uow: UnitOfWork
    reminder: Reminder
    now: datetime
    settings: Settings


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
    uow: UnitOfWork,
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
    row = uow.session.scalar(select(Reminder).where(Reminder.idempotency_key == key))
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
        uow.session.add(row)
    elif row.status == "pending":
        row.due_at, row.target, row.text = due_at, target or {}, text
    uow.session.flush()
    return row


def cancel(uow: UnitOfWork, key_prefix: str) -> int:
    """Cancel pending rows whose key starts with ``key_prefix``."""
    result = uow.session.execute(
        update(Reminder)
        .where(
            Reminder.idempotency_key.startswith(key_prefix, autoescape=True),
            Reminder.status == "pending",
        )
        .values(status="cancelled")
    )
    return int(getattr(result, "rowcount", 0) or 0)


def due_ids(uow: UnitOfWork, now: datetime, limit: int = 500) -> list[int]:
    return list(
        uow.session.scalars(
            select(Reminder.id)
            .where(Reminder.status == "pending", Reminder.due_at <= now)
            .order_by(Reminder.due_at, Reminder.id)
            .limit(limit)
        )
    )


def run_due(
    uow_factory: Callable[[], UnitOfWork],
    handlers: DueHandlers,
    settings: Settings,
    now: datetime,
) -> int:
    """Run every pending row due at ``now``, oldest first; returns how many were handled."""
    with uow_factory() as uow:
        ids = due_ids(uow, now)
    done = 0
    for reminder_id in ids:
        done += _run_one(uow_factory, handlers, settings, now, reminder_id)
    return done


def _run_one(
    uow_factory: Callable[[], UnitOfWork],
    handlers: DueHandlers,
    settings: Settings,
    now: datetime,
    reminder_id: int,
) -> int:
    with uow_factory() as uow:
        claimed = uow.session.execute(
            update(Reminder)
            .where(Reminder.id == reminder_id, Reminder.status == "pending")
            .values(status="running", attempts=Reminder.attempts + 1)
        )
        if getattr(claimed, "rowcount", 0) != 1:
            return 0  # another worker has it
        reminder = uow.session.get(Reminder, reminder_id)
        assert reminder is not None
        handler = handlers.get(reminder.kind)
        if handler is None:
            log.error("no handler for due kind %s (row %s)", reminder.kind, reminder_id)
            reminder.status = "failed"
            uow.commit()
            return 0
        try:
            handler(DueContext(uow, reminder, now, settings))
        except Exception:
            log.exception("due row %s (%s) failed", reminder_id, reminder.kind)
            uow.rollback()
            _mark_failed(uow_factory, reminder_id)
            return 0
        if reminder.status == "running":
            reminder.status = "done"
        uow.commit()
        return 1


def _mark_failed(uow_factory: Callable[[], UnitOfWork], reminder_id: int) -> None:
    with uow_factory() as uow:
        uow.session.execute(
            update(Reminder).where(Reminder.id == reminder_id).values(status="failed")
        )
        uow.commit()
