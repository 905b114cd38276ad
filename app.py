"""Composition root: settings → database → dispatcher → outbox → scheduler → adapters.

Nothing runs at import. :func:`build_bot` wires one process: the dispatcher, one
:class:`~bot.outbox.sender.OutboxSender` with its :class:`~bot.outbox.flusher.OutboxFlusher`
(the adapters attach the Messenger they run), one :class:`~bot.scheduling.scheduler.Scheduler`
(due rows through the one executor, then the periodic jobs; a batch's messages go to that
sender right after its commit) and the :class:`~bot.scheduling.engine.ReminderEngine` that
runs it on time. :func:`run_chat` starts the engine and the configured platforms; the console
drives the same scheduler with its simulated clock.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import logging
import os
import sys
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TextIO

from sqlalchemy import Engine
from sqlalchemy.exc import SQLAlchemyError

from bot.clock import Clock, SystemClock
from bot.commands import build_due_handlers, build_registry
from bot.dispatcher import Dispatcher
from bot.messenger import Messenger
from bot.notifications import MailRecipient, describe_recipient
from bot.outbox import OutboxFlusher, OutboxSender
from bot.outbox.send import Renderer
from bot.people import apply_configured_organisers
from bot.runtime import StartupError
from bot.scheduling.engine import ReminderEngine
from bot.scheduling.scheduler import Scheduler
from bot.services import answer_links
from bot.services.poll_results import RENDERER, PollRefresher
from bot.services.privacy import purge_expired, purge_never_registered
from bot.services.privacy_traces import purge_erasure_rows, purge_expired_state
from bot.settings import Settings, SettingsError, load_settings
from handlers.email import EmailMessenger
from handlers.email import from_settings as email_from_settings
from handlers.http_server import SharedServer
from storage.db import create_db_engine, session_factory
from storage.migrate import upgrade
from storage.uow import SqlUnitOfWork, UnitOfWork

log = logging.getLogger("stadtlabor")
DUE_REFILL_SECONDS = 20  # the engine re-reads the next hour's rows this often (and on change)
FLUSH_INTERVAL_SECONDS = 0.5  # the flusher sends due outbox rows this often (and on a kick)


@dataclass
class Bot:
    """Everything the adapters need, wired together (see :func:`build_bot`)."""

    settings: Settings
    engine: Engine
    clock: Clock
    uow_factory: Callable[[], UnitOfWork]
    dispatcher: Dispatcher
    outbox: OutboxSender  # the process's sender: the adapters' Messengers, via the flusher
    flusher: OutboxFlusher
    due: Scheduler  # everything due at a moment: run_due(now)
    reminders: ReminderEngine  # runs ``due`` on time (started by run_chat, not by build_bot)
    #: for what only reads (the web pages): no writer queue on SQLite, READ ONLY on PostgreSQL
    read_uow_factory: Callable[[], UnitOfWork]
    #: platform ``email`` (attached to ``outbox``): SMTP, or printing mails when SMTP is not
    #: set up but a stream was given (the console); None: mails stay in the outbox
    mail: EmailMessenger | None = None

    def sender(self, messengers: dict[str, Messenger]) -> OutboxSender:
        """Another sender over ``messengers`` (tests, command-line tasks)."""
        refresh = send_time_renderers(self.uow_factory, self.settings, self.clock)
        return OutboxSender(self.uow_factory, messengers, self.clock, refresh)

    def close(self) -> None:
        """At shutdown: the mail connections kept open, then the database's."""
        if self.mail is not None:
            self.mail.close()
        self.engine.dispose()


def send_time_renderers(
    uow_factory: Callable[[], UnitOfWork], settings: Settings, clock: Clock
) -> dict[str, Renderer]:
    """The outbox rows rendered when they are sent: a poll's live result (coalesced edits)
    and a prompt with its one-time answer link (the secret never stored)."""
    return {
        RENDERER: PollRefresher(uow_factory, settings),
        answer_links.RENDER: answer_links.AnswerLinkRenderer(uow_factory, settings, clock),
    }


