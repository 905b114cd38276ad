"""The due-work core: rows run once, at their time, by their kind's handler."""

from __future__ import annotations

import threading
from datetime import timedelta

from app import Bot
from bot.scheduling.batch import run_due
from bot.scheduling.due import DueContext, DueHandlers, cancel, schedule
from storage.models import Reminder


def test_rows_run_once_when_due_and_can_be_moved_or_cancelled(bot: Bot) -> None:
    seen: list[str] = []
    lock = threading.Lock()

    def handler(ctx: DueContext) -> None:
        with lock:
            seen.append(ctx.reminder.idempotency_key)

    handlers = DueHandlers()
    handlers.add("test", handler)
    now = bot.clock.now()
    with bot.uow_factory() as uow:
        for i in range(20):
            schedule(uow, key=f"t:{i}", due_at=now + timedelta(minutes=i), kind="test", now=now)
        schedule(uow, key="t:moved", due_at=now + timedelta(hours=5), kind="test", now=now)
        schedule(uow, key="t:moved", due_at=now + timedelta(minutes=1), kind="test", now=now)
        schedule(uow, key="x:cancel", due_at=now, kind="test", now=now)
        assert cancel(uow, "x:") == 1
        uow.commit()
    assert run_due(bot.uow_factory, handlers, bot.settings, now + timedelta(minutes=4)) == 6
    later = now + timedelta(hours=1)
    threads = [
        threading.Thread(target=run_due, args=(bot.uow_factory, handlers, bot.settings, later))
        for _ in range(3)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(seen) == sorted([f"t:{i}" for i in range(20)] + ["t:moved"])


def test_failing_handler_rolls_back_its_work(bot: Bot) -> None:
    def boom(ctx: DueContext) -> None:
        ctx.reminder.text = "half-written"
        raise RuntimeError("boom")

    handlers = DueHandlers()
    handlers.add("boom", boom)
    now = bot.clock.now()
    with bot.uow_factory() as uow:
        schedule(uow, key="b", due_at=now, kind="boom", now=now)
        schedule(uow, key="unknown", due_at=now, kind="nobody-handles-this", now=now)
        uow.commit()
    assert run_due(bot.uow_factory, handlers, bot.settings, now) == 0
    with bot.uow_factory() as uow:
        rows = {r.idempotency_key: r for r in uow.session.query(Reminder)}
        assert rows["b"].status == "failed" and rows["b"].text is None
        assert rows["unknown"].status == "failed"
