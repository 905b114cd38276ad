"""Tables of the meetings feature: who attends which meeting, and per-meeting switches.

``meetings`` and ``agenda_items`` live in :mod:`storage.models`; these add what the
attendance answers and the e-mail invitations need.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from storage.models import Base


class Attendance(Base):
    """A person's answer for one meeting: all days, some days or none, and their needs."""

    __tablename__ = "meeting_attendance"
    __table_args__ = (UniqueConstraint("meeting_id", "person_id"),)
    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    meeting_id: Mapped[int] = mapped_column(ForeignKey("meetings.id", ondelete="CASCADE"))
    person_id: Mapped[int] = mapped_column(ForeignKey("persons.id", ondelete="CASCADE"))
    days: Mapped[str] = mapped_column(String(40))  # "1,2" — the days attended; "" = not coming
    dietary: Mapped[str | None] = mapped_column(Text)
    accessibility: Mapped[str | None] = mapped_column(Text)
    overnight: Mapped[bool | None] = mapped_column(Boolean)
    answered_at: Mapped[datetime]


class MeetingState(Base):
    """Switches of one meeting that the ``meetings`` table has no column for."""

    __tablename__ = "meeting_state"
    meeting_id: Mapped[int] = mapped_column(
        ForeignKey("meetings.id", ondelete="CASCADE"), primary_key=True
    )
    attendance_closed_at: Mapped[datetime | None]


class MeetingInvitation(Base):
    """The last iTIP invitation mailed to one address for one meeting (bot.services.itip).

    ``sequence`` is the meeting's SEQUENCE in that mail; a change is mailed to the addresses
    whose sequence is behind ``Meeting.sequence``, a cancellation to every address here that
    did not get one yet (``method`` = ``CANCEL`` afterwards). ``role``: ``person`` or
    ``office`` (a copy for the Büroleitung of ``person_id``).
    """

    __tablename__ = "meeting_invitations"
    __table_args__ = (UniqueConstraint("meeting_id", "address"),)
    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    meeting_id: Mapped[int] = mapped_column(ForeignKey("meetings.id", ondelete="CASCADE"))
    person_id: Mapped[int | None] = mapped_column(ForeignKey("persons.id", ondelete="CASCADE"))
    address: Mapped[str] = mapped_column(String(254))
    role: Mapped[str] = mapped_column(String(10), default="person")
    sequence: Mapped[int] = mapped_column(Integer, default=0)
    method: Mapped[str] = mapped_column(String(10), default="REQUEST")
    sent_at: Mapped[datetime]
