"""What ``GET /healthz`` reports: database reachable, outbox backlog, scheduler leader.

The scheduler's leader holds a PostgreSQL advisory lock (:mod:`bot.scheduling.engine`); any
instance sees in ``pg_locks`` whether some instance holds it. On SQLite there is one instance
and it leads whenever it runs the scheduler, so the field is ``None`` there.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from sqlalchemy import func, select, text
from sqlalchemy.exc import SQLAlchemyError

from bot.scheduling.engine import LOCK_KEY
from storage.models import OutboxMessage
from storage.uow import UnitOfWork

log = logging.getLogger(__name__)

LEADER_HELD = text(
    "SELECT EXISTS (SELECT 1 FROM pg_locks WHERE locktype = 'advisory' AND granted"
    " AND classid = CAST(:k AS oid)"
    " AND objid = CAST(hashtext(current_schema()) AS bigint) & 4294967295 AND objsubid = 2)"
)


def report(uow_factory: Callable[[], UnitOfWork]) -> dict[str, Any]:
    """``database`` (bool), ``outbox_backlog`` (rows pending or being sent, None when the
    database does not answer) and ``scheduler_leader`` (PostgreSQL only)."""
    result: dict[str, Any] = {"database": False, "outbox_backlog": None, "scheduler_leader": None}
    try:
        with uow_factory() as uow:
            backlog = uow.session.scalar(
                select(func.count())
                .select_from(OutboxMessage)
                .where(OutboxMessage.status.in_(("pending", "sending")))
            )
            result["database"] = True
            result["outbox_backlog"] = int(backlog or 0)
            if uow.session.get_bind().dialect.name == "postgresql":
                result["scheduler_leader"] = bool(uow.session.scalar(LEADER_HELD, {"k": LOCK_KEY}))
    except SQLAlchemyError as exc:
        log.warning("healthz: database unreachable: %s", str(exc).splitlines()[0][:200])
    return result
