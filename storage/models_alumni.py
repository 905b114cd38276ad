"""Tables of the alumni circle: who opted in (or was imported with consent), the folded topic
keys ``wer kennt sich aus`` looks them up by, and the bare counts of imported contacts without
consent."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from storage.models import Base


class Alumnus(Base):
    """A member of the alumni circle, across cohorts. ``source`` "cohort": a former participant
    who said ``alumni ja`` (name, route and profile are their person row and profile);
    "import": a contact of the former network imported with consent (name, municipality,
    e-mail and topics kept here). A row exists only while consent is given: ``alumni nein``
    and ``vergessen`` delete it. Personal data (bot.networking.alumni)."""

    __tablename__ = "alumni"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    person_id: Mapped[int | None] = mapped_column(
        ForeignKey("persons.id", ondelete="CASCADE"), unique=True
    )
    cohort_id: Mapped[int | None] = mapped_column(ForeignKey("cohorts.id", ondelete="SET NULL"))
    cohort_name: Mapped[str | None] = mapped_column(String(200))
    year: Mapped[int | None] = mapped_column(Integer)
    name: Mapped[str | None] = mapped_column(String(200))  # import only
    municipality: Mapped[str | None] = mapped_column(String(200))
    email: Mapped[str | None] = mapped_column(String(320))  # import only
    topics: Mapped[list[Any]] = mapped_column(JSON, default=list)  # import only
    consent: Mapped[str] = mapped_column(String(10))  # "ja"
    consent_at: Mapped[datetime]
    source: Mapped[str] = mapped_column(String(10))  # "cohort" | "import"


class AlumniTopicKey(Base):
    """One folded key (bot.networking.topics.key) an alumnus is found by: ``kind`` "tag" (a
    tag as typed), "topic" (the curated topic the tag folds onto) or "vorhaben" (a curated
    topic named in their Vorhaben). ``tag`` is what the answer names. Rebuilt whenever the
    profile changes; deleted with the alumnus."""

    __tablename__ = "alumni_topic_keys"
    __table_args__ = (Index("ix_alumni_topic_keys_key", "key"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    alumnus_id: Mapped[int] = mapped_column(ForeignKey("alumni.id", ondelete="CASCADE"))
    key: Mapped[str] = mapped_column(String(80))
    kind: Mapped[str] = mapped_column(String(10))
    tag: Mapped[str] = mapped_column(String(200))


class AlumniImport(Base):
    """One ``alumni import``: how many rows had consent (stored as alumni) and how many had
    not (only counted here: no name, no address, never findable)."""

    __tablename__ = "alumni_imports"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    imported_at: Mapped[datetime]
    with_consent: Mapped[int] = mapped_column(Integer)
    without_consent: Mapped[int] = mapped_column(Integer)


class AlumniMeeting(Base):
    """A meeting the organisers opened for alumni (``treffen N oeffnen fuer alumni``)."""

    __tablename__ = "alumni_meetings"
    meeting_id: Mapped[int] = mapped_column(
        ForeignKey("meetings.id", ondelete="CASCADE"), primary_key=True
    )
    opened_at: Mapped[datetime]


class AlumniGuest(Base):
    """An alumnus invited to an open meeting, and their answer (None: not yet; "ja" | "nein").
    Deleted with the alumnus (``alumni nein``, ``vergessen``) and when the meeting is closed
    for alumni again."""

    __tablename__ = "alumni_guests"
    __table_args__ = (UniqueConstraint("meeting_id", "alumnus_id"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    meeting_id: Mapped[int] = mapped_column(ForeignKey("meetings.id", ondelete="CASCADE"))
    alumnus_id: Mapped[int] = mapped_column(ForeignKey("alumni.id", ondelete="CASCADE"))
    answer: Mapped[str | None] = mapped_column(String(10))
    invited_at: Mapped[datetime]
    answered_at: Mapped[datetime | None]