def build_bot(
    settings: Settings,
    clock: Clock,
    *,
    bootstrap_organiser: bool = False,
    mail_out: TextIO | None = None,
) -> Bot:
    """Open and migrate the database and wire the services. Raises StartupError.

    Mails go over SMTP when STADTLABOR_SMTP_URL is set; without it they are printed to
    ``mail_out`` (the console: ``[mail to …]``), or, without that either, kept in the outbox."""
    try:
        engine = create_db_engine(settings.database_url)
        upgrade(engine)
    except (SQLAlchemyError, OSError, ValueError) as exc:
        reason = str(exc).splitlines()[0][:200]
        raise StartupError(
            f"Cannot open or migrate the database STADTLABOR_DATABASE_URL="
            f"{_safe_url(settings.database_url)}: {reason}"
        ) from exc
    factory = session_factory(engine)

    def uow_factory() -> UnitOfWork:
        return SqlUnitOfWork(factory)

    def read_uow_factory() -> UnitOfWork:
        return SqlUnitOfWork(factory, read_only=True)

    with uow_factory() as uow:
        apply_configured_organisers(uow, settings.organizer_identities, clock.now())
        uow.commit()
    dispatcher = Dispatcher(
        uow_factory=uow_factory,
        registry=build_registry(),
        settings=settings,
        clock=clock,
        bootstrap_organiser=bootstrap_organiser,
    )
    # Delivery: one sender over the Messengers the adapters attach, one flush loop.
    # A poll's live result is rendered when its ``refresh`` row is sent (coalesced edits).
    refresh = send_time_renderers(uow_factory, settings, clock)
    outbox = OutboxSender(uow_factory, {}, clock, refresh)
    flusher = OutboxFlusher(outbox, interval=FLUSH_INTERVAL_SECONDS)
    mail = build_mail(settings, uow_factory, clock, mail_out)
    if mail is not None:
        outbox.attach(mail)  # sent by the flusher once it runs (console: after each line)
    # Scheduling: due rows through the one executor (their messages handed to ``outbox``
    # right after each batch's commit), then the periodic jobs; the engine runs it on time.
    due = Scheduler(uow_factory, build_due_handlers(), settings, sender=outbox)
    due.add("retention", lambda now: _retention_job(uow_factory, settings, now))
    due.add("expiry", lambda now: _expiry_job(uow_factory, now))
    reminders = ReminderEngine(
        engine=engine,
        uow_factory=uow_factory,
        scheduler=due,
        clock=clock,
        refill=DUE_REFILL_SECONDS,
    )
    return Bot(
        settings,
        engine,
        clock,
        uow_factory,
        dispatcher,
        outbox,
        flusher,
        due,
        reminders,
        read_uow_factory=read_uow_factory,
        mail=mail,
    )


def build_mail(
    settings: Settings,
    uow_factory: Callable[[], UnitOfWork],
    clock: Clock,
    print_to: TextIO | None = None,
) -> EmailMessenger | None:
    """The Messenger of platform ``email`` (docs/email.md). Buttons in a mail name the chat
    command to type (no per-button web links yet)."""

    def recipient(address: str) -> MailRecipient:
        with uow_factory() as uow:
            return describe_recipient(uow, address, default_language=settings.language)

    return email_from_settings(settings, recipient=recipient, now=clock.now, print_to=print_to)


def _retention_job(uow_factory: Callable[[], UnitOfWork], settings: Settings, now: datetime) -> int:
    """Once a day: purge the personal data of cohorts past their retention period, of persons
    who never registered (30 days)."""
    today = now.astimezone(settings.tz).date().isoformat()
    with uow_factory() as uow:
        if uow.state.get("retention:last_run") == today:
            return 0
        purged = purge_expired(
            uow,
            now=now,
            retention_days=settings.retention_days,
            default_language=settings.language,
        )
        dropped = purge_never_registered(uow, now=now)
        uow.state.put("retention:last_run", today)
        uow.commit()
    return len(purged) + dropped


