"""The storage port: what services may ask of storage, as typed Protocols.

Services take a :class:`UnitOfWorkPort` (repositories, ``commit``, ``rollback``) and never a
session. Two implementations satisfy it: :class:`storage.uow.SqlUnitOfWork` (SQLAlchemy,
``storage/repositories.py``) and :class:`storage.memory.FakeUnitOfWork` (in-memory, for the
unit tests). mypy checks both against these Protocols; ``tests/test_uow_contract.py`` runs one
scenario on both and compares the results.

Repositories never commit; methods are named by intent. Repository attributes are read-only
properties so an implementation may hold a more specific type.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from types import TracebackType
from typing import Protocol, Self

from storage.models import (
    AgendaItem,
    AuditEntry,
    ChannelBinding,
    Cohort,
    Dialog,
    FeedbackResponse,
    FeedbackRound,
    KeyValue,
    Meeting,
    OutboxMessage,
    Participant,
    Person,
    PlatformIdentity,
    Poll,
    PostedMessage,
    Programme,
    Reminder,
)
from storage.models_feedback import FeedbackPresenter
from storage.models_meetings import Attendance, MeetingState
from storage.models_polls import Topic


class Persons(Protocol):
    def add(self, obj: Person | PlatformIdentity) -> None: ...

    def add_first_contact(self, person: Person, identity: PlatformIdentity) -> bool:
        """Store a new person with their first identity; False (and nothing stored) when
        another process stored the same identity meanwhile (two instances, a retried event)."""
        ...

    def get(self, person_id: int) -> Person | None: ...

    def get_by_identity(self, platform: str, external_id: str) -> Person | None: ...

    def identity(self, platform: str, external_id: str) -> PlatformIdentity | None: ...

    def known(self, platform: str, external_id: str) -> tuple[PlatformIdentity, Person] | None:
        """The identity and its person in one query (every request starts with it)."""
        ...

    def identities_of(self, person_id: int) -> list[PlatformIdentity]:
        """Most recently seen first (never seen last), then by id."""
        ...

    def find_by_name(self, name: str) -> list[Person]: ...

    def find_by_handle(self, handle: str) -> list[Person]: ...

    def organisers(self) -> list[Person]: ...


class Cohorts(Protocol):
    def add(self, obj: Cohort | ChannelBinding) -> None: ...

    def get(self, cohort_id: int) -> Cohort | None: ...

    def get_by_name(self, name: str) -> Cohort | None: ...

    def get_by_channel(self, platform: str, channel_id: str) -> Cohort | None: ...

    def binding(self, platform: str, channel_id: str) -> ChannelBinding | None: ...

    def bindings_of(self, cohort_id: int) -> list[ChannelBinding]: ...

    def active(self) -> list[Cohort]: ...

    def lock_for_seats(self, cohort_id: int) -> Cohort | None: ...

    def latest(self) -> Cohort | None:
        """The cohort created last (highest id), ended or not."""
        ...

    def caller_in_channel(
        self, platform: str, external_id: str, channel_platform: str, channel_id: str
    ) -> tuple[Cohort, Person | None, Participant | None, PlatformIdentity | None] | None:
        """In one query: the cohort bound to the channel, the person with that identity, their
        participation in the cohort and the identity row. None if no cohort is bound there."""
        ...

    def programme(self, name: str) -> Programme: ...


class Participants(Protocol):
    def add(self, participant: Participant) -> None: ...

    def remove(self, participant: Participant) -> None: ...

    def get(self, cohort_id: int, person_id: int) -> Participant | None: ...

    def of_person(self, person_id: int) -> list[Participant]: ...

    def in_cohort(self, cohort_id: int, *statuses: str) -> list[Participant]:
        """In queue order: registration time, then id."""
        ...

    def latest_registration(self, cohort_id: int) -> datetime | None: ...

    def count(self, cohort_id: int, status: str) -> int: ...


class AuditLog(Protocol):
    def add(self, entry: AuditEntry) -> None: ...

    def latest(self, cohort_id: int | None, limit: int = 20) -> list[AuditEntry]: ...


class Dialogs(Protocol):
    def add(self, dialog: Dialog) -> None: ...

    def of_person(self, person_id: int) -> Dialog | None: ...

    def of_kind(self, kind: str) -> list[Dialog]: ...

    def remove(self, dialog: Dialog) -> None: ...


class Outbox(Protocol):
    def add(self, row: OutboxMessage) -> None:
        """A new row; the SQL implementation also remembers it for ``claim_enqueued``."""
        ...

    def get_by_key(self, key: str) -> OutboxMessage | None: ...

    def due(self, platform: str, now: datetime, limit: int = 100) -> list[OutboxMessage]: ...

    def claim(self, message_id: int, lease_until: datetime) -> bool: ...

    def with_prefix(self, key_prefix: str, status: str | None = None) -> list[OutboxMessage]:
        """Rows whose key starts with ``key_prefix`` (taken literally), by id; only those in
        ``status`` if given."""
        ...

    def delete_prefix(self, *key_prefixes: str) -> None:
        """Delete the rows whose key starts with one of ``key_prefixes``; a row being sent
        right now becomes ``discard`` instead, and its sender deletes it once the send is
        over (sent, failed or lost in a crash): rows that must not outlive what they were
        about (an anonymous round's or a closed poll's per-person DMs) do not survive a send
        that overlapped the close."""
        ...


class State(Protocol):
    def get(self, key: str) -> str | None: ...

    def put(self, key: str, value: str) -> None: ...

    def delete(self, key: str) -> None: ...

    def expiring(self) -> list[KeyValue]: ...


class Meetings(Protocol):
    def scheduled(self, cohort_id: int, after: datetime | None = None) -> list[Meeting]:
        """Meetings not deleted, by start; only those starting after ``after`` if given."""
        ...

    def last_end(self, cohort_id: int) -> datetime | None:
        """When the cohort's last meeting (not deleted) ends."""
        ...

    def add(self, meeting: Meeting) -> None: ...

    def get(self, cohort_id: int, number: int) -> Meeting | None:
        """The meeting with that number, unless deleted."""
        ...

    def by_id(self, meeting_id: int) -> Meeting | None: ...

    def every(self, cohort_id: int) -> list[Meeting]:
        """Every meeting of the cohort, deleted ones too, by number."""
        ...

    def highest_number(self, cohort_id: int) -> int:
        """The highest number ever given in the cohort (deleted meetings count), 0 if none."""
        ...


