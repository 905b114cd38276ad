"""``GET /healthz``: database reachable, outbox backlog, scheduler leader (PostgreSQL).

The scheduler's leader holds a PostgreSQL advisory lock (:mod:`bot.scheduling.engine`); any
instance sees in ``pg_locks`` whether some instance holds it. On SQLite there is one instance
and it leads whenever it runs the scheduler, so the field is ``null`` there.
"""

from __future__ import annotations

import json
import logging
from typing import Any

from sqlalchemy import func, select, text
from sqlalchemy.exc import SQLAlchemyError

from bot.scheduling.engine import LOCK_KEY
from handlers.web.core import Page, WebDeps, WebRequest
from storage.models import OutboxMessage

log = logging.getLogger(__name__)

LEADER_HELD = text(
    "SELECT EXISTS (SELECT 1 FROM pg_locks WHERE locktype = 'advisory' AND granted"
    " AND classid = CAST(:k AS oid)"
    " AND objid = CAST(hashtext(current_schema()) AS bigint) & 4294967295 AND objsubid = 2)"
)


def healthz(deps: WebDeps, _req: WebRequest) -> Page:
    report: dict[str, Any] = {"database": False, "outbox_backlog": None, "scheduler_leader": None}
    try:
        with deps.uow_factory() as uow:
            backlog = uow.session.scalar(
                select(func.count())
                .select_from(OutboxMessage)
                .where(OutboxMessage.status.in_(("pending", "sending")))
            )
            report["database"] = True
            report["outbox_backlog"] = int(backlog or 0)
            if uow.session.get_bind().dialect.name == "postgresql":
                report["scheduler_leader"] = bool(uow.session.scalar(LEADER_HELD, {"k": LOCK_KEY}))
    except SQLAlchemyError as exc:
        log.warning("healthz: database unreachable: %s", str(exc).splitlines()[0][:200])
    ok = report["database"]
    return Page(
        status=200 if ok else 503,
        body=json.dumps({"ok": ok, **report}).encode(),
        content_type="application/json",
    )
