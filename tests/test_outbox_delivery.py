"""The one delivery home: the process's flusher, the batch's pacing slots, the scheduler's
hand-over, and a Matrix rate limit surfacing as ``RateLimited`` inside an outbox send."""

from __future__ import annotations

import threading
import time
from datetime import timedelta
from typing import Any

import pytest
from nio import RoomSendError, RoomSendResponse

from app import Bot
from bot.clock import SimulatedClock
from bot.identity import Identity
from bot.messenger import MessageRef, RecordingMessenger
from bot.outbox import RateLimited, enqueue, pacing
from bot.people import ensure_person
from bot.scheduling.due import schedule
from bot.views import Message
from handlers.matrix.transport import OUTBOX, Transport
from storage.models import OutboxMessage
from tests.helpers import wait_for


def _post(bot: Bot, key: str, channel: str = "C1", platform: str = "console") -> None:
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


def _statuses(bot: Bot) -> dict[str, str]:
    with bot.uow_factory() as uow:
        return {r.idempotency_key: r.status for r in uow.session.query(OutboxMessage)}


class _CountingMessenger(RecordingMessenger):
    """Counts the flushes that found work (calls from the flusher thread)."""

    def __init__(self) -> None:
        super().__init__()
        self.threads: set[str] = set()

    def post(
        self, channel_id: str, message: Message, thread: MessageRef | None = None
    ) -> MessageRef:
        self.threads.add(threading.current_thread().name)
        return super().post(channel_id, message, thread)


def test_the_flusher_runs_while_a_platform_is_attached(bot: Bot) -> None:
    messenger = _CountingMessenger()
    assert not bot.flusher.running
    bot.flusher.attach(messenger, interval=0.05)
    try:
        assert bot.flusher.running and bot.outbox.platforms == ["console"]
        _post(bot, "eins")
        bot.flusher.kick()
        wait_for(lambda: messenger.texts("post") == ["eins"], timeout=10)
        assert messenger.threads == {"outbox-flusher"}  # the process's one loop sent it
    finally:
        bot.flusher.detach("console")
    assert not bot.flusher.running and bot.outbox.platforms == []
    _post(bot, "zwei")
    time.sleep(0.2)
    assert _statuses(bot) == {"eins": "sent", "zwei": "pending"}  # detached: nothing sent
    assert bot.flusher.flush_now() == 0  # and no Messenger for it
    bot.outbox.attach(messenger)  # the console's way: no thread, flushed after each line
    assert not bot.flusher.running
    assert bot.flusher.flush_now() == 1 and messenger.texts("post") == ["eins", "zwei"]


def test_pacing_slots_of_a_batch_are_taken_at_once(bot: Bot) -> None:
    now = bot.clock.now()
    with bot.uow_factory() as uow:
        pacing.hold_channel(uow, "slack", "C3", now, 30)  # a Retry-After on C3
        assert pacing.take_slots(uow, "slack", ["C1", "C2", "C3"], now, 1.0) == {"C1", "C2"}
        # the slots are taken for a second: not again now, again a second later
        assert pacing.take_slots(uow, "slack", ["C1", "C2"], now, 1.0) == set()
        later = now + timedelta(seconds=1)
        assert pacing.take_slots(uow, "slack", ["C1", "C2", "C3"], later, 1.0) == {"C1", "C2"}
        # without a pace only the holds count, and nothing is written
        assert pacing.take_slots(uow, "console", ["C1"], now, 0.0) == {"C1"}
        assert pacing.take_slots(uow, "slack", ["C1", "C3"], later, 0.0) == set()  # C1 taken
        after = later + timedelta(seconds=1)
        assert pacing.take_slots(uow, "slack", ["C1", "C3"], after, 0.0) == {"C1"}
        uow.commit()
    with bot.uow_factory() as uow:
        assert pacing.next_slot(uow, "slack", "C1") == later + timedelta(seconds=1)
        assert pacing.next_slot(uow, "console", "C1") is None


class _Deduplicating(RecordingMessenger):
    deduplicates = True

    def send_dm(self, user: Identity, message: Message, key: str | None = None) -> MessageRef:
        return super().send_dm(user, message)


class _Concurrent(RecordingMessenger):
    concurrent_sends = 4


