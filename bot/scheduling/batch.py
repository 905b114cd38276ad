"""The one executor of due rows: those that fall due together share one transaction.

:func:`run_batch` runs one batch; :func:`run_due` runs batches until nothing is due (the
console's simulated clock, ``!clock``, and the tests); the reminder engine runs a batch when a
row's APScheduler job fires. With an :class:`~bot.outbox.sender.OutboxSender`, a batch's
outbox rows are claimed before its commit and handed to the platform right after it.

The rows are claimed with one conditional UPDATE (RETURNING what a plan depends on). Rows of
the kinds ``dm``/``channel`` are then written from a plan (:mod:`bot.scheduling.prepare`:
made ahead of time by the engine, or now for the whole batch in a few queries): their outbox
rows are inserted together, the rows marked done (or moved to their next occurrence) with one
executemany and the "last reminder" state upserted with another. Every other row (and a
``dm``/``channel`` row that is late by more than a minute, gone or without a plan) runs its
kind's handler in a savepoint, as before.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from typing import cast

from sqlalchemy import Executable, Table, bindparam, case, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session, make_transient_to_detached

from bot.outbox import send
from bot.outbox.enqueue import NEW_ROWS, Outgoing
from bot.outbox.sender import LEFT_BEHIND, OutboxSender
from bot.scheduling import prepare, service
from bot.scheduling.due import HEARTBEAT_KEY, DueContext, DueHandlers, grace_period
from bot.scheduling.recurrence import next_occurrence
from bot.settings import Settings
from storage.models import KeyValue, OutboxMessage, Person, Reminder
from storage.uow import UnitOfWork

log = logging.getLogger("bot.scheduling.due")
_REMINDERS = cast(Table, Reminder.__table__)
_FINISH = (
    update(_REMINDERS)
    .where(_REMINDERS.c.id == bindparam("b_id"))
    .values(
        status=bindparam("b_status", type_=_REMINDERS.c.status.type),
        due_at=bindparam("b_due", type_=_REMINDERS.c.due_at.type),
    )
)


def run_batch(
    uow_factory: Callable[[], UnitOfWork],
    handlers: DueHandlers,
    settings: Settings,
    now: datetime,
    *,
    realtime: bool = False,
    before_commit: Callable[[UnitOfWork], object] | None = None,
    limit: int = 20,
    failed: list[int] | None = None,
) -> list[int]:
    """Run up to ``limit`` rows due at ``now`` in one transaction (the engine's job: rows that
    fall due together share one commit); returns the ids it ran. Each handler runs in a
    savepoint, so one failing row is marked ``failed`` without undoing the others (its id is
    added to ``failed``); ``before_commit`` runs inside the transaction."""
    prepared = prepare.register(uow_factory, handlers, settings)
    fast_until = min(service.LATE_AFTER, grace_period(settings))
    with uow_factory() as uow:
        rows = _claim(uow, now, limit)
        if not rows:
            return []
        plans: dict[int, prepare.Plan] = {}
        unplanned: list[prepare.Snapshot] = []
        for row in rows:
            lateness = max(now - row.due_at, timedelta(0)) if realtime else timedelta(0)
            if not prepared.plannable(row.kind) or lateness > fast_until:
                continue
            plan = prepared.take(row)
            if plan is None:
                unplanned.append(row)
            else:
                plans[row.id] = plan
        if unplanned:
            plans.update(prepare.plan_rows(uow.session, settings, unplanned))
        slow = [r.id for r in rows if r.id not in plans]
        if slow:  # first: a DM row without a plan is late, due before the planned ones
            lost = _run_handlers(uow, handlers, settings, now, slow, realtime)
            if failed is not None:
                failed.extend(lost)
        last = _apply(uow, [plans[r.id] for r in rows if r.id in plans], now, settings)
        if before_commit is not None:
            before_commit(uow)
        _put_last(uow, last)  # last: on PostgreSQL its row lock is held only until the commit
        uow.commit()
        return [r.id for r in rows]


def run_due(
    uow_factory: Callable[[], UnitOfWork],
    handlers: DueHandlers,
    settings: Settings,
    now: datetime,
    *,
    realtime: bool | None = None,
    sender: OutboxSender | None = None,
    limit: int = 20,
) -> int:
    """Run every row due at ``now``, batch after batch, until none is left; returns how many
    were handled (without the failed ones). ``realtime`` (lateness counts) defaults to whether
    an engine runs on this database (its heartbeat); a simulated clock's jump is not lateness."""
    if realtime is None:
        with uow_factory() as uow:
            realtime = uow.state.get(HEARTBEAT_KEY) is not None
    done, seen = 0, set[int]()
    while True:
        failed: list[int] = []
        ran = run_handing_over(
            uow_factory,
            handlers,
            settings,
            now,
            realtime=realtime,
            sender=sender,
            limit=limit,
            failed=failed,
        )
        if not ran or seen.issuperset(ran):  # (a handler that keeps its row due: once)
            return done + (len(ran) - len(failed) if ran else 0)
        seen.update(ran)
        done += len(ran) - len(failed)


