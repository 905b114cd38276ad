"""Runs the configured chat backends (Slack, Matrix, or both in one process).

Due work (retention, deadlines, reminders) runs from an APScheduler interval job that reads the
database; the job arguments hold nothing but the bot, so nothing personal is pickled.
"""

from __future__ import annotations

import asyncio
import logging
import sys
import threading
from collections.abc import Callable
from typing import Any

from apscheduler.schedulers.background import BackgroundScheduler

from bot.clock import SystemClock

log = logging.getLogger(__name__)
DUE_INTERVAL_SECONDS = 20


def start_due_work(bot: Any) -> BackgroundScheduler:
    scheduler = BackgroundScheduler(timezone="UTC")
    scheduler.add_job(
        lambda: bot.due.run_due(bot.clock.now()),
        "interval",
        seconds=DUE_INTERVAL_SECONDS,
        id="due-work",
        coalesce=True,
        max_instances=1,
        misfire_grace_time=DUE_INTERVAL_SECONDS * 3,
    )
    scheduler.start()
    return scheduler


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
        scheduler.shutdown(wait=False)
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
