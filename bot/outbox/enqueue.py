"""Adding outbox rows: services call these inside their own transaction, so a committed change
always has its messages and a rolled-back one has none. A row's idempotency key makes a
second enqueue of the same message a no-op."""

from __future__ import annotations

import base64
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from bot.notifications import EMAIL, email_identity, routes
from bot.views import Message
from storage.models import OutboxMessage
from storage.ports import UnitOfWorkPort
from storage.repositories import NEW_OUTBOX_ROWS

MAIL_KEY_SUFFIX = ":email"  # the key of a DM's mail row: the chat row's key + this
NEW_ROWS = NEW_OUTBOX_ROWS  # session.info: rows enqueued in the open transaction (claim_enqueued)


@dataclass(frozen=True)
class Outgoing:
    """One outbox row to be, before it is written: what :func:`dm_person` and
    :func:`post_to_cohort` enqueue, and what a reminder renders ahead of its due time
    (:mod:`bot.scheduling.prepare` writes a batch of them in one INSERT)."""

    key: str
    platform: str
    operation: str
    target: dict[str, Any]
    payload: dict[str, Any]
    message: Message | None = field(default=None, compare=False, repr=False)  # as rendered

    @classmethod
    def dm(cls, key: str, identity: tuple[str, str], message: Message) -> Outgoing:
        """A DM to ``identity`` (platform, external id)."""
        platform, external_id = identity
        target = {"identity": f"{platform}:{external_id}"}
        return cls(key, platform, "dm", target, {"message": message.to_dict()}, message)

    @classmethod
    def post(
        cls, key: str, platform: str, channel_id: str, message: Message, subject: str | None = None
    ) -> Outgoing:
        """A post to one of a cohort's channels (the key gets the platform and channel)."""
        target = {"channel_id": channel_id, "subject": subject}
        payload = {"message": message.to_dict()}
        return cls(f"{key}:{platform}:{channel_id}", platform, "post", target, payload, message)


def add(uow: UnitOfWorkPort, out: Outgoing, now: datetime) -> bool:
    """Enqueue ``out`` unless its key exists (idempotent); True if added."""
    return _add(uow, out.key, out.platform, out.operation, out.target, out.payload, now)


def enqueue(
    uow: UnitOfWorkPort,
    *,
    key: str,
    platform: str,
    operation: str,
    target: dict[str, Any],
    now: datetime,
    message: Message | None = None,
    file: tuple[str, bytes] | None = None,
) -> bool:
    """Add one outgoing message unless a row with ``key`` exists (idempotent). True if added."""
    payload: dict[str, Any] = {"message": message.to_dict() if message else None}
    if file is not None:
        payload["filename"] = file[0]
        payload["content_b64"] = base64.b64encode(file[1]).decode("ascii")
    return _add(uow, key, platform, operation, target, payload, now)


def _add(
    uow: UnitOfWorkPort,
    key: str,
    platform: str,
    operation: str,
    target: dict[str, Any],
    payload: dict[str, Any],
    now: datetime,
) -> bool:
    if uow.outbox.get_by_key(key) is not None:
        return False
    row = OutboxMessage(
        idempotency_key=key,
        platform=platform,
        operation=operation,
        target=target,
        payload=payload,
        status="pending",
        attempts=0,
        not_before=now,
        created_at=now,
    )
    uow.outbox.add(row)  # the SQL repository remembers it for claim_enqueued
    return True


def cohort_channels(uow: UnitOfWorkPort, cohort_id: int) -> list[tuple[str, str]]:
    """(platform, channel id) of every channel bound to the cohort."""
    return [(b.platform, b.channel_id) for b in uow.cohorts.bindings_of(cohort_id)]


def post_to_cohort(
    uow: UnitOfWorkPort,
    cohort_id: int,
    message: Message,
    key: str,
    now: datetime,
    subject: str | None = None,
) -> int:
    """Post to every channel bound to the cohort; returns how many rows were added."""
    return sum(
        add(uow, Outgoing.post(key, platform, channel, message, subject), now)
        for platform, channel in cohort_channels(uow, cohort_id)
    )


def identity_of(uow: UnitOfWorkPort, person_id: int) -> tuple[str, str] | None:
    """Where a DM to the person goes: the platform identity seen last."""
    identities = uow.persons.identities_of(person_id)
    return (identities[0].platform, identities[0].external_id) if identities else None


def dm_person(
    uow: UnitOfWorkPort,
    person_id: int,
    message: Message,
    key: str,
    now: datetime,
    file: tuple[str, bytes] | None = None,
) -> bool:
    """A DM to the person wherever their messages go (:func:`bot.notifications.routes`: the
    chat, e-mail or both): one row per route. The chat row has ``key``, the mail row
    ``key + ":email"`` (stable whatever the person chose, so a second enqueue stays a no-op).
    True if a row was added."""
    added = False
    for identity in routes(uow, person_id):
        row_key = f"{key}{MAIL_KEY_SUFFIX}" if identity.platform == EMAIL else key
        if file is None:
            out = Outgoing.dm(row_key, (identity.platform, identity.external_id), message)
            added = add(uow, out, now) or added
            continue
        added = (
            enqueue(
                uow,
                key=row_key,
                platform=identity.platform,
                operation="file",
                target={"identity": str(identity)},
                message=message,
                now=now,
                file=file,
            )
            or added
        )
    return added


def mail_participants(
    uow: UnitOfWorkPort,
    cohort_id: int,
    message: Message,
    key: str,
    now: datetime,
    *,
    everyone: bool = False,
) -> int:
    """``message`` by e-mail to the cohort's confirmed participants whose messages go by
    e-mail (:func:`bot.notifications.routes`: a post in the cohort's channels does not reach
    them) or, with ``everyone``, to every confirmed participant with an address
    (``ankuendigen … email=ja``). One row per person (key ``KEY:email:PERSON``); returns how
    many were added."""
    added = 0
    for participant in uow.participants.in_cohort(cohort_id, "confirmed"):
        pid = participant.person_id
        if everyone:
            person = uow.persons.get(pid)
            found = None if person is None or person.erased_at else email_identity(person.email)
        else:
            found = next((i for i in routes(uow, pid) if i.platform == EMAIL), None)
        if found is not None:
            out = Outgoing.dm(f"{key}:email:{pid}", (EMAIL, found.external_id), message)
            added += add(uow, out, now)
    return added
