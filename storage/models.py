"""SQLAlchemy 2 typed models: the database is the source of truth for everything the bot knows.

Times are stored as UTC (``UtcDateTime``) and come back timezone-aware.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, ClassVar

from sqlalchemy import (
    JSON,
    Boolean,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UtcDateTime(TypeDecorator[datetime]):
    """Aware datetimes in, aware UTC datetimes out; naive values are refused (no silent guesses)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to the database")
        utc = value.astimezone(UTC)
        return utc.replace(tzinfo=None) if dialect.name == "sqlite" else utc

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map: ClassVar[dict[Any, Any]] = {datetime: UtcDateTime, dict[str, Any]: JSON}


def _pk() -> Mapped[int]:
    return mapped_column(Integer, primary_key=True, autoincrement=True)


class Programme(Base):
    __tablename__ = "programmes"
    id: Mapped[int] = _pk()
    name: Mapped[str] = mapped_column(String(200), unique=True)


class Cohort(Base):
    """A Jahrgang: one year of the programme, at most ``capacity`` confirmed seats."""

    __tablename__ = "cohorts"
    id: Mapped[int] = _pk()
    programme_id: Mapped[int] = mapped_column(ForeignKey("programmes.id"))
    name: Mapped[str] = mapped_column(String(200), unique=True)
    capacity: Mapped[int] = mapped_column(Integer, default=20)
    moderated: Mapped[bool] = mapped_column(Boolean, default=False)
    registration_deadline: Mapped[datetime | None]
    created_at: Mapped[datetime]
    ended_at: Mapped[datetime | None]
    purged_at: Mapped[datetime | None]
    # The language of posts to the cohort's channels (None: the installation's default).
    language: Mapped[str | None] = mapped_column(String(5))
    # Bumped by every registration change: on PostgreSQL the row lock taken to bump it
    # serialises seat allocation per cohort.
    seat_version: Mapped[int] = mapped_column(Integer, default=0)


class ChannelBinding(Base):
    """A Slack channel, Matrix room or console channel that belongs to a cohort."""

    __tablename__ = "channel_bindings"
    __table_args__ = (UniqueConstraint("platform", "channel_id"),)
    id: Mapped[int] = _pk()
    cohort_id: Mapped[int] = mapped_column(ForeignKey("cohorts.id", ondelete="CASCADE"))
    platform: Mapped[str] = mapped_column(String(20))
    channel_id: Mapped[str] = mapped_column(String(255))


class Person(Base):
    __tablename__ = "persons"
    id: Mapped[int] = _pk()
    display_name: Mapped[str | None] = mapped_column(String(200))
    email: Mapped[str | None] = mapped_column(String(254))
    municipality: Mapped[str | None] = mapped_column(String(200))
    function: Mapped[str | None] = mapped_column(String(100))
    language: Mapped[str | None] = mapped_column(String(5))
    is_organiser: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime]
    erased_at: Mapped[datetime | None]
    pseudonym: Mapped[str | None] = mapped_column(String(40))
    # Where DMs go (bot.notifications): "chat", "email" or "beides"; NULL: chat when the
    # person has a chat identity, else e-mail.
    notify_via: Mapped[str | None] = mapped_column(String(10))
    # The office contact's address (Büroleitung): copies of meeting invitations by e-mail.
    office_email: Mapped[str | None] = mapped_column(String(254))


class PlatformIdentity(Base):
    """``slack:U0123``, ``matrix:@anna:example.org``, ``console:anna`` — one person, many."""

    __tablename__ = "identities"
    __table_args__ = (UniqueConstraint("platform", "external_id"),)
    id: Mapped[int] = _pk()
    person_id: Mapped[int] = mapped_column(ForeignKey("persons.id", ondelete="CASCADE"))
    platform: Mapped[str] = mapped_column(String(20))
    external_id: Mapped[str] = mapped_column(String(255))
    handle: Mapped[str | None] = mapped_column(String(255))
    last_seen_at: Mapped[datetime | None]


class Participant(Base):
    """A person's registration in a cohort (confirmed, waitlisted, pending, …)."""

    __tablename__ = "participants"
    __table_args__ = (
        UniqueConstraint("cohort_id", "person_id"),
        Index("ix_participants_person_id", "person_id"),  # a person's cohorts (0007_web)
    )
    id: Mapped[int] = _pk()
    cohort_id: Mapped[int] = mapped_column(ForeignKey("cohorts.id", ondelete="CASCADE"))
    person_id: Mapped[int] = mapped_column(ForeignKey("persons.id", ondelete="CASCADE"))
    status: Mapped[str] = mapped_column(String(20))
    is_host: Mapped[bool] = mapped_column(Boolean, default=False)
    registered_at: Mapped[datetime]
    consent_at: Mapped[datetime | None]
    office_contact: Mapped[str | None] = mapped_column(String(200))
    delegate_person_id: Mapped[int | None] = mapped_column(
        ForeignKey("persons.id", ondelete="SET NULL")
    )
    updated_at: Mapped[datetime]


