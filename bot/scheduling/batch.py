"""The engine's way to run due rows: those that fall due together share one transaction."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime, timedelta

from sqlalchemy import select, update

from bot.reminders import DueContext, DueHandlers
from bot.settings import Settings
from storage.models import Person, Reminder
from storage.uow import UnitOfWork

log = logging.getLogger("bot.reminders")


def run_batch(
    uow_factory: Callable[[], UnitOfWork],
    handlers: DueHandlers,
    settings: Settings,
    now: datetime,
    *,
    realtime: bool = False,
    before_commit: Callable[[UnitOfWork], object] | None = None,
    limit: int = 20,
) -> list[int]:
    """Run up to ``limit`` rows due at ``now`` in one transaction (the engine's job: rows that
    fall due together share one commit); returns the ids it ran. Each handler runs in a
    savepoint, so one failing row is marked ``failed`` without undoing the others;
    ``before_commit`` runs inside the transaction."""
    with uow_factory() as uow:
        ids = list(
            uow.session.scalars(
                select(Reminder.id)
                .where(Reminder.status == "pending", Reminder.due_at <= now)
                .order_by(Reminder.due_at, Reminder.id)
                .limit(limit)
                .with_for_update(skip_locked=True)  # PostgreSQL: other workers take the rest
            )
        )
        if not ids:
            return []
        claimed = list(
            uow.session.scalars(
                update(Reminder)
                .where(Reminder.id.in_(ids), Reminder.status == "pending", Reminder.due_at <= now)
                .values(status="running", attempts=Reminder.attempts + 1)
                .returning(Reminder.id)
            )
        )
        rows = list(uow.session.scalars(select(Reminder).where(Reminder.id.in_(claimed))))
        # Loaded once for the batch (and held, the identity map is weak): handlers that look
        # up the row's person find it without another query.
        people = {r.person_id for r in rows if r.person_id is not None}
        held = list(uow.session.scalars(select(Person).where(Person.id.in_(people))))
        for reminder in sorted(rows, key=lambda r: (r.due_at, r.id)):
            _handle(uow, handlers, settings, now, reminder, realtime)
        del held
        if before_commit is not None:
            before_commit(uow)
        uow.commit()
        return claimed


def _handle(
    uow: UnitOfWork,
    handlers: DueHandlers,
    settings: Settings,
    now: datetime,
    reminder: Reminder,
    realtime: bool,
) -> int:
    reminder_id = reminder.id
    handler = handlers.get(reminder.kind)
    if handler is None:
        log.error("no handler for due kind %s (row %s)", reminder.kind, reminder_id)
        reminder.status = "failed"
        return 0
    lateness = max(now - reminder.due_at, timedelta(0)) if realtime else timedelta(0)
    try:
        with uow.session.begin_nested():
            handler(DueContext(uow, reminder, now, settings, lateness))
    except Exception:
        log.exception("due row %s (%s) failed", reminder_id, reminder.kind)
        uow.session.execute(
            update(Reminder).where(Reminder.id == reminder_id).values(status="failed")
        )
        return 0
    if reminder.status == "running":
        reminder.status = "done"
    return 1
