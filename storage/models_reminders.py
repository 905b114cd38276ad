"""Tables of the reminder engine: per-channel send pacing and the organisers' missed-work digest.

``reminders`` and ``outbox`` live in :mod:`storage.models`; these two hold what pacing and the
"what was missed" digest need, so that both survive restarts and are shared by all instances.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from storage.models import Base


class ChannelPacing(Base):
    """The earliest moment the next message may go to one channel/DM (~1 message per second)."""

    __tablename__ = "channel_pacing"
    platform: Mapped[str] = mapped_column(String(20), primary_key=True)
    channel: Mapped[str] = mapped_column(String(255), primary_key=True)
    next_at: Mapped[datetime]


class DigestEntry(Base):
    """Something organisers must hear about once: a reminder missed beyond the grace period,
    or an outbox row whose delivery is uncertain. Holds ids only, no personal text."""

    __tablename__ = "reminder_digest"
    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    at: Mapped[datetime]
    source: Mapped[str] = mapped_column(String(20))  # "reminder" | "outbox"
    ref_id: Mapped[int]
    reported_at: Mapped[datetime | None]