class Agenda(Protocol):
    def add(self, item: AgendaItem) -> None: ...

    def remove(self, item: AgendaItem) -> None: ...

    def items_of(self, meeting_id: int) -> list[AgendaItem]:
        """In agenda order: start, end, then creation."""
        ...


class Attendances(Protocol):
    def add(self, row: Attendance | MeetingState) -> None: ...

    def get(self, meeting_id: int, person_id: int) -> Attendance | None: ...

    def state(self, meeting_id: int) -> MeetingState | None: ...

    def for_meeting(self, meeting_id: int) -> list[Attendance]:
        """Every answer given for the meeting, in one query."""
        ...

    def of_person(self, person_id: int) -> list[tuple[Attendance, Meeting]]:
        """Every answer of the person with its meeting, by the meeting's start."""
        ...

    def erase_person(self, person_id: int) -> None: ...


class PostedMessages(Protocol):
    def with_subject(self, subject: str) -> list[PostedMessage]:
        """Where a message about ``subject`` was posted (one row per channel)."""
        ...


class Reminders(Protocol):
    def pending_count(self, cohort_id: int) -> int: ...

    def cancel_pending(self, cohort_id: int) -> int:
        """Every pending reminder of the cohort becomes ``cancelled``; returns how many."""
        ...

    def add(self, reminder: Reminder) -> None: ...

    def by_key(self, key: str) -> Reminder | None: ...

    def cancel_prefix(self, key_prefix: str) -> int:
        """Pending rows whose key starts with ``key_prefix`` (taken literally) become
        ``cancelled``; returns how many."""
        ...

    def reopen(self, key: str) -> None:
        """A cancelled row with ``key`` becomes pending again, with no attempts."""
        ...

    def announce(self, channel: str, wake: Callable[[], None]) -> None:
        """Once per transaction: tell the reminder engines that rows changed — ``wake`` runs
        after the commit (not after a rollback); on PostgreSQL also ``NOTIFY channel``."""
        ...