class Meeting(Base):
    __tablename__ = "meetings"
    __table_args__ = (UniqueConstraint("cohort_id", "number"),)
    id: Mapped[int] = _pk()
    cohort_id: Mapped[int] = mapped_column(ForeignKey("cohorts.id", ondelete="CASCADE"))
    number: Mapped[int] = mapped_column(Integer)
    title: Mapped[str] = mapped_column(String(200))
    starts_at: Mapped[datetime]
    ends_at: Mapped[datetime]
    location: Mapped[str | None] = mapped_column(String(300))
    host_city: Mapped[str | None] = mapped_column(String(200))
    notes: Mapped[str | None] = mapped_column(Text)
    sequence: Mapped[int] = mapped_column(Integer, default=0)
    deleted_at: Mapped[datetime | None]


class AgendaItem(Base):
    __tablename__ = "agenda_items"
    id: Mapped[int] = _pk()
    meeting_id: Mapped[int] = mapped_column(ForeignKey("meetings.id", ondelete="CASCADE"))
    starts_at: Mapped[datetime]
    ends_at: Mapped[datetime]
    title: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str | None] = mapped_column(String(40))
    speaker: Mapped[str | None] = mapped_column(String(200))
    room: Mapped[str | None] = mapped_column(String(200))
    description: Mapped[str | None] = mapped_column(Text)


class Poll(Base):
    __tablename__ = "polls"
    __table_args__ = (UniqueConstraint("cohort_id", "number"),)
    id: Mapped[int] = _pk()
    cohort_id: Mapped[int] = mapped_column(ForeignKey("cohorts.id", ondelete="CASCADE"))
    number: Mapped[int] = mapped_column(Integer)
    question: Mapped[str] = mapped_column(String(300))
    max_choices: Mapped[int] = mapped_column(Integer, default=1)
    anonymous: Mapped[bool] = mapped_column(Boolean, default=False)
    results_live: Mapped[bool] = mapped_column(Boolean, default=True)
    host_abstain: Mapped[bool] = mapped_column(Boolean, default=False)
    closes_at: Mapped[datetime | None]
    closed_at: Mapped[datetime | None]
    created_by_person_id: Mapped[int | None] = mapped_column(
        ForeignKey("persons.id", ondelete="SET NULL")
    )
    created_at: Mapped[datetime]


class PollOption(Base):
    __tablename__ = "poll_options"
    __table_args__ = (UniqueConstraint("poll_id", "position"),)
    id: Mapped[int] = _pk()
    poll_id: Mapped[int] = mapped_column(ForeignKey("polls.id", ondelete="CASCADE"))
    position: Mapped[int] = mapped_column(Integer)
    label: Mapped[str] = mapped_column(String(200))


class Vote(Base):
    """One chosen option. ``person_id`` links ballot and voter only while the poll is open."""

    __tablename__ = "votes"
    __table_args__ = (UniqueConstraint("poll_id", "person_id", "option_id"),)
    id: Mapped[int] = _pk()
    poll_id: Mapped[int] = mapped_column(ForeignKey("polls.id", ondelete="CASCADE"))
    option_id: Mapped[int] = mapped_column(ForeignKey("poll_options.id", ondelete="CASCADE"))
    person_id: Mapped[int | None] = mapped_column(ForeignKey("persons.id", ondelete="SET NULL"))
    cast_at: Mapped[datetime]


class FeedbackRound(Base):
    __tablename__ = "feedback_rounds"
    __table_args__ = (UniqueConstraint("cohort_id", "number"),)
    id: Mapped[int] = _pk()
    cohort_id: Mapped[int] = mapped_column(ForeignKey("cohorts.id", ondelete="CASCADE"))
    number: Mapped[int] = mapped_column(Integer)
    title: Mapped[str] = mapped_column(String(200))
    subject: Mapped[str | None] = mapped_column(String(200))
    anonymous: Mapped[bool] = mapped_column(Boolean, default=False)
    questions: Mapped[dict[str, Any]] = mapped_column(JSON)
    closes_at: Mapped[datetime]
    closed_at: Mapped[datetime | None]
    created_at: Mapped[datetime]


