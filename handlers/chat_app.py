"""Runs the configured chat backends (Slack, Matrix, or both in one process).

Due work (retention, deadlines, reminders) runs from the reminder engine
(:mod:`bot.scheduling.engine`): APScheduler holds the rows due within the next hour (job
arguments: row ids only), refilled from the database; on PostgreSQL one instance leads through
an advisory lock. The adapters' outbox flushers deliver what the due work enqueued.
"""

from __future__ import annotations

import asyncio
import logging
import sys
import threading
from collections.abc import Callable
from datetime import datetime
from typing import Any

from bot.clock import SystemClock
from bot.commands import build_due_handlers
from bot.outbox import OutboxSender
from bot.scheduling.batch import run_batch
from bot.scheduling.engine import ReminderEngine
from storage.models import OutboxMessage
from storage.uow import UnitOfWork

log = logging.getLogger(__name__)
DUE_INTERVAL_SECONDS = 20


def start_due_work(
    bot: Any,
    after_run: Callable[[], object] | None = None,
    sender: OutboxSender | None = None,
) -> ReminderEngine:
    """Start the reminder engine for ``bot`` (stop it with ``.stop()``). With a ``sender``, a
    reminder's messages are claimed in the transaction that runs it and handed to the
    platform right after the commit; without one, the adapters' outbox flush sends them."""
    handlers = build_due_handlers()

    def run_row(_row_id: int, now: datetime) -> list[int]:
        """A row's job runs everything due by now in one transaction (a batch)."""
        claimed: list[OutboxMessage] = []

        def claim(uow: UnitOfWork) -> None:
            if sender is not None:
                claimed.extend(sender.claim_enqueued(uow, now))

        done = run_batch(
            bot.uow_factory, handlers, bot.settings, now, realtime=True, before_commit=claim
        )
        if sender is not None and claimed:
            sender.deliver_claimed(claimed)
        return done

    engine = ReminderEngine(
        engine=bot.engine,
        uow_factory=bot.uow_factory,
        run_due=bot.due.run_due,
        clock=bot.clock,
        after_run=after_run,
        run_row=run_row,
        refill=DUE_INTERVAL_SECONDS,
    )
    engine.start()
    return engine


def warn_without_organisers(bot: Any) -> None:
    with bot.uow_factory() as uow:
        if not uow.persons.organisers():
            message = (
                "stadtlabor: warning: no organisers are configured (STADTLABOR_ORGANIZERS), so "
                "nobody can set up or administer a cohort."
            )
            log.warning(message)
            print(message, file=sys.stderr, flush=True)


def run_chat(
    settings: Any,
    build_bot: Callable[..., Any],
    backends: list[str],
    *,
    slack_http: bool = False,
    host: str = "127.0.0.1",
    port: int = 3000,
) -> int:
    bot = build_bot(settings, SystemClock())
    warn_without_organisers(bot)
    scheduler = start_due_work(bot)
    try:
        if backends == ["slack"]:
            from handlers.slack.runner import run_slack

            return int(run_slack(bot, http=slack_http, host=host, port=port))
        if backends == ["matrix"]:
            from handlers.matrix.runner import run_matrix

            return int(run_matrix(bot))
        return _run_both(bot, slack_http, host, port)
    finally:
        scheduler.stop()
        bot.engine.dispose()


def _run_both(bot: Any, slack_http: bool, host: str, port: int) -> int:
    from handlers.matrix.runner import load_config, serve
    from handlers.slack.runner import run_slack

    stop = threading.Event()
    codes: list[int] = []
    slack = threading.Thread(
        target=lambda: codes.append(
            int(run_slack(bot, http=slack_http, host=host, port=port, stop=stop))
        ),
        name="slack",
        daemon=True,
    )
    slack.start()
    try:
        code = int(asyncio.run(serve(bot, load_config(bot))))
    finally:
        stop.set()
        slack.join(timeout=10)
    return max([code, *codes])
