"""The outbox's one rate limiter per platform, kept in the database so every instance and every
restart sees it: ``channel_pacing`` holds the earliest moment of each channel's next message —
moved by the pace (~1 message per second per channel on Slack and Matrix) and by the
platform's own answers (Slack's 429 ``Retry-After``, Matrix's ``M_LIMIT_EXCEEDED``
``retry_after_ms``, both raised by the Messengers as :class:`RateLimited`). Nothing sleeps: a
row that may not go yet keeps (or gets) a later ``not_before``."""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import Table, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import IntegrityError

from storage.models import OutboxMessage
from storage.models_reminders import ChannelPacing
from storage.uow import UnitOfWork

#: Seconds between two messages to the same channel, per platform (a Messenger may override
#: with a ``pace_seconds`` attribute). Slack allows about one message per second per channel.
PACE_SECONDS = {"slack": 1.0, "matrix": 1.0}
DEFAULT_RETRY_AFTER = 1.0
MAX_RETRY_AFTER = 3600.0


class RateLimited(Exception):
    """Raised by a Messenger when the platform says "too many requests, retry after N s"."""

    def __init__(self, retry_after: float, message: str = "rate limited") -> None:
        super().__init__(message)
        self.retry_after = retry_after


def retry_after(exc: BaseException) -> float | None:
    """Seconds to wait if ``exc`` is a rate limit: :class:`RateLimited`, or anything with a
    ``response`` of status 429 (``slack_sdk.errors.SlackApiError``) and ``Retry-After``."""
    if isinstance(exc, RateLimited):
        seconds: Any = exc.retry_after
    else:
        response = getattr(exc, "response", None)
        if getattr(response, "status_code", None) != 429:
            return None
        headers = getattr(response, "headers", None) or {}
        seconds = headers.get("Retry-After", headers.get("retry-after"))
    try:
        value = float(seconds)
    except (TypeError, ValueError):
        return DEFAULT_RETRY_AFTER
    if value != value or value < 0:  # NaN or negative
        return DEFAULT_RETRY_AFTER
    return min(value, MAX_RETRY_AFTER)


def pace_of(platform: str, messenger: object) -> float:
    value = getattr(messenger, "pace_seconds", None)
    return float(value) if isinstance(value, int | float) else PACE_SECONDS.get(platform, 0.0)


def channel_of(row: OutboxMessage) -> str:
    target = row.target
    return str(target.get("channel_id") or target.get("identity") or target.get("group") or "")


_PACING = cast(Table, ChannelPacing.__table__)


def take_slots(
    uow: UnitOfWork, platform: str, channels: Collection[str], now: datetime, pace: float
) -> set[str]:
    """The channels among ``channels`` that may get a message now, for a whole batch at once.

    With a pace, each free channel's next slot moves to ``now + pace`` in one conditional
    upsert for the whole batch (a slot another sender holds, or a ``Retry-After`` hold, is
    not taken: the row waits for the flusher). Without a pace only
    the ``Retry-After`` holds matter: one SELECT, no lock."""
    wanted = set(channels)
    if not wanted:
        return set()
    if pace <= 0:
        held = uow.session.scalars(
            select(ChannelPacing.channel).where(
                ChannelPacing.platform == platform,
                ChannelPacing.channel.in_(wanted),
                ChannelPacing.next_at > now,
            )
        )
        return wanted.difference(held)
    next_at = now + timedelta(seconds=pace)
    dialect = uow.session.get_bind().dialect.name
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    upsert = insert(_PACING).values(
        [{"platform": platform, "channel": c, "next_at": next_at} for c in sorted(wanted)]
    )
    statement = upsert.on_conflict_do_update(
        index_elements=["platform", "channel"],
        set_={"next_at": upsert.excluded.next_at},
        where=_PACING.c.next_at <= now,
    ).returning(_PACING.c.channel)
    return set(uow.session.scalars(statement))


def next_slot(uow: UnitOfWork, platform: str, channel: str) -> datetime | None:
    """When the channel may get its next message (locks the slot row on PostgreSQL)."""
    slot = uow.session.scalar(
        select(ChannelPacing)
        .where(ChannelPacing.platform == platform, ChannelPacing.channel == channel)
        .with_for_update()
    )
    return slot.next_at if slot else None


def take_slot(uow: UnitOfWork, platform: str, channel: str, next_at: datetime) -> bool:
    """Move the channel's next slot to ``next_at``; False if another sender raced us."""
    slot = uow.session.get(ChannelPacing, (platform, channel))
    if slot is not None:
        slot.next_at = max(slot.next_at, next_at)
        return True
    try:
        with uow.session.begin_nested():
            uow.session.add(ChannelPacing(platform=platform, channel=channel, next_at=next_at))
    except IntegrityError:
        return False
    return True


def hold_channel(uow: UnitOfWork, platform: str, channel: str, now: datetime, wait: float) -> None:
    """After a 429: nothing goes to this channel before ``now + wait``."""
    take_slot(uow, platform, channel, now + timedelta(seconds=wait))
