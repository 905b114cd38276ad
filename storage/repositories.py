"""Repositories with methods named by intent; they never commit (the unit of work does)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from storage.models import (
    AuditEntry,
    ChannelBinding,
    Cohort,
    Dialog,
    KeyValue,
    OutboxMessage,
    Participant,
    Person,
    PlatformIdentity,
    Programme,
)


class _Repository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def add(self, obj: Any) -> None:
        self.session.add(obj)
        self.session.flush()


class PersonRepository(_Repository):
    def get(self, person_id: int) -> Person | None:
        return self.session.get(Person, person_id)

    def get_by_identity(self, platform: str, external_id: str) -> Person | None:
        return self.session.scalar(
            select(Person)
            .join(PlatformIdentity, PlatformIdentity.person_id == Person.id)
            .where(
                PlatformIdentity.platform == platform,
                PlatformIdentity.external_id == external_id,
            )
        )

    def identity(self, platform: str, external_id: str) -> PlatformIdentity | None:
        return self.session.scalar(
            select(PlatformIdentity).where(
                PlatformIdentity.platform == platform,
                PlatformIdentity.external_id == external_id,
            )
        )

    def identities_of(self, person_id: int) -> list[PlatformIdentity]:
        return list(
            self.session.scalars(
                select(PlatformIdentity)
                .where(PlatformIdentity.person_id == person_id)
                .order_by(PlatformIdentity.last_seen_at.desc().nulls_last(), PlatformIdentity.id)
            )
        )

    def find_by_name(self, name: str) -> list[Person]:
        return list(
            self.session.scalars(
                select(Person).where(
                    func.lower(Person.display_name) == name.lower(), Person.erased_at.is_(None)
                )
            )
        )

    def find_by_handle(self, handle: str) -> list[Person]:
        return list(
            self.session.scalars(
                select(Person)
                .join(PlatformIdentity, PlatformIdentity.person_id == Person.id)
                .where(func.lower(PlatformIdentity.handle) == handle.lower())
                .distinct()
            )
        )

    def organisers(self) -> list[Person]:
        return list(self.session.scalars(select(Person).where(Person.is_organiser.is_(True))))


class CohortRepository(_Repository):
    def get(self, cohort_id: int) -> Cohort | None:
        return self.session.get(Cohort, cohort_id)

    def get_by_name(self, name: str) -> Cohort | None:
        return self.session.scalar(select(Cohort).where(func.lower(Cohort.name) == name.lower()))

    def get_by_channel(self, platform: str, channel_id: str) -> Cohort | None:
        return self.session.scalar(
            select(Cohort)
            .join(ChannelBinding, ChannelBinding.cohort_id == Cohort.id)
            .where(ChannelBinding.platform == platform, ChannelBinding.channel_id == channel_id)
        )

    def binding(self, platform: str, channel_id: str) -> ChannelBinding | None:
        return self.session.scalar(
            select(ChannelBinding).where(
                ChannelBinding.platform == platform, ChannelBinding.channel_id == channel_id
            )
        )

    def bindings_of(self, cohort_id: int) -> list[ChannelBinding]:
        return list(
            self.session.scalars(
                select(ChannelBinding)
                .where(ChannelBinding.cohort_id == cohort_id)
                .order_by(ChannelBinding.id)
            )
        )

    def active(self) -> list[Cohort]:
        return list(
            self.session.scalars(
                select(Cohort).where(Cohort.ended_at.is_(None)).order_by(Cohort.id)
            )
        )

    def lock_for_seats(self, cohort_id: int) -> Cohort | None:
        """Load the cohort with a row lock (PostgreSQL) so seat allocation is serialised."""
        return self.session.scalar(select(Cohort).where(Cohort.id == cohort_id).with_for_update())

    def programme(self, name: str) -> Programme:
        found = self.session.scalar(select(Programme).where(Programme.name == name))
        if found is None:
            found = Programme(name=name)
            self.add(found)
        return found


class ParticipantRepository(_Repository):
    def get(self, cohort_id: int, person_id: int) -> Participant | None:
        return self.session.scalar(
            select(Participant).where(
                Participant.cohort_id == cohort_id, Participant.person_id == person_id
            )
        )

    def of_person(self, person_id: int) -> list[Participant]:
        return list(
            self.session.scalars(
                select(Participant)
                .where(Participant.person_id == person_id)
                .order_by(Participant.id)
            )
        )

    def in_cohort(self, cohort_id: int, *statuses: str) -> list[Participant]:
        query = select(Participant).where(Participant.cohort_id == cohort_id)
        if statuses:
            query = query.where(Participant.status.in_(statuses))
        return list(self.session.scalars(query.order_by(Participant.registered_at, Participant.id)))

    def latest_registration(self, cohort_id: int) -> datetime | None:
        return self.session.scalar(
            select(func.max(Participant.registered_at)).where(Participant.cohort_id == cohort_id)
        )

    def count(self, cohort_id: int, status: str) -> int:
        return int(
            self.session.scalar(
                select(func.count())
                .select_from(Participant)
                .where(Participant.cohort_id == cohort_id, Participant.status == status)
            )
            or 0
        )


class AuditRepository(_Repository):
    def latest(self, cohort_id: int | None, limit: int = 20) -> list[AuditEntry]:
        query = select(AuditEntry)
        if cohort_id is not None:  # the cohort's entries and the programme-wide ones
            query = query.where(
                (AuditEntry.cohort_id == cohort_id) | AuditEntry.cohort_id.is_(None)
            )
        return list(self.session.scalars(query.order_by(AuditEntry.id.desc()).limit(limit)))


class DialogRepository(_Repository):
    def of_person(self, person_id: int) -> Dialog | None:
        return self.session.scalar(select(Dialog).where(Dialog.person_id == person_id))

    def remove(self, dialog: Dialog) -> None:
        self.session.delete(dialog)
        self.session.flush()


class OutboxRepository(_Repository):
    def get_by_key(self, key: str) -> OutboxMessage | None:
        return self.session.scalar(
            select(OutboxMessage).where(OutboxMessage.idempotency_key == key)
        )

    def due(self, platform: str, now: datetime, limit: int = 100) -> list[OutboxMessage]:
        return list(
            self.session.scalars(
                select(OutboxMessage)
                .where(
                    OutboxMessage.platform == platform,
                    OutboxMessage.status == "pending",
                    OutboxMessage.not_before <= now,
                )
                .order_by(OutboxMessage.id)
                .limit(limit)
            )
        )

    def claim(self, message_id: int, lease_until: datetime) -> bool:
        """pending → sending in one conditional UPDATE: only one sender ever wins a row."""
        result = self.session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.id == message_id, OutboxMessage.status == "pending")
            .values(status="sending", lease_until=lease_until)
        )
        return bool(getattr(result, "rowcount", 0) == 1)


class StateRepository(_Repository):
    def get(self, key: str) -> str | None:
        row = self.session.get(KeyValue, key)
        return row.value if row else None

    def put(self, key: str, value: str) -> None:
        row = self.session.get(KeyValue, key)
        if row is None:
            self.add(KeyValue(key=key, value=value))
        else:
            row.value = value

    def delete(self, key: str) -> None:
        row = self.session.get(KeyValue, key)
        if row is not None:
            self.session.delete(row)
            self.session.flush()

    def expiring(self) -> list[KeyValue]:
        """Rows whose JSON value carries an ``until`` (linking codes, open Slack forms)."""
        return list(self.session.scalars(select(KeyValue).where(KeyValue.value.like('%"until"%'))))
