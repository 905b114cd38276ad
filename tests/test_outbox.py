"""The outbox on both databases: idempotent enqueue, one sender per row, retries."""

from __future__ import annotations

import threading
from datetime import timedelta

from app import Bot
from bot.clock import SimulatedClock
from bot.identity import Identity
from bot.messenger import MessageRef, RecordingMessenger
from bot.outbox import MAX_ATTEMPTS, dm_person, enqueue
from bot.people import ensure_person
from bot.views import Message
from storage.models import OutboxMessage


def _person(bot: Bot, name: str) -> int:
    with bot.uow_factory() as uow:
        person = ensure_person(uow, Identity("console", name), bot.clock.now(), name)
        uow.commit()
        return person.id


def test_enqueue_is_idempotent(bot: Bot) -> None:
    pid = _person(bot, "anna")
    with bot.uow_factory() as uow:
        assert dm_person(uow, pid, Message.text("Hallo"), "k1", bot.clock.now())
        assert not dm_person(uow, pid, Message.text("Hallo"), "k1", bot.clock.now())
        uow.commit()
    messenger = RecordingMessenger()
    assert bot.sender({"console": messenger}).flush() == 1
    assert bot.sender({"console": messenger}).flush() == 0
    assert messenger.texts("dm") == ["Hallo"]


def test_rolled_back_change_sends_nothing(bot: Bot) -> None:
    pid = _person(bot, "anna")
    with bot.uow_factory() as uow:
        dm_person(uow, pid, Message.text("nie"), "k-rb", bot.clock.now())
    messenger = RecordingMessenger()
    assert bot.sender({"console": messenger}).flush() == 0
    assert messenger.transcript == []


def test_parallel_senders_deliver_each_row_once(bot: Bot) -> None:
    pid = _person(bot, "anna")
    with bot.uow_factory() as uow:
        for i in range(30):
            dm_person(uow, pid, Message.text(f"m{i}"), f"par-{i}", bot.clock.now())
        uow.commit()
    messenger = RecordingMessenger()
    threads = [
        threading.Thread(target=lambda: bot.sender({"console": messenger}).flush())
        for _ in range(4)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(messenger.texts("dm")) == sorted(f"m{i}" for i in range(30))


class FlakyMessenger(RecordingMessenger):
    def __init__(self, failures: int) -> None:
        super().__init__()
        self.failures = failures

    def send_dm(self, user: Identity, message: Message) -> MessageRef:
        if self.failures > 0:
            self.failures -= 1
            raise RuntimeError("platform down")
        return super().send_dm(user, message)


def test_failed_send_is_retried_with_backoff_then_marked_failed(bot: Bot) -> None:
    assert isinstance(bot.clock, SimulatedClock)
    pid = _person(bot, "anna")
    with bot.uow_factory() as uow:
        enqueue(
            uow,
            key="retry",
            platform="console",
            operation="dm",
            target={"identity": "console:anna"},
            message=Message.text("x"),
            now=bot.clock.now(),
        )
        dm_person(uow, pid, Message.text("y"), "never", bot.clock.now())
        uow.commit()
    flaky = FlakyMessenger(failures=1)
    sender = bot.sender({"console": flaky})
    assert sender.flush() == 1  # one failed, one sent
    assert sender.flush() == 0  # backoff: not yet due again
    bot.clock.advance(timedelta(seconds=3))
    assert sender.flush() == 1
    assert sorted(flaky.texts("dm")) == ["x", "y"]

    broken = FlakyMessenger(failures=10**6)
    with bot.uow_factory() as uow:
        dm_person(uow, pid, Message.text("z"), "broken", bot.clock.now())
        uow.commit()
    for _ in range(MAX_ATTEMPTS + 1):
        bot.sender({"console": broken}).flush()
        bot.clock.advance(timedelta(minutes=5))
    with bot.uow_factory() as uow:
        row = uow.outbox.get_by_key("broken")
        assert isinstance(row, OutboxMessage)
        assert row.status == "failed" and row.attempts == MAX_ATTEMPTS
        assert row.error == "platform down"
