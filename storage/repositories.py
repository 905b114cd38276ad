"""Repositories with methods named by intent; they never commit (the unit of work does)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from sqlalchemy import and_, bindparam, delete, event, func, or_, select, text, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import InstrumentedAttribute, Session

from storage.models import (
    OUTBOX_DISCARD,
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
    Vote,
)
from storage.models_feedback import FeedbackPresenter
from storage.models_meetings import Attendance, MeetingState
from storage.models_polls import PollBallot, PollCounter, Topic

# session.info key: the outbox rows added in the open transaction (OutboxSender.claim_enqueued)
NEW_OUTBOX_ROWS = "outbox:new"
# session.info key: reminder changes already announced in the open transaction
REMINDERS_ANNOUNCED = "reminders:announce"


class _Repository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def add(self, obj: Any) -> None:
        self.session.add(obj)
        self.session.flush()


class PersonRepository(_Repository):
    def add_first_contact(self, person: Person, identity: PlatformIdentity) -> bool:
        try:
            with self.session.begin_nested():  # a savepoint: the caller's transaction survives
                self.session.add(person)
                self.session.flush()
                identity.person_id = person.id
                self.session.add(identity)
                self.session.flush()
        except IntegrityError:  # uq_identities_platform: the other writer won
            return False
        return True

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

    def known(self, platform: str, external_id: str) -> tuple[PlatformIdentity, Person] | None:
        row = self.session.execute(
            KNOWN_IDENTITY, {"platform": platform, "external_id": external_id}
        ).first()
        return None if row is None else (row[0], row[1])

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


# Built once (the expression costs more Python than running it), run with the request's values.
# The caller's identity and person, one query (a request's first read outside a channel).
KNOWN_IDENTITY = (
    select(PlatformIdentity, Person)
    .join(Person, Person.id == PlatformIdentity.person_id)
    .where(PlatformIdentity.platform == bindparam("platform"))
    .where(PlatformIdentity.external_id == bindparam("external_id"))
)

CALLER_IN_CHANNEL = (
    select(Cohort, Person, Participant, PlatformIdentity)
    .select_from(ChannelBinding)
    .join(Cohort, Cohort.id == ChannelBinding.cohort_id)
    .outerjoin(
        PlatformIdentity,
        and_(
            PlatformIdentity.platform == bindparam("platform"),
            PlatformIdentity.external_id == bindparam("external_id"),
        ),
    )
    .outerjoin(Person, Person.id == PlatformIdentity.person_id)
    .outerjoin(
        Participant,
        and_(
            Participant.cohort_id == Cohort.id,
            Participant.person_id == PlatformIdentity.person_id,
        ),
    )
    .where(ChannelBinding.platform == bindparam("binding_platform"))
    .where(ChannelBinding.channel_id == bindparam("channel_id"))
    .limit(1)
)


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

    def latest(self) -> Cohort | None:
        return self.session.scalar(select(Cohort).order_by(Cohort.id.desc()).limit(1))

    def caller_in_channel(
        self, platform: str, external_id: str, channel_platform: str, channel_id: str
    ) -> tuple[Cohort, Person | None, Participant | None, PlatformIdentity | None] | None:
        row = self.session.execute(
            CALLER_IN_CHANNEL,
            {
                "platform": platform,
                "external_id": external_id,
                "binding_platform": channel_platform,
                "channel_id": channel_id,
            },
        ).first()
        return None if row is None else (row[0], row[1], row[2], row[3])

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

    def remove(self, participant: Participant) -> None:
        self.session.delete(participant)
        self.session.flush()


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

    def of_kind(self, kind: str) -> list[Dialog]:
        return list(
            self.session.scalars(select(Dialog).where(Dialog.kind == kind).order_by(Dialog.id))
        )

    def remove(self, dialog: Dialog) -> None:
        self.session.delete(dialog)
        self.session.flush()


class OutboxRepository(_Repository):
    def add(self, obj: Any) -> None:
        super().add(obj)
        self.session.info.setdefault(NEW_OUTBOX_ROWS, []).append(obj)

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

    def with_prefix(self, key_prefix: str, status: str | None = None) -> list[OutboxMessage]:
        query = select(OutboxMessage).where(
            OutboxMessage.idempotency_key.startswith(key_prefix, autoescape=True)
        )
        if status is not None:
            query = query.where(OutboxMessage.status == status)
        return list(self.session.scalars(query.order_by(OutboxMessage.id)))

    def delete_prefix(self, *key_prefixes: str) -> None:
        match = or_(
            *(OutboxMessage.idempotency_key.startswith(p, autoescape=True) for p in key_prefixes)
        )
        self.session.execute(
            update(OutboxMessage)
            .where(match, OutboxMessage.status == "sending")
            .values(status=OUTBOX_DISCARD)
        )
        self.session.execute(
            delete(OutboxMessage).where(match, OutboxMessage.status != OUTBOX_DISCARD)
        )


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


class MeetingRepository(_Repository):
    def scheduled(self, cohort_id: int, after: datetime | None = None) -> list[Meeting]:
        query = select(Meeting).where(Meeting.cohort_id == cohort_id, Meeting.deleted_at.is_(None))
        if after is not None:
            query = query.where(Meeting.starts_at > after)
        return list(self.session.scalars(query.order_by(Meeting.starts_at, Meeting.id)))

    def last_end(self, cohort_id: int) -> datetime | None:
        return self.session.scalar(
            select(func.max(Meeting.ends_at)).where(
                Meeting.cohort_id == cohort_id, Meeting.deleted_at.is_(None)
            )
        )

    def get(self, cohort_id: int, number: int) -> Meeting | None:
        return self.session.scalar(
            select(Meeting).where(
                Meeting.cohort_id == cohort_id,
                Meeting.number == number,
                Meeting.deleted_at.is_(None),
            )
        )

    def by_id(self, meeting_id: int) -> Meeting | None:
        return self.session.get(Meeting, meeting_id)

    def every(self, cohort_id: int) -> list[Meeting]:
        return list(
            self.session.scalars(
                select(Meeting).where(Meeting.cohort_id == cohort_id).order_by(Meeting.number)
            )
        )

    def highest_number(self, cohort_id: int) -> int:
        highest = self.session.scalar(
            select(func.max(Meeting.number)).where(Meeting.cohort_id == cohort_id)
        )
        return int(highest or 0)


class AgendaRepository(_Repository):
    def remove(self, item: AgendaItem) -> None:
        self.session.delete(item)
        self.session.flush()

    def items_of(self, meeting_id: int) -> list[AgendaItem]:
        return list(
            self.session.scalars(
                select(AgendaItem)
                .where(AgendaItem.meeting_id == meeting_id)
                .order_by(AgendaItem.starts_at, AgendaItem.ends_at, AgendaItem.id)
            )
        )


class AttendanceRepository(_Repository):
    def get(self, meeting_id: int, person_id: int) -> Attendance | None:
        return self.session.scalar(
            select(Attendance).where(
                Attendance.meeting_id == meeting_id, Attendance.person_id == person_id
            )
        )

    def state(self, meeting_id: int) -> MeetingState | None:
        return self.session.get(MeetingState, meeting_id)

    def for_meeting(self, meeting_id: int) -> list[Attendance]:
        return list(
            self.session.scalars(
                select(Attendance)
                .where(Attendance.meeting_id == meeting_id)
                .order_by(Attendance.id)
            )
        )

    def of_person(self, person_id: int) -> list[tuple[Attendance, Meeting]]:
        return [
            (attendance, meeting)
            for attendance, meeting in self.session.execute(
                select(Attendance, Meeting)
                .join(Meeting, Meeting.id == Attendance.meeting_id)
                .where(Attendance.person_id == person_id)
                .order_by(Meeting.starts_at)
            )
        ]

    def erase_person(self, person_id: int) -> None:
        for row in self.session.scalars(
            select(Attendance).where(Attendance.person_id == person_id)
        ):
            self.session.delete(row)
        self.session.flush()


class PostedMessageRepository(_Repository):
    def with_subject(self, subject: str) -> list[PostedMessage]:
        return list(
            self.session.scalars(select(PostedMessage).where(PostedMessage.subject == subject))
        )


class ReminderRepository(_Repository):
    def pending_count(self, cohort_id: int) -> int:
        return int(
            self.session.scalar(
                select(func.count())
                .select_from(Reminder)
                .where(Reminder.cohort_id == cohort_id, Reminder.status == "pending")
            )
            or 0
        )

    def cancel_pending(self, cohort_id: int) -> int:
        result = self.session.execute(
            update(Reminder)
            .where(Reminder.cohort_id == cohort_id, Reminder.status == "pending")
            .values(status="cancelled")
        )
        return int(getattr(result, "rowcount", 0) or 0)

    def by_key(self, key: str) -> Reminder | None:
        return self.session.scalar(select(Reminder).where(Reminder.idempotency_key == key))

    def cancel_prefix(self, key_prefix: str) -> int:
        result = self.session.execute(
            update(Reminder)
            .where(
                Reminder.idempotency_key.startswith(key_prefix, autoescape=True),
                Reminder.status == "pending",
            )
            .values(status="cancelled")
        )
        return int(getattr(result, "rowcount", 0) or 0)

    def reopen(self, key: str) -> None:
        self.session.execute(
            update(Reminder)
            .where(Reminder.idempotency_key == key, Reminder.status == "cancelled")
            .values(status="pending", attempts=0)
        )

    def announce(self, channel: str, wake: Callable[[], None]) -> None:
        session = self.session
        if session.info.get(REMINDERS_ANNOUNCED):
            return
        session.info[REMINDERS_ANNOUNCED] = True
        if session.get_bind().dialect.name == "postgresql":
            session.execute(text(f"NOTIFY {channel}"))

        def after_commit(_session: Session) -> None:
            _session.info.pop(REMINDERS_ANNOUNCED, None)
            wake()

        def after_rollback(_session: Session, _previous: object) -> None:
            _session.info.pop(REMINDERS_ANNOUNCED, None)

        event.listen(session, "after_commit", after_commit, once=True)
        event.listen(session, "after_soft_rollback", after_rollback, once=True)


class TopicRepository(_Repository):
    def get(self, cohort_id: int, number: int) -> Topic | None:
        return self.session.scalar(
            select(Topic).where(Topic.cohort_id == cohort_id, Topic.number == number)
        )

    def of_cohort(self, cohort_id: int, *statuses: str) -> list[Topic]:
        query = select(Topic).where(Topic.cohort_id == cohort_id)
        if statuses:
            query = query.where(Topic.status.in_(statuses))
        return list(self.session.scalars(query.order_by(Topic.number)))

    def highest_number(self, cohort_id: int) -> int:
        highest = self.session.scalar(
            select(func.max(Topic.number)).where(Topic.cohort_id == cohort_id)
        )
        return int(highest or 0)


class PollRepository(_Repository):
    def of_cohort(self, cohort_id: int) -> list[Poll]:
        return list(
            self.session.scalars(
                select(Poll).where(Poll.cohort_id == cohort_id).order_by(Poll.number)
            )
        )

    def by_id(self, poll_id: int) -> Poll | None:
        return self.session.get(Poll, poll_id)

    def voter_ids(self, poll_id: int) -> set[int]:
        return {
            person_id
            for person_id in self.session.scalars(
                select(PollBallot.person_id).where(PollBallot.poll_id == poll_id)
            )
            if person_id is not None
        }


class FeedbackRoundRepository(_Repository):
    def of_cohort(self, cohort_id: int) -> list[FeedbackRound]:
        return list(
            self.session.scalars(
                select(FeedbackRound)
                .where(FeedbackRound.cohort_id == cohort_id)
                .order_by(FeedbackRound.number)
            )
        )

    def get(self, cohort_id: int, number: int) -> FeedbackRound | None:
        return self.session.scalar(
            select(FeedbackRound).where(
                FeedbackRound.cohort_id == cohort_id, FeedbackRound.number == number
            )
        )

    def by_id(self, round_id: int) -> FeedbackRound | None:
        return self.session.get(FeedbackRound, round_id)

    def highest_number(self, cohort_id: int) -> int:
        highest = self.session.scalar(
            select(func.max(FeedbackRound.number)).where(FeedbackRound.cohort_id == cohort_id)
        )
        return int(highest or 0)

    def open_titled(self, cohort_id: int, title: str) -> list[FeedbackRound]:
        return list(
            self.session.scalars(
                select(FeedbackRound).where(
                    FeedbackRound.cohort_id == cohort_id,
                    FeedbackRound.closed_at.is_(None),
                    FeedbackRound.title == title,
                )
            )
        )

    def lock(self, round_id: int) -> None:
        self.session.scalar(
            select(FeedbackRound)
            .where(FeedbackRound.id == round_id)
            .with_for_update()
            .execution_options(populate_existing=True)
        )

    def presenters(self, round_id: int) -> list[Person]:
        return list(
            self.session.scalars(
                select(Person)
                .join(FeedbackPresenter, FeedbackPresenter.person_id == Person.id)
                .where(FeedbackPresenter.round_id == round_id)
                .order_by(Person.id)
            )
        )

    def presented_by(self, person_id: int) -> list[FeedbackRound]:
        return list(
            self.session.scalars(
                select(FeedbackRound)
                .join(FeedbackPresenter, FeedbackPresenter.round_id == FeedbackRound.id)
                .where(FeedbackPresenter.person_id == person_id)
                .order_by(FeedbackRound.id)
            )
        )

    def remove_presenter(self, person_id: int) -> None:
        self.session.execute(
            delete(FeedbackPresenter).where(FeedbackPresenter.person_id == person_id)
        )


class FeedbackAnswerRepository(_Repository):
    def remove(self, response: FeedbackResponse) -> None:
        self.session.delete(response)

    def of_round(self, round_id: int) -> list[FeedbackResponse]:
        return list(
            self.session.scalars(
                select(FeedbackResponse)
                .where(FeedbackResponse.round_id == round_id)
                .order_by(FeedbackResponse.id)
            )
        )

    def of_author(self, round_id: int, person_id: int) -> FeedbackResponse | None:
        return self.session.scalar(
            select(FeedbackResponse).where(
                FeedbackResponse.round_id == round_id,
                FeedbackResponse.author_person_id == person_id,
            )
        )

    def by_author(
        self, person_id: int, anonymous: bool
    ) -> list[tuple[FeedbackResponse, FeedbackRound]]:
        return [
            (response, rnd)
            for response, rnd in self.session.execute(
                select(FeedbackResponse, FeedbackRound)
                .join(FeedbackRound, FeedbackRound.id == FeedbackResponse.round_id)
                .where(
                    FeedbackResponse.author_person_id == person_id,
                    FeedbackRound.anonymous.is_(anonymous),
                )
                .order_by(FeedbackResponse.id)
            )
        ]

    def unlink_author(self, person_id: int) -> None:
        self.session.execute(
            update(FeedbackResponse)
            .where(FeedbackResponse.author_person_id == person_id)
            .values(author_person_id=None)
        )


# columns naming a person that simply move to the merged person
_PERSON_COLUMNS: tuple[InstrumentedAttribute[Any], ...] = (
    Vote.person_id,
    Reminder.person_id,
    FeedbackResponse.author_person_id,
    Poll.created_by_person_id,
    Topic.proposed_by_person_id,
    Participant.delegate_person_id,
)


class AccountRepository(_Repository):
    def merge_ballots(self, source_id: int, target_id: int) -> None:
        s = self.session
        target_polls = set(
            s.scalars(select(PollBallot.poll_id).where(PollBallot.person_id == target_id))
        )
        for ballot in s.scalars(
            select(PollBallot).where(
                PollBallot.person_id == source_id, PollBallot.poll_id.in_(target_polls)
            )
        ).all():
            poll = s.get(Poll, ballot.poll_id)
            vote_ids = [int(v) for v in ballot.vote_ids or ()]
            if poll is not None and poll.closed_at is None:
                s.execute(delete(Vote).where(Vote.id.in_(vote_ids)))
                s.execute(
                    update(PollCounter)
                    .where(PollCounter.poll_id == ballot.poll_id)
                    .values(version=PollCounter.version + 1, ballots=PollCounter.ballots - 1)
                )
            else:
                s.execute(update(Vote).where(Vote.id.in_(vote_ids)).values(person_id=None))
            s.delete(ballot)
        s.flush()
        s.execute(
            update(PollBallot).where(PollBallot.person_id == source_id).values(person_id=target_id)
        )

    def reassign(self, source_id: int, target_id: int) -> None:
        s = self.session
        self._move_keyed(Attendance.person_id, Attendance.meeting_id, source_id, target_id)
        self._move_keyed(
            FeedbackPresenter.person_id, FeedbackPresenter.round_id, source_id, target_id
        )
        for column in _PERSON_COLUMNS:
            s.execute(
                update(column.class_).where(column == source_id).values({column.key: target_id})
            )
        s.execute(delete(Dialog).where(Dialog.person_id == source_id))
        s.execute(
            update(PlatformIdentity)
            .where(PlatformIdentity.person_id == source_id)
            .values(person_id=target_id)
        )

    def _move_keyed(
        self,
        person: InstrumentedAttribute[int],
        key: InstrumentedAttribute[int],
        source_id: int,
        target_id: int,
    ) -> None:
        """Re-point ``person`` from source to target in a table unique on (key, person)."""
        s, table = self.session, person.class_
        taken = select(key).where(person == target_id).scalar_subquery()
        s.execute(delete(table).where(person == source_id, key.in_(taken)))
        s.execute(update(table).where(person == source_id).values({person.key: target_id}))