def run_handing_over(
    uow_factory: Callable[[], UnitOfWork],
    handlers: DueHandlers,
    settings: Settings,
    now: datetime,
    *,
    realtime: bool,
    sender: OutboxSender | None,
    limit: int = 20,
    failed: list[int] | None = None,
    record_later: bool = False,
) -> list[int]:
    """:func:`run_batch`; with a ``sender``, the batch's outbox rows for the platforms it has
    a Messenger for are claimed in the transaction and sent right after the commit (their
    outcomes written by the sender's recorder thread if ``record_later``)."""
    claimed: list[OutboxMessage] = []
    left: list[OutboxMessage] = []

    def claim(uow: UnitOfWork) -> None:
        if sender is not None:
            claimed.extend(sender.claim_enqueued(uow, now))
            left.extend(uow.session.info.pop(LEFT_BEHIND, []))

    ran = run_batch(
        uow_factory,
        handlers,
        settings,
        now,
        realtime=realtime,
        before_commit=claim,
        limit=limit,
        failed=failed,
    )
    if sender is not None and claimed:
        sender.deliver_claimed(claimed, background=record_later)
    if sender is not None and left:
        sender.deliver_left(left)  # (after the commit: they are in the table)
    return ran


# A one-off row is "done" from its claim on (one statement less per batch; its handler may
# still set another status), a recurring one "running" until it is moved to its next time.
_CLAIMED = case((_REMINDERS.c.recurrence.is_(None), "done"), else_="running")


@functools.cache
def _claim_statement(limit: int) -> Executable:
    """Built once (building a statement costs more than running it on this hot path)."""
    due = (
        select(_REMINDERS.c.id)
        .where(
            _REMINDERS.c.status == "pending",
            _REMINDERS.c.due_at <= bindparam("b_now", type_=_REMINDERS.c.due_at.type),
        )
        .order_by(_REMINDERS.c.due_at, _REMINDERS.c.id)
        .limit(limit)
        .with_for_update(skip_locked=True)  # PostgreSQL: other workers take the rest
    )
    # A CTE: PostgreSQL runs it once (a plain IN (subquery) may be rescanned by a nested
    # loop, and with SKIP LOCKED each rescan takes other rows — the LIMIT would not hold).
    chosen = due.cte("due")
    return (
        update(_REMINDERS)
        # (no second status test: the CTE's rows are locked, or SQLite's single writer)
        .where(_REMINDERS.c.id == chosen.c.id)
        .values(status=_CLAIMED, attempts=_REMINDERS.c.attempts + 1)
        .returning(*(_REMINDERS.c[col.key] for col in prepare.COLUMNS))
    )


def _claim(uow: UnitOfWork, now: datetime, limit: int) -> list[prepare.Snapshot]:
    result = uow.session.execute(_claim_statement(limit), {"b_now": now})
    rows = [prepare.Snapshot.of(r) for r in result]
    return sorted(rows, key=lambda r: (r.due_at, r.id))


_OUTBOX = cast(Table, OutboxMessage.__table__)


@functools.cache
def _insert_statement(dialect: str) -> Executable:
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    return (
        insert(_OUTBOX)
        .on_conflict_do_nothing(index_elements=["idempotency_key"])
        .returning(_OUTBOX.c.id, _OUTBOX.c.idempotency_key)
    )


