"""A 30-second database outage (issue 11), on a throwaway PostgreSQL cluster started by the test:
every command in between is answered "vorübergehend nicht verfügbar, bitte gleich noch einmal"
and nothing else, nothing half-written remains, the very next command after the restart works
(no dead pooled connection shown to anyone), and the reminders due during and after the outage
fire exactly once."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import Connection, create_engine, event, text
from sqlalchemy.exc import OperationalError

from app import Bot, build_bot, start_chat
from bot.clock import SimulatedClock, SystemClock
from bot.commands.registration import FORM_ID
from bot.context import CommandContext, Reply
from bot.identity import Identity
from bot.messenger import RecordingMessenger
from bot.people import ensure_person
from bot.scheduling.due import schedule
from tests.helpers import make_settings, request, signup
from tests.support.pg_cluster import Cluster, cluster, wait_for

__all__ = ["cluster"]  # the fixture

OUTAGE_SECONDS = 30
MEETING = 'treffen anlegen titel="Auftakt" von="1.12.2030 10 Uhr" bis="1.12.2030 16 Uhr"'
UNAVAILABLE = "Der Dienst ist vorübergehend nicht verfügbar, bitte gleich noch einmal."


def _say(bot: Bot, user: str, line: str, *, dm: bool = False) -> list[str]:
    replies = bot.dispatcher.handle(request(user, line, dm=dm))
    return [r.message.plain_text() for r in replies if r.message is not None]


def _rows(url: str, sql: str) -> list[tuple[object, ...]]:
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            return [tuple(row) for row in conn.execute(text(sql))]
    finally:
        engine.dispose()


def _set_up(bot: Bot) -> None:
    channel = 'jahrgang anlegen "Stadtlabor Test" plaetze=20'
    assert "angelegt" in " ".join(_say(bot, "orga", channel))
    for user in ("anna", "cara", "dora"):
        assert "angemeldet" in " ".join(_say(bot, user, signup(user)))
    assert "Umfrage 1" in " ".join(_say(bot, "orga", 'umfrage "Wohin?" "Hameln" "Celle" sofort'))
    assert _say(bot, "anna", "abstimmen 1 1")


def _schedule_reminders(bot: Bot, during: datetime, after: datetime) -> None:
    now = datetime.now(UTC)
    with bot.uow_factory() as uow:
        anna = ensure_person(uow, Identity("console", "anna"), now, "anna")
        for name, due in (("waehrend", during), ("danach", after)):
            schedule(uow, key=name, due_at=due, kind="dm", now=now, person_id=anna.id, text=name)
        uow.commit()


def test_a_guided_registration_survives_a_lost_database_at_its_last_answer(
    sqlite_url: str,
) -> None:
    """The dialog is removed in the submission's transaction: if the database goes away (or
    the process dies) while the last answer is submitted, typing that answer again registers."""
    bot = build_bot(make_settings(sqlite_url, organizers="console:orga"), SimulatedClock())
    try:
        assert "angelegt" in " ".join(_say(bot, "orga", 'jahrgang anlegen "Test" plaetze=5'))
        _say(bot, "ben", "anmelden")
        for answer in ("Ben Bammann", "Bamberg", "Beigeordneter", "ben@bamberg.de", "-"):
            _say(bot, "ben", answer, dm=True)
        found = bot.dispatcher.registry.form(FORM_ID)
        assert found is not None
        key, submit = found

        def lost(ctx: CommandContext, values: dict[str, str]) -> Reply:
            raise OperationalError("INSERT", {}, Exception("connection refused"))

        bot.dispatcher.registry.add_form(FORM_ID, key, lost)
        assert _say(bot, "ben", "ja", dm=True) == [UNAVAILABLE]
        bot.dispatcher.registry.add_form(FORM_ID, key, submit)
        assert "Sie sind angemeldet" in " ".join(_say(bot, "ben", "ja", dm=True))
    finally:
        bot.engine.dispose()


def test_a_connection_dropped_in_the_middle_of_a_command(cluster: Cluster) -> None:
    """The server ends the session while a registration is being written: the user is told
    to retry, nothing of it is stored, and the retry (on a fresh connection) works."""
    bot = build_bot(make_settings(cluster.url, organizers="console:orga"), SystemClock())
    admin = create_engine(cluster.url, isolation_level="AUTOCOMMIT")
    armed = [True]

    def drop(conn: Connection, cursor: object, statement: str, *_args: object) -> None:
        if armed[0] and statement.startswith("INSERT INTO participants"):
            armed[0] = False
            driver = conn.connection.driver_connection
            assert driver is not None
            pid = driver.info.backend_pid
            with admin.connect() as other:
                other.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})

    try:
        assert "angelegt" in " ".join(_say(bot, "orga", 'jahrgang anlegen "Test" plaetze=5'))
        event.listen(bot.engine, "before_cursor_execute", drop)
        assert _say(bot, "erik", signup("erik")) == [UNAVAILABLE]
        assert not armed[0]
        assert _rows(cluster.url, "SELECT count(*) FROM participants") == [(0,)]
        assert "Sie sind angemeldet" in " ".join(_say(bot, "erik", signup("erik")))
    finally:
        bot.engine.dispose()
        admin.dispose()


@pytest.mark.slow
def test_thirty_seconds_without_database(cluster: Cluster) -> None:
    started = time.monotonic()
    bot = build_bot(make_settings(cluster.url, organizers="console:orga"), SystemClock())
    messenger = RecordingMessenger()
    bot.outbox.attach(messenger)  # as an adapter does; the test flushes itself
    sender = bot.outbox
    start_chat(bot)
    engine = bot.reminders
    try:
        _set_up(bot)
        sender.flush()
        stop_at = datetime.now(UTC)
        _schedule_reminders(
            bot,
            during=stop_at + timedelta(seconds=10),
            after=stop_at + timedelta(seconds=OUTAGE_SECONDS + 8),
        )
        cluster.stop()
        down = time.monotonic()

        # During the outage: a registration, a vote, an organiser command, a DM command.
        attempts = [
            ("erik", signup("erik"), False),
            ("cara", "abstimmen 1 2", False),
            ("orga", MEETING, False),
            ("anna", "erinnerungen", True),
        ]
        for user, line, dm in attempts:
            assert _say(bot, user, line, dm=dm) == [UNAVAILABLE], (user, line)
        time.sleep(max(0.0, OUTAGE_SECONDS - 2 - (time.monotonic() - down)))
        for user, line, dm in attempts:  # still down at the end of the outage
            assert _say(bot, user, line, dm=dm) == [UNAVAILABLE], (user, line)
        time.sleep(max(0.0, OUTAGE_SECONDS - (time.monotonic() - down)))
        cluster.start()

        # Nothing half-written: what was refused is absent.
        url = cluster.url
        assert _rows(url, "SELECT count(*) FROM identities WHERE external_id = 'erik'") == [(0,)]
        assert _rows(url, "SELECT count(*) FROM participants") == [(3,)]
        assert _rows(url, "SELECT count(*) FROM meetings") == [(0,)]
        assert _rows(url, "SELECT count(*) FROM votes") == [(1,)]

        # The very next command works (the pool's dead connections are replaced), and so does
        # each retry.
        assert "angemeldet" in " ".join(_say(bot, "erik", signup("erik")))
        assert "Ihre Stimme" in " ".join(_say(bot, "cara", "abstimmen 1 2"))
        assert "Treffen 1" in " ".join(_say(bot, "orga", MEETING))
        listing = " ".join(_say(bot, "anna", "erinnerungen", dm=True))
        assert UNAVAILABLE not in listing

        # The reminder due during the outage fires after it, the next one on time; once each.
        def reminders() -> list[str]:
            sender.flush()
            firsts = [t.splitlines()[0] for t in messenger.texts("dm")]
            return [t for t in firsts if t.startswith("Erinnerung:")]

        wanted = ["Erinnerung: waehrend", "Erinnerung: danach"]
        assert wait_for(lambda: reminders() == wanted, 30), reminders()
        time.sleep(2)
        assert reminders() == wanted
        mine = "SELECT status FROM reminders WHERE idempotency_key IN ('waehrend', 'danach')"
        assert _rows(url, mine) == [("done",), ("done",)]
        stuck = "SELECT count(*) FROM outbox WHERE status NOT IN ('sent', 'pending')"
        assert _rows(url, stuck) == [(0,)]

        # A restart nobody noticed: the pooled connections died quietly; the next command
        # must still work (pre-ping replaces them), not show the outage message.
        cluster.stop()
        cluster.start()
        assert "Ihre Stimme" in " ".join(_say(bot, "dora", "abstimmen 1 2"))
    finally:
        engine.stop()
        bot.engine.dispose()
    assert time.monotonic() - started < 120
