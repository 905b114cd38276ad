"""Unit of work: one transaction, explicit commit, rollback otherwise.

Services take the port, :class:`storage.ports.UnitOfWorkPort` (repositories only). The
:class:`UnitOfWork` Protocol below adds the SQLAlchemy ``session`` for the services not yet
converted to repositories; it goes when the last of them does.
"""

from __future__ import annotations

from types import TracebackType
from typing import Protocol, Self

from sqlalchemy.orm import Session, sessionmaker

from storage.db import READ_ONLY
from storage.ports import UnitOfWorkPort
from storage.repositories import (
    AccountRepository,
    AgendaRepository,
    AttendanceRepository,
    AuditRepository,
    CohortRepository,
    DialogRepository,
    FeedbackAnswerRepository,
    FeedbackRoundRepository,
    MeetingRepository,
    OutboxRepository,
    ParticipantRepository,
    PersonRepository,
    PollRepository,
    PostedMessageRepository,
    ReminderRepository,
    StateRepository,
    TopicRepository,
)


class UnitOfWork(UnitOfWorkPort, Protocol):
    """The port plus the raw session (transitional: for services still querying directly)."""

    session: Session


class SqlUnitOfWork:
    """One transaction. ``read_only``: for what only shows (the web pages' GETs): SQLite reads
    its snapshot without queueing behind writers, PostgreSQL runs a READ ONLY transaction;
    :meth:`commit` is refused, so a write slipped into a reading path fails in the tests
    instead of queueing unseen."""

    def __init__(self, factory: sessionmaker[Session], *, read_only: bool = False) -> None:
        self._factory = factory
        self.read_only = read_only

    def __enter__(self) -> Self:
        self.session = self._factory()
        if self.read_only:
            self.session.connection(
                execution_options={READ_ONLY: True, "postgresql_readonly": True}
            )
        self.persons = PersonRepository(self.session)
        self.cohorts = CohortRepository(self.session)
        self.participants = ParticipantRepository(self.session)
        self.audit = AuditRepository(self.session)
        self.dialogs = DialogRepository(self.session)
        self.outbox = OutboxRepository(self.session)
        self.state = StateRepository(self.session)
        self.meetings = MeetingRepository(self.session)
        self.reminders = ReminderRepository(self.session)
        self.agenda = AgendaRepository(self.session)
        self.attendance = AttendanceRepository(self.session)
        self.posted = PostedMessageRepository(self.session)
        self.topics = TopicRepository(self.session)
        self.polls = PollRepository(self.session)
        self.feedback_rounds = FeedbackRoundRepository(self.session)
        self.feedback_answers = FeedbackAnswerRepository(self.session)
        self.accounts = AccountRepository(self.session)
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
        if self.read_only:
            raise RuntimeError("a read-only unit of work cannot commit")
        self.session.commit()

    def rollback(self) -> None:
        self.session.rollback()


class UnitOfWorkFactory(Protocol):
    def __call__(self) -> UnitOfWork: ...


def _conforms(uow: SqlUnitOfWork) -> UnitOfWork:
    return uow  # mypy: the SQL unit of work satisfies the Protocol (and so the port)
