"""The reminder engine in real time: one instance on both databases; three instances (separate
processes) on one PostgreSQL, every reminder sent once, also after the leader is SIGKILLed."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from app import Bot, build_bot, start_chat
from bot.clock import SystemClock
from bot.identity import Identity
from bot.messenger import MessageRef, RecordingMessenger
from bot.people import ensure_person
from bot.scheduling.due import schedule
from bot.views import Message
from tests.helpers import make_settings

ROOT = Path(__file__).resolve().parents[1]


def _person(bot: Bot, name: str) -> int:
    with bot.uow_factory() as uow:
        person = ensure_person(uow, Identity("console", name), datetime.now(UTC), name)
        uow.commit()
        return person.id


def _remind(bot: Bot, person_id: int, texts: list[str], delay: float) -> None:
    now = datetime.now(UTC)
    with bot.uow_factory() as uow:
        for i, text in enumerate(texts):
            due = now + timedelta(seconds=delay + 0.05 * i)
            schedule(
                uow, key=f"t:{text}", due_at=due, kind="dm", now=now, person_id=person_id, text=text
            )
        uow.commit()


def _wait(predicate: object, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if predicate():  # type: ignore[operator]
            return True
        time.sleep(0.05)
    return False


@pytest.fixture
def live_bot(db_url: str) -> Iterator[Bot]:
    built = build_bot(make_settings(db_url), SystemClock())
    yield built
    built.engine.dispose()


def test_engine_fires_on_time_and_picks_up_new_rows(live_bot: Bot) -> None:
    messenger = RecordingMessenger()
    anna = _person(live_bot, "anna")
    live_bot.outbox.attach(messenger)  # as an adapter does
    start_chat(live_bot)
    engine = live_bot.reminders
    try:
        assert _wait(lambda: engine.is_leader, 5)
        _remind(live_bot, anna, ["eins", "zwei"], delay=0.8)  # added after start: a refresh
        due = datetime.now(UTC) + timedelta(seconds=0.8)
        assert _wait(lambda: len(messenger.transcript) == 2, 8)
        handed_over = datetime.now(UTC)
        time.sleep(0.3)
        firsts = sorted(t.splitlines()[0] for t in messenger.texts("dm"))
        assert firsts == ["Erinnerung: eins", "Erinnerung: zwei"]
        assert engine.scheduled == 0
        assert handed_over - due < timedelta(seconds=5)  # fired by its job, not the 20-s refill
    finally:
        engine.stop()


# --- three processes on one PostgreSQL --------------------------------------------------------


class FileMessenger(RecordingMessenger):
    """Appends every delivered text to a file (one line), so the test sees all processes."""

    def __init__(self, path: str) -> None:
        super().__init__()
        self.path = path

    def send_dm(self, user: Identity, message: Message) -> MessageRef:
        with open(self.path, "a", encoding="utf-8") as fh:
            fh.write(message.plain_text().splitlines()[0] + "\n")
        return super().send_dm(user, message)


def worker(url: str, out: str, status: str) -> None:
    bot = build_bot(make_settings(url), SystemClock())
    messenger = FileMessenger(out)
    bot.flusher.attach(messenger)  # as an adapter does: the process's flusher runs
    start_chat(bot)
    engine = bot.reminders
    while True:  # runs until killed
        Path(status).write_text("leader" if engine.is_leader else "follower")
        time.sleep(0.2)


def _delivered(folder: Path) -> Counter[str]:
    lines: Counter[str] = Counter()
    for path in folder.glob("out-*.txt"):
        lines.update(line for line in path.read_text().splitlines() if line)
    return lines


def _leaders(procs: list[subprocess.Popen[bytes]], folder: Path) -> list[int]:
    found = []
    for i, proc in enumerate(procs):
        status = folder / f"status-{i}.txt"
        if proc.poll() is None and status.exists() and status.read_text() == "leader":
            found.append(i)
    return found


@pytest.mark.postgres
def test_three_instances_send_each_reminder_once_also_after_the_leader_dies(
    pg_schema_url: str, tmp_path: Path
) -> None:
    bot = build_bot(make_settings(pg_schema_url), SystemClock())
    anna = _person(bot, "anna")
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    procs = [
        subprocess.Popen(
            [
                sys.executable,
                __file__,
                pg_schema_url,
                str(tmp_path / f"out-{i}.txt"),
                str(tmp_path / f"status-{i}.txt"),
            ],
            cwd=ROOT,
            env=env,
        )
        for i in range(3)
    ]
    try:
        assert _wait(lambda: len(_leaders(procs, tmp_path)) == 1, 20)
        first = [f"a{i}" for i in range(15)]
        _remind(bot, anna, first, delay=1.0)  # added through another instance (this one)
        assert _wait(lambda: sum(_delivered(tmp_path).values()) >= 15, 15)
        leader = _leaders(procs, tmp_path)[0]
        procs[leader].send_signal(signal.SIGKILL)
        procs[leader].wait()
        second = [f"b{i}" for i in range(15)]
        _remind(bot, anna, second, delay=1.5)
        assert _wait(lambda: sum(_delivered(tmp_path).values()) >= 30, 20)
        assert _wait(lambda: len(_leaders(procs, tmp_path)) == 1, 5)
        time.sleep(1.0)
        counts = _delivered(tmp_path)
        assert counts == Counter({f"Erinnerung: {t}": 1 for t in first + second})
    finally:
        for proc in procs:
            if proc.poll() is None:
                proc.send_signal(signal.SIGKILL)
                proc.wait()
        bot.engine.dispose()


if __name__ == "__main__":
    worker(*sys.argv[1:4])


def test_a_batch_isolates_a_failing_row_and_hands_over_the_others(bot: Bot) -> None:
    from bot.outbox import dm_person
    from bot.scheduling.batch import run_batch
    from bot.scheduling.due import DueContext, DueHandlers
    from storage.models import Reminder

    def ok(ctx: DueContext) -> None:
        assert ctx.reminder.person_id is not None
        dm_person(
            ctx.uow, ctx.reminder.person_id, Message.text("ok"), f"ok:{ctx.reminder.id}", ctx.now
        )

    def boom(ctx: DueContext) -> None:
        dm_person(ctx.uow, ctx.reminder.person_id or 0, Message.text("nie"), "boom", ctx.now)
        raise RuntimeError("boom")

    handlers = DueHandlers()
    handlers.add("ok", ok)
    handlers.add("boom", boom)
    anna = _person(bot, "anna")
    now = bot.clock.now()
    with bot.uow_factory() as uow:
        for i, kind in enumerate(["ok", "boom", "ok"]):
            schedule(uow, key=f"b{i}", due_at=now, kind=kind, now=now, person_id=anna)
        schedule(
            uow, key="later", due_at=now + timedelta(hours=1), kind="ok", now=now, person_id=anna
        )
        uow.commit()
    messenger = RecordingMessenger()
    sender = bot.sender({"console": messenger})
    claimed: list[Any] = []
    ran = run_batch(
        bot.uow_factory,
        handlers,
        bot.settings,
        now,
        before_commit=lambda uow: claimed.extend(sender.claim_enqueued(uow, now)),
    )
    # one row in flight (the messenger does not deduplicate); the flusher sends the other
    assert len(ran) == 3 and len(claimed) == 1
    assert sender.deliver_claimed(claimed) == 1
    assert sender.flush() == 1
    assert messenger.texts("dm") == ["ok", "ok"]
    with bot.uow_factory() as uow:
        status = {r.idempotency_key: r.status for r in uow.session.query(Reminder)}
        assert status == {"b0": "done", "b1": "failed", "b2": "done", "later": "pending"}
        assert uow.outbox.get_by_key("boom") is None
