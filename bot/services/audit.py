"""The audit log: every organiser action (who, what, when, before → after)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from bot.i18n import N_
from storage.models import AuditEntry
from storage.ports import UnitOfWorkPort

SYSTEM = N_("System")


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


def exported(
    uow: UnitOfWorkPort, *, actor_id: int, cohort_id: int | None, filename: str, now: datetime
) -> None:
    """An export of personal data left the bot (a file in someone's direct chat or a download):
    accountability under Art. 5(2) DSGVO asks who took which list when."""
    record(
        uow,
        actor_id=actor_id,
        action="export",
        now=now,
        cohort_id=cohort_id,
        after={"datei": filename},
    )


@dataclass(frozen=True)
class Line:
    """One entry as the chat's ``protokoll`` and the web page show it. ``actor`` is None for
    the bot itself (shown as "System" in the reader's language)."""

    at: datetime
    actor: str | None
    action: str
    subject: str | None
    change: str


def lines(uow: UnitOfWorkPort, cohort_id: int | None, limit: int = 20) -> list[Line]:
    """The latest entries, newest first; erased people appear under their pseudonym."""
    return [
        Line(
            at=e.at,
            actor=None if e.actor_person_id is None else _label(uow, e.actor_person_id),
            action=e.action,
            subject=_label(uow, e.subject_person_id) if e.subject_person_id else None,
            change=_change(e.before, e.after),
        )
        for e in uow.audit.latest(cohort_id, limit=limit)
    ]


def _label(uow: UnitOfWorkPort, person_id: int) -> str:
    person = uow.persons.get(person_id)
    if person is None:
        return "?"
    if person.pseudonym or person.display_name:
        return person.pseudonym or person.display_name or "?"
    identities = uow.persons.identities_of(person.id)
    return f"{identities[0].platform}:{identities[0].external_id}" if identities else "?"


def _change(before: dict[str, object] | None, after: dict[str, object] | None) -> str:
    def show(values: dict[str, object]) -> str:
        return ", ".join(f"{k}={v}" for k, v in values.items())

    if before and after:
        return f"{show(before)} → {show(after)}"
    return show(after) if after else ""
