"""A comparable snapshot of every table, to assert that a request changed nothing.

Left out is what any request may touch without changing anything a user could see: an
identity's ``last_seen_at`` and ``handle``, the adapters' own bookkeeping in ``bot_state``
(Matrix sync token and DM rooms, Slack event de-duplication and open modals), an outbox
row's delivery progress and ``posted_messages`` (an older message may still be on its way; a
new outbox row does count).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.engine import Engine

from storage.models import Base

IGNORED_COLUMNS = {
    "identities": {"last_seen_at", "handle"},
    "outbox": {"status", "attempts", "lease_until", "sent_at", "result", "error", "not_before"},
}
ADAPTER_STATE = ("matrix:", "slack:event:", "slack:form:")

Snapshot = dict[str, list[tuple[Any, ...]]]


def snapshot(engine: Engine) -> Snapshot:
    """Every table's rows (sorted, as text), without the columns and keys named above."""
    found: Snapshot = {}
    with engine.connect() as conn:
        for table in Base.metadata.sorted_tables:
            if table.name == "posted_messages":
                continue  # written when an older outbox row is delivered; new posts show there
            skip = IGNORED_COLUMNS.get(table.name, set())
            columns = [c for c in table.columns if c.name not in skip]
            rows = conn.execute(select(*columns)).all()
            if table.name == "bot_state":
                rows = [r for r in rows if not str(r[0]).startswith(ADAPTER_STATE)]
            found[table.name] = sorted(tuple(repr(v) for v in row) for row in rows)
    return found


def differences(before: Snapshot, after: Snapshot) -> dict[str, Any]:
    """Per changed table: the rows that vanished and the rows that appeared."""
    changed: dict[str, Any] = {}
    for name in sorted(set(before) | set(after)):
        old, new = set(before.get(name, [])), set(after.get(name, []))
        if old != new:
            changed[name] = {"gone": sorted(old - new), "new": sorted(new - old)}
    return changed