@pytest.mark.parametrize("kind", ["dedupes", "one at a time", "concurrent"])
def test_a_due_batch_hands_its_rows_to_the_attached_messenger(bot: Bot, kind: str) -> None:
    """``bot.due`` (the scheduler the engine and ``!clock`` run) sends a batch's messages
    right after its commit when the platform is attached. Claimed in the batch's transaction:
    all of them where the platform deduplicates, otherwise one (a crash leaves at most that
    one ``uncertain``); the rest go out one by one right away (a Messenger that sends one
    thing at a time) or through the woken flusher's lanes (a concurrent one)."""
    messengers = {"dedupes": _Deduplicating, "one at a time": RecordingMessenger}
    messenger = messengers.get(kind, _Concurrent)()
    bot.outbox.attach(messenger)
    woken: list[bool] = []
    bot.outbox.wake = lambda: woken.append(True)
    now = bot.clock.now()
    with bot.uow_factory() as uow:
        anna = ensure_person(uow, Identity("console", "anna"), now, "anna")
        for i in range(3):
            schedule(
                uow, key=f"r{i}", due_at=now, kind="dm", now=now, person_id=anna.id, text=f"T{i}"
            )
        uow.commit()
    assert bot.due.run_due(now) >= 3
    handed = 1 if kind == "concurrent" else 3
    firsts = [t.splitlines()[0] for t in messenger.texts("dm")]
    assert firsts == ["Erinnerung: T0", "Erinnerung: T1", "Erinnerung: T2"][:handed]
    assert sorted(_statuses(bot).values()) == ["pending"] * (3 - handed) + ["sent"] * handed
    assert woken == ([True] if kind == "concurrent" else [])
    assert bot.flusher.flush_now() == 3 - handed
    assert len(messenger.texts("dm")) == 3 and set(_statuses(bot).values()) == {"sent"}


def test_a_rate_limited_batch_row_waits_in_the_outbox(bot: Bot) -> None:
    class Limited(RecordingMessenger):
        def send_dm(self, user: Identity, message: Message) -> MessageRef:
            raise RateLimited(5)

    clock = bot.clock
    assert isinstance(clock, SimulatedClock)
    bot.outbox.attach(Limited())
    now = clock.now()
    with bot.uow_factory() as uow:
        anna = ensure_person(uow, Identity("console", "anna"), now, "anna")
        schedule(uow, key="r", due_at=now, kind="dm", now=now, person_id=anna.id, text="T")
        uow.commit()
    bot.due.run_due(now)
    with bot.uow_factory() as uow:
        (row,) = uow.session.query(OutboxMessage).all()
        assert (row.status, row.attempts) == ("pending", 0)  # not a failure
        assert row.not_before == now + timedelta(seconds=5)
        assert pacing.next_slot(uow, "console", "console:anna") == now + timedelta(seconds=5)
    recording = RecordingMessenger()
    bot.outbox.attach(recording)  # (the same platform: replaces the refusing one)
    assert bot.flusher.flush_now() == 0  # still held
    clock.advance(timedelta(seconds=5))
    assert bot.flusher.flush_now() == 1 and len(recording.texts("dm")) == 1


class _LimitedClient:
    def __init__(self) -> None:
        self.calls = 0

    async def room_send(self, room_id: str, *_: Any, **__: Any) -> Any:
        self.calls += 1
        if self.calls == 1:
            return RoomSendError("slow down", "M_LIMIT_EXCEEDED", retry_after_ms=2500)
        return RoomSendResponse("$sent", room_id)


async def test_matrix_limit_goes_back_to_the_outbox_and_a_direct_answer_waits() -> None:
    slept: list[float] = []

    async def sleep(seconds: float) -> None:
        slept.append(seconds)

    async def as_outbox(transport: Transport) -> str:
        OUTBOX.set(True)  # what MatrixMessenger (the outbox's Messenger) does
        return await transport.send("!r", "m.room.message", {"body": "x"})

    import asyncio

    client = _LimitedClient()
    outbox = Transport(client, sleep=sleep)
    with pytest.raises(RateLimited) as limited:
        await asyncio.create_task(as_outbox(outbox))
    assert limited.value.retry_after == 2.5 and pacing.retry_after(limited.value) == 2.5
    assert slept == [] and client.calls == 1 and outbox.waits == [2.5]  # nothing waited

    direct = Transport(_LimitedClient(), sleep=sleep)
    assert await direct.send("!r", "m.room.message", {"body": "x"}) == "$sent"
    assert slept == [2.5]  # a direct answer waits the clamped time and is sent again
