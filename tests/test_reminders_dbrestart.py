"""A database restart in the middle, on a throwaway PostgreSQL cluster started by the test:
commands in between are answered "vorübergehend nicht verfügbar", and the next reminder still
fires once the server is back."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

from app import build_bot, start_chat
from bot.clock import SystemClock
from bot.identity import Identity
from bot.messenger import RecordingMessenger
from bot.people import ensure_person
from bot.scheduling.due import schedule
from tests.helpers import make_settings, request
from tests.support.pg_cluster import Cluster, cluster, wait_for

__all__ = ["cluster"]  # the fixture


def test_database_restart_in_the_middle(cluster: Cluster) -> None:
    bot = build_bot(make_settings(cluster.url), SystemClock())
    messenger = RecordingMessenger()
    bot.outbox.attach(messenger)  # as an adapter does
    start_chat(bot)
    engine = bot.reminders
    try:
        now = datetime.now(UTC)
        with bot.uow_factory() as uow:
            anna = ensure_person(uow, Identity("console", "anna"), now, "anna")
            for name, delay in (("vorher", 1.0), ("danach", 4.0)):
                schedule(
                    uow,
                    key=name,
                    due_at=now + timedelta(seconds=delay),
                    kind="dm",
                    now=now,
                    person_id=anna.id,
                    text=name,
                )
            uow.commit()
        assert wait_for(lambda: len(messenger.transcript) == 1, 10)
        cluster.stop()
        replies = bot.dispatcher.handle(request("anna", "erinnerungen", dm=True))
        answer = "\n".join(r.message.plain_text() for r in replies if r.message)
        assert "vorübergehend nicht verfügbar" in answer
        time.sleep(max(0.0, 4.5 - (datetime.now(UTC) - now).total_seconds()))  # "danach" is due
        cluster.start()

        def flushed() -> bool:
            try:
                bot.sender({"console": messenger}).flush()
            except Exception:
                return False
            return len(messenger.transcript) == 2

        assert wait_for(flushed, 20)
        firsts = [t.splitlines()[0] for t in messenger.texts("dm")]
        assert firsts == ["Erinnerung: vorher", "Erinnerung: danach"]
        assert wait_for(lambda: engine.is_leader, 5)
    finally:
        engine.stop()
        bot.engine.dispose()