class FeedbackResponse(Base):
    """An answer; ``author_person_id`` exists for editing and reminders, removed at close."""

    __tablename__ = "feedback_responses"
    __table_args__ = (Index("ix_feedback_responses_round_id", "round_id"),)  # 0007_web
    id: Mapped[int] = _pk()
    round_id: Mapped[int] = mapped_column(ForeignKey("feedback_rounds.id", ondelete="CASCADE"))
    author_person_id: Mapped[int | None] = mapped_column(
        ForeignKey("persons.id", ondelete="SET NULL")
    )
    answers: Mapped[dict[str, Any]] = mapped_column(JSON)
    submitted_at: Mapped[datetime]
    published_at: Mapped[datetime | None]


class Reminder(Base):
    __tablename__ = "reminders"
    id: Mapped[int] = _pk()
    idempotency_key: Mapped[str] = mapped_column(String(200), unique=True)
    due_at: Mapped[datetime]
    kind: Mapped[str] = mapped_column(String(40))
    cohort_id: Mapped[int | None] = mapped_column(ForeignKey("cohorts.id", ondelete="CASCADE"))
    person_id: Mapped[int | None] = mapped_column(ForeignKey("persons.id", ondelete="CASCADE"))
    target: Mapped[dict[str, Any]] = mapped_column(JSON)
    text: Mapped[str | None] = mapped_column(Text)
    recurrence: Mapped[str | None] = mapped_column(String(100))
    status: Mapped[str] = mapped_column(String(20), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime]


class AuditEntry(Base):
    __tablename__ = "audit_entries"
    id: Mapped[int] = _pk()
    at: Mapped[datetime]
    cohort_id: Mapped[int | None] = mapped_column(ForeignKey("cohorts.id", ondelete="SET NULL"))
    actor_person_id: Mapped[int | None] = mapped_column(
        ForeignKey("persons.id", ondelete="SET NULL")
    )
    action: Mapped[str] = mapped_column(String(80))
    subject_person_id: Mapped[int | None] = mapped_column(
        ForeignKey("persons.id", ondelete="SET NULL")
    )
    before: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    after: Mapped[dict[str, Any] | None] = mapped_column(JSON)


class Dialog(Base):
    """A guided DM conversation in progress (e.g. registration field by field)."""

    __tablename__ = "dialogs"
    __table_args__ = (UniqueConstraint("person_id"),)
    id: Mapped[int] = _pk()
    person_id: Mapped[int] = mapped_column(ForeignKey("persons.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(40))
    state: Mapped[dict[str, Any]] = mapped_column(JSON)
    updated_at: Mapped[datetime]


# OutboxMessage.status of a row whose purpose ended while it was being sent (a sealed poll or
# feedback round): OutboxRepository.delete_prefix marks it, its sender deletes it once the send
# is over, whatever the outcome; never resent, never reported.
OUTBOX_DISCARD = "discard"


class OutboxMessage(Base):
    """Every message the bot sends that is not the direct answer to a command."""

    __tablename__ = "outbox"
    id: Mapped[int] = _pk()
    idempotency_key: Mapped[str] = mapped_column(String(200), unique=True)
    platform: Mapped[str] = mapped_column(String(20))
    operation: Mapped[str] = mapped_column(String(20))
    target: Mapped[dict[str, Any]] = mapped_column(JSON)
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    status: Mapped[str] = mapped_column(String(20), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    not_before: Mapped[datetime]
    lease_until: Mapped[datetime | None]
    created_at: Mapped[datetime]
    sent_at: Mapped[datetime | None]
    result: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    error: Mapped[str | None] = mapped_column(Text)


class PostedMessage(Base):
    """Which platform message shows which of our records, so that it can be edited later."""

    __tablename__ = "posted_messages"
    __table_args__ = (UniqueConstraint("subject", "platform", "channel_id"),)
    id: Mapped[int] = _pk()
    subject: Mapped[str] = mapped_column(String(100))
    platform: Mapped[str] = mapped_column(String(20))
    channel_id: Mapped[str] = mapped_column(String(255))
    message_id: Mapped[str] = mapped_column(String(255))
    thread_id: Mapped[str | None] = mapped_column(String(255))


class KeyValue(Base):
    """Small bot state that must survive restarts (Matrix sync token, device id, …)."""

    __tablename__ = "bot_state"
    key: Mapped[str] = mapped_column(String(100), primary_key=True)
    value: Mapped[str] = mapped_column(Text)
