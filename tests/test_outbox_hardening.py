"""Outbox hardening on both databases: Retry-After and pacing live in the table, a crashed
send becomes ``uncertain`` (or is resent where the platform deduplicates) and is reported."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from app import Bot
from bot.clock import SimulatedClock
from bot.identity import Identity
from bot.messenger import MessageRef, RecordingMessenger
from bot.outbox import RateLimited, enqueue
from bot.people import ensure_person
from bot.views import Message
from storage.models import OutboxMessage


def _clock(bot: Bot) -> SimulatedClock:
    assert isinstance(bot.clock, SimulatedClock)
    return bot.clock


def _post(bot: Bot, key: str, channel: str, platform: str = "console") -> None:
    with bot.uow_factory() as uow:
        enqueue(
            uow,
            key=key,
            platform=platform,
            operation="post",
            target={"channel_id": channel},
            message=Message.text(key),
            now=bot.clock.now(),
        )
        uow.commit()


def _row(bot: Bot, key: str) -> OutboxMessage:
    with bot.uow_factory() as uow:
        row = uow.outbox.get_by_key(key)
        assert row is not None
        uow.session.expunge(row)
        return row


@dataclass
class _Response:
    status_code: int
    headers: dict[str, str] = field(default_factory=dict)


class SlackLikeError(Exception):
    def __init__(self, response: _Response) -> None:
        super().__init__("ratelimited")
        self.response = response


class LimitedMessenger(RecordingMessenger):
    def __init__(self, errors: list[Exception]) -> None:
        super().__init__()
        self.errors = errors

    def post(
        self, channel_id: str, message: Message, thread: MessageRef | None = None
    ) -> MessageRef:
        if self.errors:
            raise self.errors.pop(0)
        return super().post(channel_id, message, thread)


def test_retry_after_is_stored_on_the_row_and_holds_the_channel(bot: Bot) -> None:
    clock = _clock(bot)
    _post(bot, "a", "C1")
    _post(bot, "b", "C1")
    errors: list[Exception] = [
        RateLimited(30),
        SlackLikeError(_Response(429, {"Retry-After": "7"})),
    ]
    messenger = LimitedMessenger(errors)
    assert bot.sender({"console": messenger}).flush() == 0
    row = _row(bot, "a")
    assert row.status == "pending" and row.attempts == 0
    assert row.not_before == clock.now() + timedelta(seconds=30)
    assert _row(bot, "b").not_before >= clock.now() + timedelta(seconds=30)  # same channel waits
    clock.advance(timedelta(seconds=29))
    assert bot.sender({"console": messenger}).flush() == 0  # a new sender: state is in the DB
    clock.advance(timedelta(seconds=2))
    assert bot.sender({"console": messenger}).flush() == 0  # Slack's 429: wait 7 s more
    assert _row(bot, "a").not_before == clock.now() + timedelta(seconds=7)
    clock.advance(timedelta(seconds=8))
    assert bot.sender({"console": messenger}).flush() == 2
    assert messenger.texts("post") == ["a", "b"]


def test_non_429_errors_are_failures_with_backoff(bot: Bot) -> None:
    _post(bot, "e", "C1")
    messenger = LimitedMessenger([SlackLikeError(_Response(500))])
    assert bot.sender({"console": messenger}).flush() == 0
    row = _row(bot, "e")
    assert row.attempts == 1 and row.error == "ratelimited" and row.status == "pending"


class PacedMessenger(RecordingMessenger):
    pace_seconds = 1.0


def test_one_message_per_second_per_channel_across_senders(bot: Bot) -> None:
    clock = _clock(bot)
    for i in range(3):
        _post(bot, f"c1-{i}", "C1")
    _post(bot, "c2-0", "C2")
    messenger = PacedMessenger()
    assert bot.sender({"console": messenger}).flush() == 2  # one per channel
    assert bot.sender({"console": messenger}).flush() == 0
    clock.advance(timedelta(seconds=1))
    assert bot.sender({"console": messenger}).flush() == 1
    clock.advance(timedelta(seconds=1))
    assert bot.sender({"console": messenger}).flush() == 1
    assert messenger.texts("post") == ["c1-0", "c2-0", "c1-1", "c1-2"]


def _crash_while_sending(bot: Bot, key: str, platform: str) -> None:
    _post(bot, key, "C9", platform)
    with bot.uow_factory() as uow:
        row = uow.outbox.get_by_key(key)
        assert row is not None
        assert uow.outbox.claim(row.id, bot.clock.now() + timedelta(minutes=2))
        uow.commit()


def test_expired_lease_becomes_uncertain_and_reaches_the_digest(bot: Bot) -> None:
    clock = _clock(bot)
    with bot.uow_factory() as uow:
        ensure_person(uow, Identity("console", "orga"), clock.now(), "Orga")
        uow.commit()
    _crash_while_sending(bot, "lost?", "console")
    messenger = RecordingMessenger()
    clock.advance(timedelta(minutes=1))
    bot.sender({"console": messenger}).flush()
    assert _row(bot, "lost?").status == "sending"  # lease still running
    clock.advance(timedelta(minutes=2))
    bot.sender({"console": messenger}).flush()
    assert _row(bot, "lost?").status == "uncertain"
    assert messenger.texts("post") == []  # never sent twice
    bot.due.run_due(clock.now())
    bot.sender({"console": messenger}).flush()
    digest = messenger.texts("dm")
    assert len(digest) == 1 and "unsicher" in digest[0]


class DedupMessenger(RecordingMessenger):
    deduplicates = True

    def __init__(self) -> None:
        super().__init__(platform="matrix")
        self.keys: list[str] = []

    def post(
        self, channel_id: str, message: Message, thread: MessageRef | None = None, **kw: Any
    ) -> MessageRef:
        self.keys.append(kw["key"])
        return super().post(channel_id, message, thread)


def test_expired_lease_is_resent_with_the_same_key_where_the_platform_deduplicates(
    bot: Bot,
) -> None:
    _crash_while_sending(bot, "m1", "matrix")
    _clock(bot).advance(timedelta(minutes=3))
    messenger = DedupMessenger()
    assert bot.sender({"matrix": messenger}).flush() == 1
    assert messenger.keys == ["m1"] and _row(bot, "m1").status == "sent"


def _gone(bot: Bot, key: str) -> bool:
    with bot.uow_factory() as uow:
        return uow.outbox.get_by_key(key) is None


def test_a_row_deleted_while_its_sender_crashed_is_not_reported_or_kept(bot: Bot) -> None:
    """An anonymous round closes while one of its reminder DMs is in flight and the sender
    dies: the row must not survive as ``uncertain`` (who was reminded when) nor reach the
    organisers' digest."""
    clock = _clock(bot)
    with bot.uow_factory() as uow:
        ensure_person(uow, Identity("console", "orga"), clock.now(), "Orga")
        uow.commit()
    _crash_while_sending(bot, "feedback:9:remind:3", "console")
    _post(bot, "feedback:9:remind:4", "C9")
    with bot.uow_factory() as uow:
        uow.outbox.delete_prefix("feedback:9:remind:")
        uow.commit()
    assert _gone(bot, "feedback:9:remind:4")  # not in flight: deleted at once
    assert _row(bot, "feedback:9:remind:3").status == "discard"
    clock.advance(timedelta(minutes=3))
    messenger = RecordingMessenger()
    bot.sender({"console": messenger}).flush()
    assert _gone(bot, "feedback:9:remind:3")
    bot.due.run_due(clock.now())
    bot.sender({"console": messenger}).flush()
    assert messenger.texts("post") == [] and messenger.texts("dm") == []  # no digest either


class ClosingMessenger(RecordingMessenger):
    """Sends, and while the send is on its way the subject closes (another transaction)."""

    def __init__(self, bot: Bot, prefix: str) -> None:
        super().__init__()
        self.bot, self.prefix = bot, prefix

    def post(
        self, channel_id: str, message: Message, thread: MessageRef | None = None, **kw: Any
    ) -> MessageRef:
        with self.bot.uow_factory() as uow:
            uow.outbox.delete_prefix(self.prefix)
            uow.commit()
        return super().post(channel_id, message, thread)


def test_a_row_deleted_during_its_send_goes_once_the_send_is_recorded(bot: Bot) -> None:
    _post(bot, "nudge:umfrage:5:7:1", "C9")
    messenger = ClosingMessenger(bot, "nudge:umfrage:5:")
    assert bot.sender({"console": messenger}).flush() == 1
    assert messenger.texts("post") == ["nudge:umfrage:5:7:1"]  # sent once
    assert _gone(bot, "nudge:umfrage:5:7:1")
