"""Tables of the polls feature: topic proposals, ballots and a per-poll version counter.

``polls``, ``poll_options`` and ``votes`` live in :mod:`storage.models`. A ``PollBallot`` says
that a person has voted in a poll; for anonymous polls it is the *only* link between a voter
and their ``votes`` rows (``vote_ids``; the votes themselves carry no person) and it is deleted
when the poll closes.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from storage.models import Base


class Topic(Base):
    """A proposed host-city topic (status: offen, zusammengefuehrt, zurueckgezogen)."""

    __tablename__ = "poll_topics"
    __table_args__ = (UniqueConstraint("cohort_id", "number"),)
    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    cohort_id: Mapped[int] = mapped_column(ForeignKey("cohorts.id", ondelete="CASCADE"))
    number: Mapped[int] = mapped_column(Integer)
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str | None] = mapped_column(Text)
    proposed_by_person_id: Mapped[int | None] = mapped_column(
        ForeignKey("persons.id", ondelete="SET NULL")
    )
    status: Mapped[str] = mapped_column(String(20), default="offen")
    merged_into_number: Mapped[int | None] = mapped_column(Integer)
    poll_number: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[datetime]


class PollBallot(Base):
    """One per voter and poll while it is open (anonymous polls: deleted at close)."""

    __tablename__ = "poll_ballots"
    __table_args__ = (UniqueConstraint("poll_id", "person_id"),)
    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    poll_id: Mapped[int] = mapped_column(ForeignKey("polls.id", ondelete="CASCADE"))
    person_id: Mapped[int | None] = mapped_column(ForeignKey("persons.id", ondelete="CASCADE"))
    vote_ids: Mapped[list[Any]] = mapped_column(JSON, default=list)


class PollCounter(Base):
    """Bumped by every ballot change (versions the result updates); counts the ballots."""

    __tablename__ = "poll_counters"
    poll_id: Mapped[int] = mapped_column(
        ForeignKey("polls.id", ondelete="CASCADE"), primary_key=True
    )
    version: Mapped[int] = mapped_column(Integer, default=0)
    ballots: Mapped[int] = mapped_column(Integer, default=0)