def _insert_outgoing(
    session: Session, outgoing: Sequence[Outgoing], now: datetime
) -> list[OutboxMessage]:
    """Insert the outbox rows in one statement (idempotent like :func:`bot.outbox.enqueue`:
    a key that exists is not added again) and return them as persistent ORM objects, as
    :meth:`bot.outbox.OutboxSender.claim_enqueued` expects, without loading them back."""
    fresh: dict[str, Outgoing] = {}
    for out in outgoing:
        fresh.setdefault(out.key, out)
    if not fresh:
        return []
    values = [
        {
            "idempotency_key": out.key,
            "platform": out.platform,
            "operation": out.operation,
            "target": out.target,
            "payload": out.payload,
            "status": "pending",
            "attempts": 0,
            "not_before": now,
            "created_at": now,
        }
        for out in fresh.values()
    ]
    dialect = session.get_bind().dialect.name
    ids = dict((key, rid) for rid, key in session.execute(_insert_statement(dialect), values))
    added: list[OutboxMessage] = []
    for value in values:
        rid = ids.get(value["idempotency_key"])
        if rid is None:
            continue  # the key existed
        obj = OutboxMessage(id=rid, lease_until=None, sent_at=None, result=None, error=None)
        for name, item in value.items():
            setattr(obj, name, item)
        make_transient_to_detached(obj)
        session.add(obj)
        added.append(obj)
        message = fresh[str(value["idempotency_key"])].message
        if message is not None:
            send.keep_rendered(obj, message)  # a hand-over sends it without decoding the payload
    return added


@functools.cache
def _upsert_statement(dialect: str) -> Executable:
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    table = cast(Table, KeyValue.__table__)
    upsert = insert(table).values(key=bindparam("b_key"), value=bindparam("b_value"))
    return upsert.on_conflict_do_update(
        index_elements=["key"], set_={"value": upsert.excluded.value}
    )


def _apply(
    uow: UnitOfWork, plans: Sequence[prepare.Plan], now: datetime, settings: Settings
) -> dict[int, int]:
    """Write what the plans say, for the whole batch at once (the handlers' effects); returns
    person → row id for the "last reminder" state."""
    if not plans:
        return {}
    session = uow.session
    added = _insert_outgoing(session, [out for plan in plans for out in plan.outgoing], now)
    if added:
        session.info.setdefault(NEW_ROWS, []).extend(added)  # for OutboxSender.claim_enqueued
    finish = []
    last: dict[int, int] = {}
    for plan in plans:
        row = plan.row
        if row.recurrence:  # (one-off rows are "done" since their claim)
            due = next_occurrence(row.recurrence, max(now, row.due_at), settings.timezone)
            finish.append({"b_id": row.id, "b_status": "pending", "b_due": due})
        if plan.last_for is not None:
            last[plan.last_for] = row.id
    if finish:
        session.execute(_FINISH, finish)
    return last


def _put_last(uow: UnitOfWork, last: dict[int, int]) -> None:
    """The "last reminder" of each person (what ``später`` moves), one upsert for the batch."""
    if last:
        uow.session.execute(
            _upsert_statement(uow.session.get_bind().dialect.name),
            [
                {"b_key": service.LAST_KEY.format(person_id=pid), "b_value": str(rid)}
                for pid, rid in last.items()
            ],
        )


def _run_handlers(
    uow: UnitOfWork,
    handlers: DueHandlers,
    settings: Settings,
    now: datetime,
    ids: list[int],
    realtime: bool,
) -> list[int]:
    """Run the kinds' handlers of ``ids``; returns the ids that failed."""
    rows = list(uow.session.scalars(select(Reminder).where(Reminder.id.in_(ids))))
    # Loaded once for the batch (and held, the identity map is weak): handlers that look
    # up the row's person find it without another query.
    people = {r.person_id for r in rows if r.person_id is not None}
    held = list(uow.session.scalars(select(Person).where(Person.id.in_(people))))
    failed = [
        reminder.id
        for reminder in sorted(rows, key=lambda r: (r.due_at, r.id))
        if not _handle(uow, handlers, settings, now, reminder, realtime)
    ]
    del held
    return failed


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
    if reminder.status == "running":  # (a one-off row is "done" since its claim)
        reminder.status = "done"
    return 1