class Topics(Protocol):
    def add(self, topic: Topic) -> None: ...

    def get(self, cohort_id: int, number: int) -> Topic | None: ...

    def of_cohort(self, cohort_id: int, *statuses: str) -> list[Topic]:
        """By number; only those with one of ``statuses`` if given."""
        ...

    def highest_number(self, cohort_id: int) -> int: ...


class Polls(Protocol):
    def of_cohort(self, cohort_id: int) -> list[Poll]: ...

    def by_id(self, poll_id: int) -> Poll | None: ...

    def voter_ids(self, poll_id: int) -> set[int]:
        """Who has a ballot in the poll (person ids; a merged-away ballot has none)."""
        ...


class FeedbackRounds(Protocol):
    def of_cohort(self, cohort_id: int) -> list[FeedbackRound]: ...

    def add(self, obj: FeedbackRound | FeedbackPresenter) -> None: ...

    def get(self, cohort_id: int, number: int) -> FeedbackRound | None: ...

    def by_id(self, round_id: int) -> FeedbackRound | None: ...

    def highest_number(self, cohort_id: int) -> int: ...

    def open_titled(self, cohort_id: int, title: str) -> list[FeedbackRound]:
        """Open (not closed) rounds of the cohort with exactly this title."""
        ...

    def lock(self, round_id: int) -> None:
        """Serialise work on one round (a row lock on PostgreSQL) and re-read it, so that a
        concurrent close or answer is seen."""
        ...

    def presenters(self, round_id: int) -> list[Person]:
        """Who presents in the round, by person id."""
        ...

    def presented_by(self, person_id: int) -> list[FeedbackRound]:
        """The rounds the person presents in, by id."""
        ...

    def remove_presenter(self, person_id: int) -> None:
        """The person presents in no round any more."""
        ...


class FeedbackAnswers(Protocol):
    def add(self, response: FeedbackResponse) -> None: ...

    def remove(self, response: FeedbackResponse) -> None: ...

    def of_round(self, round_id: int) -> list[FeedbackResponse]:
        """In submission order (id)."""
        ...

    def of_author(self, round_id: int, person_id: int) -> FeedbackResponse | None: ...

    def by_author(
        self, person_id: int, anonymous: bool
    ) -> list[tuple[FeedbackResponse, FeedbackRound]]:
        """The person's answers in named (``anonymous=False``) or anonymous rounds, by id."""
        ...

    def unlink_author(self, person_id: int) -> None:
        """The person's answers lose their author (one bulk statement)."""
        ...


class Accounts(Protocol):
    """Rows of other concepts that name a person: re-pointed when two accounts are linked."""

    def merge_ballots(self, source_id: int, target_id: int) -> None:
        """One person, one vote: where both voted in a poll, an open poll loses the source's
        ballot (its votes and one ballot off the count), a closed one keeps the votes without
        a person; the source's other ballots move to the target."""
        ...

    def reassign(self, source_id: int, target_id: int) -> None:
        """Every other row of ``source`` (attendance, presenters, votes, reminders, feedback
        answers, polls and topics created, delegations, identities) moves to ``target``; in
        tables with one row per person and meeting/round the target's row wins; the source's
        open dialog is dropped."""
        ...


class UnitOfWorkPort(Protocol):
    """One transaction with its repositories; services take this, never a session."""

    @property
    def persons(self) -> Persons: ...

    @property
    def cohorts(self) -> Cohorts: ...

    @property
    def participants(self) -> Participants: ...

    @property
    def audit(self) -> AuditLog: ...

    @property
    def dialogs(self) -> Dialogs: ...

    @property
    def outbox(self) -> Outbox: ...

    @property
    def state(self) -> State: ...

    @property
    def meetings(self) -> Meetings: ...

    @property
    def reminders(self) -> Reminders: ...

    @property
    def agenda(self) -> Agenda: ...

    @property
    def attendance(self) -> Attendances: ...

    @property
    def posted(self) -> PostedMessages: ...

    @property
    def topics(self) -> Topics: ...

    @property
    def polls(self) -> Polls: ...

    @property
    def feedback_rounds(self) -> FeedbackRounds: ...

    @property
    def feedback_answers(self) -> FeedbackAnswers: ...

    @property
    def accounts(self) -> Accounts: ...

    def __enter__(self) -> Self: ...

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None: ...

    def commit(self) -> None: ...

    def rollback(self) -> None: ...