def _expiry_job(uow_factory: Callable[[], UnitOfWork], now: datetime) -> int:
    """Every tick: drop open Slack forms (24 hours) and linking codes past their time, and the
    delivered corrections of an erasure (they name the erased person's direct chat)."""
    with uow_factory() as uow:
        gone = purge_expired_state(uow, now) + purge_erasure_rows(uow)
        uow.commit()
    return gone


def _safe_url(url: str) -> str:
    from sqlalchemy.engine import make_url

    try:
        return make_url(url).render_as_string(hide_password=True)
    except Exception:
        return "(unparseable URL)"


def build_bot_with_web(settings: Settings, clock: Clock, **options: Any) -> Bot:
    """``build_bot``, then the web pages when STADTLABOR_WEB_URL/WEB_PORT or --web-port ask
    for them (a daemon thread: it ends with the process)."""
    bot = build_bot(settings, clock, **options)
    from handlers.web.app import start_web

    start_web(bot)
    return bot


def run_console(settings: Settings, stdin: Sequence[str] | None = None, echo: bool = False) -> int:
    from handlers.console_app import start_console

    return start_console(settings, build_bot_with_web, stdin, echo=echo)


def warn_without_mail(bot: Bot) -> None:
    if bot.mail is None:
        message = (
            "stadtlabor: warning: STADTLABOR_SMTP_URL is not set, so mails (to people without a "
            'chat account, to those who chose "benachrichtigung email", invitations) stay in '
            "the outbox until it is set."
        )
        log.warning(message)
        print(message, file=sys.stderr, flush=True)


def warn_without_organisers(bot: Bot) -> None:
    with bot.uow_factory() as uow:
        if not uow.persons.organisers():
            message = (
                "stadtlabor: warning: no organisers are configured (STADTLABOR_ORGANIZERS), so "
                "nobody can set up or administer a cohort."
            )
            log.warning(message)
            print(message, file=sys.stderr, flush=True)


def start_chat(bot: Bot) -> None:
    """What a chat process runs besides its platforms: the reminder engine (the flusher
    starts when the first platform attaches its Messenger). Start-up objects are frozen out
    of the garbage collector's scans first: a full collection over them would stall the
    due worker for milliseconds."""
    gc.collect()
    gc.freeze()
    bot.reminders.start()


def stop_chat(bot: Bot) -> None:
    bot.reminders.stop()  # (and waits until the last hand-overs' outcomes are written)
    bot.flusher.stop()
    if bot.mail is not None:
        bot.mail.close()


def run_chat(
    settings: Settings,
    backends: list[str],
    *,
    slack_http: bool = False,
    host: str = "127.0.0.1",
    port: int = 3000,
) -> int:
    """Run the configured chat platforms (Slack, Matrix, or both in one process) with one
    reminder engine, one outbox sender and one flusher; returns the exit code. With the web
    pages on, one HTTP server serves them, /healthz and (in Slack's HTTP mode) /slack/events:
    the Slack runtime adds its route and starts it."""
    from handlers.web.app import web_server

    bot = build_bot(settings, SystemClock())
    web = web_server(bot)  # not started yet
    if web is not None and "slack" not in backends:
        web.start()
    warn_without_organisers(bot)
    warn_without_mail(bot)
    start_chat(bot)
    try:
        if backends == ["slack"]:
            from handlers.slack.runner import run_slack

            return run_slack(bot, http=slack_http, host=host, port=port, shared=web)
        if backends == ["matrix"]:
            from handlers.matrix.runner import run_matrix

            return run_matrix(bot)
        return _run_both(bot, slack_http, host, port, web)
    finally:
        stop_chat(bot)
        if web is not None and "slack" not in backends:
            web.stop()
        bot.engine.dispose()


