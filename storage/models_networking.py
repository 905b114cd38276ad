"""Tables of the networking feature: profiles with their Vorhaben, introductions, tandems."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from storage.models import Base


class Profile(Base):
    """What a participant shows the cohort: size class, expertise topics and the Vorhaben
    (the one topic their municipality works on this year). Personal data: exported and
    erased with the person (bot.networking.privacy)."""

    __tablename__ = "profiles"
    person_id: Mapped[int] = mapped_column(
        ForeignKey("persons.id", ondelete="CASCADE"), primary_key=True
    )
    size_class: Mapped[str | None] = mapped_column(String(20))
    size_source: Mapped[str | None] = mapped_column(String(20))  # "ortsdaten" | "angegeben"
    topics: Mapped[list[Any]] = mapped_column(JSON, default=list)
    vorhaben_title: Mapped[str | None] = mapped_column(String(200))
    vorhaben_goal: Mapped[str | None] = mapped_column(Text)
    vorhaben_stage: Mapped[str | None] = mapped_column(String(20))
    updated_at: Mapped[datetime]


class Introduction(Base):
    """``requester`` asked the bot to introduce them to ``other``; ``other`` accepts or declines
    (a request open for 14 days expires). One row per ordered pair: a new request after an
    expiry, or 30 days after a decline, renews the row (bot.networking.introductions). On
    acceptance the bot opens a group DM / private room; where it lives is kept here."""

    __tablename__ = "introductions"
    __table_args__ = (UniqueConstraint("requester_person_id", "other_person_id"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    cohort_id: Mapped[int | None] = mapped_column(ForeignKey("cohorts.id", ondelete="CASCADE"))
    requester_person_id: Mapped[int] = mapped_column(ForeignKey("persons.id", ondelete="CASCADE"))
    other_person_id: Mapped[int] = mapped_column(ForeignKey("persons.id", ondelete="CASCADE"))
    topic: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime]
    declined_at: Mapped[datetime | None]
    accepted_at: Mapped[datetime | None]
    conversation_platform: Mapped[str | None] = mapped_column(String(20))
    conversation_id: Mapped[str | None] = mapped_column(String(255))


class TandemRound(Base):
    """One pairing of a cohort's participants for an exchange until ``due_at``."""

    __tablename__ = "tandem_rounds"
    __table_args__ = (UniqueConstraint("cohort_id", "number"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    cohort_id: Mapped[int] = mapped_column(ForeignKey("cohorts.id", ondelete="CASCADE"))
    number: Mapped[int] = mapped_column(Integer)
    theme: Mapped[str | None] = mapped_column(String(200))
    due_at: Mapped[datetime]
    created_at: Mapped[datetime]


class TandemMember(Base):
    """A person in tandem ``group_no`` of a round (two people, or three once per round)."""

    __tablename__ = "tandem_members"
    __table_args__ = (UniqueConstraint("round_id", "person_id"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    round_id: Mapped[int] = mapped_column(ForeignKey("tandem_rounds.id", ondelete="CASCADE"))
    group_no: Mapped[int] = mapped_column(Integer)
    person_id: Mapped[int] = mapped_column(ForeignKey("persons.id", ondelete="CASCADE"))


class TandemAnswer(Base):
    """A member's answer to "Haben Sie sich ausgetauscht?" (at the round's deadline or before):
    ``met``, an optional one-sentence insight, and whether the organisers may see their name
    with it (``named``; default not). One per member and round; answering again replaces it.
    No time is kept: the organisers' list of insights is sorted by text, not by who came last.
    Personal data: exported and erased with the person (bot.networking.privacy)."""

    __tablename__ = "tandem_answers"
    __table_args__ = (UniqueConstraint("round_id", "person_id"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    round_id: Mapped[int] = mapped_column(ForeignKey("tandem_rounds.id", ondelete="CASCADE"))
    person_id: Mapped[int] = mapped_column(ForeignKey("persons.id", ondelete="CASCADE"))
    met: Mapped[bool] = mapped_column(Boolean)
    insight: Mapped[str | None] = mapped_column(Text)
    named: Mapped[bool] = mapped_column(Boolean, default=False)


class CheckinAnswer(Base):
    """A participant's monthly Vorhaben check-in (``period`` "2027-01", Europe/Berlin by
    default): progress, obstacle, what would help. ``shared``: the cohort may read it
    (``checkin teilen ja``); the organisers always can. One per person, cohort and month;
    answering again replaces it. Personal data (bot.networking.privacy)."""

    __tablename__ = "checkin_answers"
    __table_args__ = (UniqueConstraint("cohort_id", "person_id", "period"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    cohort_id: Mapped[int] = mapped_column(ForeignKey("cohorts.id", ondelete="CASCADE"))
    person_id: Mapped[int] = mapped_column(ForeignKey("persons.id", ondelete="CASCADE"))
    period: Mapped[str] = mapped_column(String(7))
    progress: Mapped[str] = mapped_column(Text)
    obstacle: Mapped[str] = mapped_column(Text)
    help: Mapped[str] = mapped_column(Text)
    shared: Mapped[bool] = mapped_column(Boolean, default=False)
    answered_at: Mapped[datetime]
