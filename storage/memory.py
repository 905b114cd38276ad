"""An in-memory implementation of the storage port, for fast service tests.

:class:`MemoryDatabase` plays the database: model objects (the same SQLAlchemy model classes,
never attached to a session) kept in dicts per model, integer ids assigned on insert, column
defaults applied, unique constraints checked on insert. :class:`FakeUnitOfWork` implements
:class:`storage.ports.UnitOfWorkPort` over it with in-memory repositories (mypy checks that,
see ``_conforms`` at the end).

Transactions: **copy on commit**. ``commit`` records a snapshot of every row's column values
(JSON values deep-copied); ``rollback`` — also what leaving the ``with`` block without a
commit does — restores that snapshot: rows added since disappear, rows removed since come
back, changed attributes get their committed values again. Objects keep their identity across
a rollback, as SQLAlchemy's identity map does after a rollback (their attributes reload).

Datetimes keep the zone they were given in (the databases hand back UTC): the same instant, so
compare instants. Not modelled: concurrent transactions (one unit of work at a time, like
SQLite's single writer; uncommitted changes are visible to another unit of work opened
meanwhile), row locks, foreign keys and cascades. ``tests/test_uow_contract.py`` runs the same
scenario here and on SQLite and PostgreSQL and compares the results, so this cannot drift
silently.

It lives in ``storage/`` next to the Protocols and the SQL implementation it must match, so a
change to a repository Protocol fails mypy here in the same change; it imports nothing from
the tests and can serve a bench or a demo as well.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterable
from datetime import datetime
from types import TracebackType
from typing import Any, Self, TypeVar

from sqlalchemy import UniqueConstraint
from sqlalchemy import inspect as sa_inspect

from storage.models import (
    OUTBOX_DISCARD,
    AgendaItem,
    AuditEntry,
    Base,
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
    Vote,
)
from storage.models_feedback import FeedbackPresenter
from storage.models_meetings import Attendance, MeetingState
from storage.models_polls import PollBallot, PollCounter, Topic
from storage.ports import UnitOfWorkPort

M = TypeVar("M", bound=Base)


class DuplicateRow(Exception):
    """An insert that a unique constraint of the real schema would refuse."""


def _columns(model: type[Base]) -> list[str]:
    return [attr.key for attr in sa_inspect(model).column_attrs]


def _key(obj: Base) -> tuple[Any, ...]:
    mapper = sa_inspect(type(obj))
    return tuple(getattr(obj, mapper.get_property_by_column(c).key) for c in mapper.primary_key)


def _unique_sets(model: type[Base]) -> list[tuple[str, ...]]:
    table = Base.metadata.tables[model.__tablename__]
    sets = [
        tuple(c.key for c in constraint.columns)
        for constraint in table.constraints
        if isinstance(constraint, UniqueConstraint)
    ]
    sets += [(c.key,) for c in table.columns if c.unique]
    return sets


class MemoryDatabase:
    """The shared, committed state of the in-memory store; call it for a unit of work."""

    def __init__(self) -> None:
        self._tables: dict[type[Base], dict[tuple[Any, ...], Base]] = {}
        self._next_id: dict[type[Base], int] = {}
        self._committed: dict[type[Base], dict[tuple[Any, ...], tuple[Base, dict[str, Any]]]]
        self._committed = {}
        self._after_commit: dict[str, Callable[[], None]] = {}

    def __call__(self) -> FakeUnitOfWork:
        return FakeUnitOfWork(self)

    # -- rows

    def rows(self, model: type[M]) -> list[M]:
        """Every row of ``model``, in insertion order."""
        return [obj for obj in self._tables.get(model, {}).values() if isinstance(obj, model)]

    def get(self, model: type[M], *key: Any) -> M | None:
        found = self._tables.get(model, {}).get(tuple(key))
        return found if isinstance(found, model) else None

    def insert(self, obj: Base) -> None:
        model = type(obj)
        mapper = sa_inspect(model)
        for attr in mapper.column_attrs:
            column = attr.columns[0]
            default = column.default
            if getattr(obj, attr.key) is None and default is not None:
                value = getattr(default, "arg", None)
                if getattr(default, "is_callable", False) and callable(value):
                    value = value(None)
                setattr(obj, attr.key, value)
        pks = list(mapper.primary_key)
        if len(pks) == 1 and getattr(obj, mapper.get_property_by_column(pks[0]).key) is None:
            next_id = self._next_id.get(model, 1)
            setattr(obj, mapper.get_property_by_column(pks[0]).key, next_id)
            self._next_id[model] = next_id + 1
        table = self._tables.setdefault(model, {})
        key = _key(obj)
        if key in table and table[key] is not obj:
            raise DuplicateRow(f"{model.__tablename__}: primary key {key}")
        for names in _unique_sets(model):
            values = tuple(getattr(obj, n) for n in names)
            if None in values:
                continue
            if any(
                other is not obj and tuple(getattr(other, n) for n in names) == values
                for other in table.values()
            ):
                raise DuplicateRow(f"{model.__tablename__}: unique {names} = {values}")
        table[key] = obj
        if len(pks) == 1 and isinstance(key[0], int):
            self._next_id[model] = max(self._next_id.get(model, 1), key[0] + 1)

    def delete(self, obj: Base) -> None:
        self._tables.get(type(obj), {}).pop(_key(obj), None)

    # -- transactions

    def after_commit(self, name: str, callback: Callable[[], None]) -> bool:
        """Run ``callback`` after the next commit (dropped on rollback); one per ``name`` and
        transaction. False if one was registered under ``name`` already."""
        if name in self._after_commit:
            return False
        self._after_commit[name] = callback
        return True

    def commit(self) -> None:
        self._committed = {
            model: {
                key: (obj, {c: copy.deepcopy(getattr(obj, c)) for c in _columns(model)})
                for key, obj in table.items()
            }
            for model, table in self._tables.items()
        }
        callbacks, self._after_commit = list(self._after_commit.values()), {}
        for callback in callbacks:
            callback()

    def rollback(self) -> None:
        self._after_commit = {}
        tables: dict[type[Base], dict[tuple[Any, ...], Base]] = {}
        for model, rows in self._committed.items():
            table = tables.setdefault(model, {})
            for key, (obj, values) in rows.items():
                for column, value in values.items():
                    setattr(obj, column, copy.deepcopy(value))
                table[key] = obj
        self._tables = tables


class _Repository:
    def __init__(self, db: MemoryDatabase) -> None:
        self.db = db


class FakePersons(_Repository):
    def add(self, obj: Person | PlatformIdentity) -> None:
        self.db.insert(obj)

    def add_first_contact(self, person: Person, identity: PlatformIdentity) -> bool:
        if self.identity(identity.platform, identity.external_id) is not None:
            return False
        self.db.insert(person)
        identity.person_id = person.id
        self.db.insert(identity)
        return True

    def get(self, person_id: int) -> Person | None:
        return self.db.get(Person, person_id)

    def get_by_identity(self, platform: str, external_id: str) -> Person | None:
        ident = self.identity(platform, external_id)
        return self.get(ident.person_id) if ident is not None else None

    def identity(self, platform: str, external_id: str) -> PlatformIdentity | None:
        return next(
            (
                i
                for i in self.db.rows(PlatformIdentity)
                if i.platform == platform and i.external_id == external_id
            ),
            None,
        )

    def known(self, platform: str, external_id: str) -> tuple[PlatformIdentity, Person] | None:
        ident = self.identity(platform, external_id)
        person = self.get(ident.person_id) if ident is not None else None
        return None if ident is None or person is None else (ident, person)

    def identities_of(self, person_id: int) -> list[PlatformIdentity]:
        mine = [i for i in self.db.rows(PlatformIdentity) if i.person_id == person_id]
        return sorted(
            mine,
            key=lambda i: (
                i.last_seen_at is None,
                -i.last_seen_at.timestamp() if i.last_seen_at is not None else 0.0,
                i.id,
            ),
        )

    def find_by_name(self, name: str) -> list[Person]:
        return [
            p
            for p in self.db.rows(Person)
            if (p.display_name or "").lower() == name.lower()
            and p.display_name is not None
            and p.erased_at is None
        ]

    def find_by_handle(self, handle: str) -> list[Person]:
        ids = {
            i.person_id
            for i in self.db.rows(PlatformIdentity)
            if i.handle is not None and i.handle.lower() == handle.lower()
        }
        return [p for p in self.db.rows(Person) if p.id in ids]

    def organisers(self) -> list[Person]:
        return [p for p in self.db.rows(Person) if p.is_organiser]


class FakeCohorts(_Repository):
    def add(self, obj: Cohort | ChannelBinding) -> None:
        self.db.insert(obj)

    def get(self, cohort_id: int) -> Cohort | None:
        return self.db.get(Cohort, cohort_id)

    def get_by_name(self, name: str) -> Cohort | None:
        return next((c for c in self.db.rows(Cohort) if c.name.lower() == name.lower()), None)

    def get_by_channel(self, platform: str, channel_id: str) -> Cohort | None:
        found = self.binding(platform, channel_id)
        return self.get(found.cohort_id) if found is not None else None

    def binding(self, platform: str, channel_id: str) -> ChannelBinding | None:
        return next(
            (
                b
                for b in self.db.rows(ChannelBinding)
                if b.platform == platform and b.channel_id == channel_id
            ),
            None,
        )

    def bindings_of(self, cohort_id: int) -> list[ChannelBinding]:
        return sorted(
            (b for b in self.db.rows(ChannelBinding) if b.cohort_id == cohort_id),
            key=lambda b: b.id,
        )

    def active(self) -> list[Cohort]:
        return sorted((c for c in self.db.rows(Cohort) if c.ended_at is None), key=lambda c: c.id)

    def lock_for_seats(self, cohort_id: int) -> Cohort | None:
        return self.get(cohort_id)  # one writer at a time: nothing to lock

    def latest(self) -> Cohort | None:
        return max(self.db.rows(Cohort), key=lambda c: c.id, default=None)

    def caller_in_channel(
        self, platform: str, external_id: str, channel_platform: str, channel_id: str
    ) -> tuple[Cohort, Person | None, Participant | None, PlatformIdentity | None] | None:
        cohort = self.get_by_channel(channel_platform, channel_id)
        if cohort is None:
            return None
        ident = next(
            (
                i
                for i in self.db.rows(PlatformIdentity)
                if i.platform == platform and i.external_id == external_id
            ),
            None,
        )
        person = self.db.get(Person, ident.person_id) if ident is not None else None
        participant = next(
            (
                p
                for p in self.db.rows(Participant)
                if person is not None and p.cohort_id == cohort.id and p.person_id == person.id
            ),
            None,
        )
        return cohort, person, participant, ident

    def programme(self, name: str) -> Programme:
        found = next((p for p in self.db.rows(Programme) if p.name == name), None)
        if found is None:
            found = Programme(name=name)
            self.db.insert(found)
        return found


class FakeParticipants(_Repository):
    def add(self, participant: Participant) -> None:
        self.db.insert(participant)

    def remove(self, participant: Participant) -> None:
        self.db.delete(participant)

    def get(self, cohort_id: int, person_id: int) -> Participant | None:
        return next(
            (
                p
                for p in self.db.rows(Participant)
                if p.cohort_id == cohort_id and p.person_id == person_id
            ),
            None,
        )

    def of_person(self, person_id: int) -> list[Participant]:
        return sorted(
            (p for p in self.db.rows(Participant) if p.person_id == person_id),
            key=lambda p: p.id,
        )

    def in_cohort(self, cohort_id: int, *statuses: str) -> list[Participant]:
        return sorted(
            (
                p
                for p in self.db.rows(Participant)
                if p.cohort_id == cohort_id and (not statuses or p.status in statuses)
            ),
            key=lambda p: (p.registered_at, p.id),
        )

    def latest_registration(self, cohort_id: int) -> datetime | None:
        times = [p.registered_at for p in self.db.rows(Participant) if p.cohort_id == cohort_id]
        return max(times, default=None)

    def count(self, cohort_id: int, status: str) -> int:
        return sum(
            1 for p in self.db.rows(Participant) if p.cohort_id == cohort_id and p.status == status
        )


class FakeAuditLog(_Repository):
    def add(self, entry: AuditEntry) -> None:
        self.db.insert(entry)

    def latest(self, cohort_id: int | None, limit: int = 20) -> list[AuditEntry]:
        entries = [
            e
            for e in self.db.rows(AuditEntry)
            if cohort_id is None or e.cohort_id in (cohort_id, None)
        ]
        return sorted(entries, key=lambda e: e.id, reverse=True)[:limit]


class FakeDialogs(_Repository):
    def add(self, dialog: Dialog) -> None:
        self.db.insert(dialog)

    def of_person(self, person_id: int) -> Dialog | None:
        return next((d for d in self.db.rows(Dialog) if d.person_id == person_id), None)

    def of_kind(self, kind: str) -> list[Dialog]:
        return sorted((d for d in self.db.rows(Dialog) if d.kind == kind), key=lambda d: d.id)

    def remove(self, dialog: Dialog) -> None:
        self.db.delete(dialog)


class FakeOutbox(_Repository):
    def add(self, row: OutboxMessage) -> None:
        self.db.insert(row)

    def get_by_key(self, key: str) -> OutboxMessage | None:
        return next((m for m in self.db.rows(OutboxMessage) if m.idempotency_key == key), None)

    def due(self, platform: str, now: datetime, limit: int = 100) -> list[OutboxMessage]:
        rows = [
            m
            for m in self.db.rows(OutboxMessage)
            if m.platform == platform and m.status == "pending" and m.not_before <= now
        ]
        return sorted(rows, key=lambda m: m.id)[:limit]

    def claim(self, message_id: int, lease_until: datetime) -> bool:
        row = self.db.get(OutboxMessage, message_id)
        if row is None or row.status != "pending":
            return False
        row.status, row.lease_until = "sending", lease_until
        return True

    def with_prefix(self, key_prefix: str, status: str | None = None) -> list[OutboxMessage]:
        rows = [
            m
            for m in self.db.rows(OutboxMessage)
            if m.idempotency_key.startswith(key_prefix) and status in (None, m.status)
        ]
        return sorted(rows, key=lambda m: m.id)

    def delete_prefix(self, *key_prefixes: str) -> None:
        for key_prefix in key_prefixes:
            for row in self.with_prefix(key_prefix):
                if row.status in ("sending", OUTBOX_DISCARD):
                    row.status = OUTBOX_DISCARD
                else:
                    self.db.delete(row)


class FakeState(_Repository):
    def get(self, key: str) -> str | None:
        row = self.db.get(KeyValue, key)
        return row.value if row is not None else None

    def put(self, key: str, value: str) -> None:
        row = self.db.get(KeyValue, key)
        if row is None:
            self.db.insert(KeyValue(key=key, value=value))
        else:
            row.value = value

    def delete(self, key: str) -> None:
        row = self.db.get(KeyValue, key)
        if row is not None:
            self.db.delete(row)

    def expiring(self) -> list[KeyValue]:
        return [row for row in self.db.rows(KeyValue) if '"until"' in row.value]


class FakeMeetings(_Repository):
    def scheduled(self, cohort_id: int, after: datetime | None = None) -> list[Meeting]:
        return sorted(
            (
                m
                for m in self.db.rows(Meeting)
                if m.cohort_id == cohort_id
                and m.deleted_at is None
                and (after is None or m.starts_at > after)
            ),
            key=lambda m: (m.starts_at, m.id),
        )

    def last_end(self, cohort_id: int) -> datetime | None:
        return max((m.ends_at for m in self.scheduled(cohort_id)), default=None)

    def add(self, meeting: Meeting) -> None:
        self.db.insert(meeting)

    def get(self, cohort_id: int, number: int) -> Meeting | None:
        return next(
            (
                m
                for m in self.db.rows(Meeting)
                if m.cohort_id == cohort_id and m.number == number and m.deleted_at is None
            ),
            None,
        )

    def by_id(self, meeting_id: int) -> Meeting | None:
        return self.db.get(Meeting, meeting_id)

    def every(self, cohort_id: int) -> list[Meeting]:
        return sorted(
            (m for m in self.db.rows(Meeting) if m.cohort_id == cohort_id), key=lambda m: m.number
        )

    def highest_number(self, cohort_id: int) -> int:
        return max((m.number for m in self.every(cohort_id)), default=0)


class FakeAgenda(_Repository):
    def add(self, item: AgendaItem) -> None:
        self.db.insert(item)

    def remove(self, item: AgendaItem) -> None:
        self.db.delete(item)

    def items_of(self, meeting_id: int) -> list[AgendaItem]:
        return sorted(
            (i for i in self.db.rows(AgendaItem) if i.meeting_id == meeting_id),
            key=lambda i: (i.starts_at, i.ends_at, i.id),
        )


class FakeAttendances(_Repository):
    def add(self, row: Attendance | MeetingState) -> None:
        self.db.insert(row)

    def for_meeting(self, meeting_id: int) -> list[Attendance]:
        return sorted(
            (a for a in self.db.rows(Attendance) if a.meeting_id == meeting_id), key=lambda a: a.id
        )

    def get(self, meeting_id: int, person_id: int) -> Attendance | None:
        return next(
            (
                a
                for a in self.db.rows(Attendance)
                if a.meeting_id == meeting_id and a.person_id == person_id
            ),
            None,
        )

    def state(self, meeting_id: int) -> MeetingState | None:
        return self.db.get(MeetingState, meeting_id)

    def of_person(self, person_id: int) -> list[tuple[Attendance, Meeting]]:
        pairs = [
            (a, m)
            for a in self.db.rows(Attendance)
            if a.person_id == person_id and (m := self.db.get(Meeting, a.meeting_id)) is not None
        ]
        return sorted(pairs, key=lambda pair: pair[1].starts_at)

    def erase_person(self, person_id: int) -> None:
        for row in self.db.rows(Attendance):
            if row.person_id == person_id:
                self.db.delete(row)


class FakePostedMessages(_Repository):
    def with_subject(self, subject: str) -> list[PostedMessage]:
        return [p for p in self.db.rows(PostedMessage) if p.subject == subject]


class FakeReminders(_Repository):
    def _pending(self, cohort_id: int) -> list[Reminder]:
        return [
            r for r in self.db.rows(Reminder) if r.cohort_id == cohort_id and r.status == "pending"
        ]

    def pending_count(self, cohort_id: int) -> int:
        return len(self._pending(cohort_id))

    def cancel_pending(self, cohort_id: int) -> int:
        pending = self._pending(cohort_id)
        for reminder in pending:
            reminder.status = "cancelled"
        return len(pending)

    def add(self, reminder: Reminder) -> None:
        self.db.insert(reminder)

    def by_key(self, key: str) -> Reminder | None:
        return next((r for r in self.db.rows(Reminder) if r.idempotency_key == key), None)

    def cancel_prefix(self, key_prefix: str) -> int:
        pending = [
            r
            for r in self.db.rows(Reminder)
            if r.idempotency_key.startswith(key_prefix) and r.status == "pending"
        ]
        for reminder in pending:
            reminder.status = "cancelled"
        return len(pending)

    def reopen(self, key: str) -> None:
        row = self.by_key(key)
        if row is not None and row.status == "cancelled":
            row.status, row.attempts = "pending", 0

    def announce(self, channel: str, wake: Callable[[], None]) -> None:
        self.db.after_commit(f"reminders:{channel}", wake)


class FakeTopics(_Repository):
    def add(self, topic: Topic) -> None:
        self.db.insert(topic)

    def get(self, cohort_id: int, number: int) -> Topic | None:
        return next(
            (t for t in self.db.rows(Topic) if t.cohort_id == cohort_id and t.number == number),
            None,
        )

    def of_cohort(self, cohort_id: int, *statuses: str) -> list[Topic]:
        return sorted(
            (
                t
                for t in self.db.rows(Topic)
                if t.cohort_id == cohort_id and (not statuses or t.status in statuses)
            ),
            key=lambda t: t.number,
        )

    def highest_number(self, cohort_id: int) -> int:
        return max((t.number for t in self.of_cohort(cohort_id)), default=0)


class FakePolls(_Repository):
    def of_cohort(self, cohort_id: int) -> list[Poll]:
        return sorted(
            (p for p in self.db.rows(Poll) if p.cohort_id == cohort_id), key=lambda p: p.number
        )

    def by_id(self, poll_id: int) -> Poll | None:
        return self.db.get(Poll, poll_id)

    def voter_ids(self, poll_id: int) -> set[int]:
        return {
            b.person_id
            for b in self.db.rows(PollBallot)
            if b.poll_id == poll_id and b.person_id is not None
        }


class FakeFeedbackRounds(_Repository):
    def of_cohort(self, cohort_id: int) -> list[FeedbackRound]:
        return sorted(
            (r for r in self.db.rows(FeedbackRound) if r.cohort_id == cohort_id),
            key=lambda r: r.number,
        )

    def add(self, obj: FeedbackRound | FeedbackPresenter) -> None:
        self.db.insert(obj)

    def get(self, cohort_id: int, number: int) -> FeedbackRound | None:
        return next((r for r in self.of_cohort(cohort_id) if r.number == number), None)

    def by_id(self, round_id: int) -> FeedbackRound | None:
        return self.db.get(FeedbackRound, round_id)

    def highest_number(self, cohort_id: int) -> int:
        return max((r.number for r in self.of_cohort(cohort_id)), default=0)

    def open_titled(self, cohort_id: int, title: str) -> list[FeedbackRound]:
        return [r for r in self.of_cohort(cohort_id) if r.closed_at is None and r.title == title]

    def lock(self, round_id: int) -> None:
        return None  # one writer at a time, and objects are the rows: nothing to re-read

    def presenters(self, round_id: int) -> list[Person]:
        ids = {p.person_id for p in self.db.rows(FeedbackPresenter) if p.round_id == round_id}
        return sorted((p for p in self.db.rows(Person) if p.id in ids), key=lambda p: p.id)

    def presented_by(self, person_id: int) -> list[FeedbackRound]:
        ids = {p.round_id for p in self.db.rows(FeedbackPresenter) if p.person_id == person_id}
        return sorted((r for r in self.db.rows(FeedbackRound) if r.id in ids), key=lambda r: r.id)

    def remove_presenter(self, person_id: int) -> None:
        for row in self.db.rows(FeedbackPresenter):
            if row.person_id == person_id:
                self.db.delete(row)


class FakeFeedbackAnswers(_Repository):
    def add(self, response: FeedbackResponse) -> None:
        self.db.insert(response)

    def remove(self, response: FeedbackResponse) -> None:
        self.db.delete(response)

    def of_round(self, round_id: int) -> list[FeedbackResponse]:
        return sorted(
            (r for r in self.db.rows(FeedbackResponse) if r.round_id == round_id),
            key=lambda r: r.id,
        )

    def of_author(self, round_id: int, person_id: int) -> FeedbackResponse | None:
        return next((r for r in self.of_round(round_id) if r.author_person_id == person_id), None)

    def by_author(
        self, person_id: int, anonymous: bool
    ) -> list[tuple[FeedbackResponse, FeedbackRound]]:
        pairs = [
            (r, rnd)
            for r in self.db.rows(FeedbackResponse)
            if r.author_person_id == person_id
            and (rnd := self.db.get(FeedbackRound, r.round_id)) is not None
            and rnd.anonymous is anonymous
        ]
        return sorted(pairs, key=lambda pair: pair[0].id)

    def unlink_author(self, person_id: int) -> None:
        for row in self.db.rows(FeedbackResponse):
            if row.author_person_id == person_id:
                row.author_person_id = None


# (model, person column) pairs that simply move to the merged person
_PERSON_COLUMNS: tuple[tuple[type[Base], str], ...] = (
    (Vote, "person_id"),
    (Reminder, "person_id"),
    (FeedbackResponse, "author_person_id"),
    (Poll, "created_by_person_id"),
    (Topic, "proposed_by_person_id"),
    (Participant, "delegate_person_id"),
    (PlatformIdentity, "person_id"),
)
# tables with one row per (key, person): the target's row wins
_KEYED: tuple[tuple[type[Base], str], ...] = (
    (Attendance, "meeting_id"),
    (FeedbackPresenter, "round_id"),
)


class FakeAccounts(_Repository):
    def merge_ballots(self, source_id: int, target_id: int) -> None:
        target_polls = {b.poll_id for b in self.db.rows(PollBallot) if b.person_id == target_id}
        for ballot in self.db.rows(PollBallot):
            if ballot.person_id != source_id:
                continue
            if ballot.poll_id not in target_polls:
                ballot.person_id = target_id
                continue
            poll = self.db.get(Poll, ballot.poll_id)
            votes = self._votes(int(v) for v in ballot.vote_ids or ())
            if poll is not None and poll.closed_at is None:
                for vote in votes:
                    self.db.delete(vote)
                counter = self.db.get(PollCounter, ballot.poll_id)
                if counter is not None:
                    counter.version, counter.ballots = counter.version + 1, counter.ballots - 1
            else:
                for vote in votes:
                    vote.person_id = None
            self.db.delete(ballot)

    def _votes(self, ids: Iterable[int]) -> list[Vote]:
        return [vote for i in ids if (vote := self.db.get(Vote, i)) is not None]

    def reassign(self, source_id: int, target_id: int) -> None:
        person = "person_id"
        for model, key in _KEYED:
            rows = self.db.rows(model)
            taken = {getattr(r, key) for r in rows if getattr(r, person) == target_id}
            for row in rows:
                if getattr(row, person) != source_id:
                    continue
                if getattr(row, key) in taken:
                    self.db.delete(row)
                else:
                    setattr(row, person, target_id)
        for model, column in _PERSON_COLUMNS:
            for row in self.db.rows(model):
                if getattr(row, column) == source_id:
                    setattr(row, column, target_id)
        for dialog in self.db.rows(Dialog):
            if dialog.person_id == source_id:
                self.db.delete(dialog)


class FakeUnitOfWork:
    """:class:`storage.ports.UnitOfWorkPort` over a :class:`MemoryDatabase`."""

    def __init__(self, db: MemoryDatabase) -> None:
        self.db = db
        self.persons = FakePersons(db)
        self.cohorts = FakeCohorts(db)
        self.participants = FakeParticipants(db)
        self.audit = FakeAuditLog(db)
        self.dialogs = FakeDialogs(db)
        self.outbox = FakeOutbox(db)
        self.state = FakeState(db)
        self.meetings = FakeMeetings(db)
        self.reminders = FakeReminders(db)
        self.agenda = FakeAgenda(db)
        self.attendance = FakeAttendances(db)
        self.posted = FakePostedMessages(db)
        self.topics = FakeTopics(db)
        self.polls = FakePolls(db)
        self.feedback_rounds = FakeFeedbackRounds(db)
        self.feedback_answers = FakeFeedbackAnswers(db)
        self.accounts = FakeAccounts(db)

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.rollback()

    def commit(self) -> None:
        self.db.commit()

    def rollback(self) -> None:
        self.db.rollback()


def _conforms(uow: FakeUnitOfWork) -> UnitOfWorkPort:
    return uow  # mypy: the fake satisfies the port, repository by repository