def _run_both(bot: Bot, slack_http: bool, host: str, port: int, web: SharedServer | None) -> int:
    from handlers.matrix.runner import load_config, serve
    from handlers.slack.runner import run_slack

    stop = threading.Event()
    codes: list[int] = []
    slack = threading.Thread(
        target=lambda: codes.append(
            run_slack(bot, http=slack_http, host=host, port=port, stop=stop, shared=web)
        ),
        name="slack",
        daemon=True,
    )
    slack.start()
    try:
        code = asyncio.run(serve(bot, load_config(bot)))
    finally:
        stop.set()
        slack.join(timeout=10)
    return max([code, *codes])


def _chat_credentials() -> list[str]:
    found = []
    if os.environ.get("SLACK_BOT_TOKEN"):
        found.append("slack")
    if os.environ.get("MATRIX_HOMESERVER") and os.environ.get("MATRIX_USER_ID"):
        found.append("matrix")
    return found


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="stadtlabor", description="Stadtlabor-Bot")
    sub = parser.add_subparsers(dest="command")
    run = sub.add_parser(
        "run", help="start the chat backends that are configured (console if none)"
    )
    run.add_argument("--slack-http", action="store_true", help="Slack over HTTP, not Socket Mode")
    run.add_argument(
        "--host", default="127.0.0.1", help="HTTP address for Slack (default 127.0.0.1)"
    )
    run.add_argument("--port", type=int, default=3000, help="HTTP port for Slack (default 3000)")
    console = sub.add_parser("console", help="talk to the bot in the terminal (simulated clock)")
    console.add_argument("--echo", action="store_true", help="print each input line too")
    for with_web in (run, console):
        with_web.add_argument(
            "--web-port", type=int, default=None, help="serve the web pages on this port"
        )
    db = sub.add_parser("db", help="database maintenance")
    db.add_argument("action", choices=["upgrade"])
    export = sub.add_parser("export", help="export data on the command line")
    export.add_argument("what", choices=["ics"])
    export.add_argument("--jahrgang", required=True, help="the cohort's name")
    export.add_argument("--ausgabe", default=None, help="file to write (default: stdout)")
    imp = sub.add_parser("import", help="import a CSV list on the command line")
    imp.add_argument("what", choices=["teilnehmende"])
    imp.add_argument("datei", help="CSV (UTF-8), header name,kommune,funktion,email")
    imp.add_argument("--jahrgang", required=True, help="the cohort's name")
    imp.add_argument("--probelauf", action="store_true", help="check only, write nothing")
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=os.environ.get("STADTLABOR_LOG_LEVEL", "WARNING").upper(),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    try:
        web_port = getattr(args, "web_port", None)
        settings = load_settings(**({"web_port": web_port} if web_port is not None else {}))
        if args.command == "db":
            build_bot(settings, SystemClock())
            print("Database is up to date.")
            return 0
        if args.command == "export":
            from handlers.cli import export_ics_cli

            bot = build_bot(settings, SystemClock())
            try:
                return export_ics_cli(bot, args.jahrgang, args.ausgabe)
            finally:
                bot.engine.dispose()
        if args.command == "import":
            from handlers.cli import import_cli

            bot = build_bot(settings, SystemClock())
            try:
                return import_cli(bot, args.datei, args.jahrgang, dry_run=args.probelauf)
            finally:
                bot.engine.dispose()
        backends = _chat_credentials()
        if args.command == "console" or not backends:
            return run_console(settings, echo=bool(getattr(args, "echo", False)))
        return run_chat(
            settings,
            backends,
            slack_http=bool(getattr(args, "slack_http", False)),
            host=str(getattr(args, "host", "127.0.0.1")),
            port=int(getattr(args, "port", 3000)),
        )
    except (SettingsError, StartupError) as exc:
        print(f"stadtlabor: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    raise SystemExit(main())
