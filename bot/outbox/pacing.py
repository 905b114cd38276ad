"""Outbox pacing and rate limits, kept in the database so every instance and every restart
sees them: ~1 message per second per channel, and a platform's ``Retry-After``."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
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
    return str(target.get("channel_id") or target.get("identity") or "")


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
