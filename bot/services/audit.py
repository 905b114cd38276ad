"""The audit log: every organiser action (who, what, when, before → after)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from storage.models import AuditEntry
from storage.ports import UnitOfWorkPort


def record(
    uow: UnitOfWorkPort,
    *,
    actor_id: int | None,
    action: str,
    now: datetime,
    cohort_id: int | None = None,
    subject_id: int | None = None,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
) -> None:
    uow.audit.add(
        AuditEntry(
            at=now,
            cohort_id=cohort_id,
            actor_person_id=actor_id,
            action=action,
            subject_person_id=subject_id,
            before=before,
            after=after,
        )
    )
