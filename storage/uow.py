"""Unit of work: one transaction, explicit commit, rollback otherwise."""

from __future__ import annotations

from types import TracebackType
from typing import Protocol, Self

from sqlalchemy.orm import Session, sessionmaker

from storage.repositories import (
    AuditRepository,
    CohortRepository,
    DialogRepository,
    OutboxRepository,
    ParticipantRepository,
    PersonRepository,
    StateRepository,
)


class UnitOfWork(Protocol):
    persons: PersonRepository
    cohorts: CohortRepository
    participants: ParticipantRepository
    audit: AuditRepository
    dialogs: DialogRepository
    outbox: OutboxRepository
    state: StateRepository
    session: Session

    def __enter__(self) -> Self: ...

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None: ...

    def commit(self) -> None: ...

    def rollback(self) -> None: ...


class SqlUnitOfWork:
    def __init__(self, factory: sessionmaker[Session]) -> None:
        self._factory = factory

    def __enter__(self) -> Self:
        self.session = self._factory()
        self.persons = PersonRepository(self.session)
        self.cohorts = CohortRepository(self.session)
        self.participants = ParticipantRepository(self.session)
        self.audit = AuditRepository(self.session)
        self.dialogs = DialogRepository(self.session)
        self.outbox = OutboxRepository(self.session)
        self.state = StateRepository(self.session)
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.rollback()
        self.session.close()

    def commit(self) -> None:
        self.session.commit()

    def rollback(self) -> None:
        self.session.rollback()


class UnitOfWorkFactory(Protocol):
    def __call__(self) -> UnitOfWork: ...
