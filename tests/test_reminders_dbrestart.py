"""A database restart in the middle, on a throwaway PostgreSQL cluster started by the test:
commands in between are answered "vorübergehend nicht verfügbar", and the next reminder still
fires once the server is back."""

from __future__ import annotations

import contextlib
import glob
import os
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from app import build_bot
from bot.clock import SystemClock
from bot.identity import Identity
from bot.messenger import RecordingMessenger
from bot.people import ensure_person
from bot.reminders import schedule
from handlers.chat_app import start_due_work
from tests.helpers import make_settings, request

BINARIES = sorted(glob.glob("/usr/lib/postgresql/*/bin"))


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Cluster:
    def __init__(self, folder: Path) -> None:
        self.bin = BINARIES[-1]
        self.data = folder / "data"
        self.port = _free_port()
        self.log = folder / "server.log"
        as_postgres = os.getuid() == 0
        self.prefix = ["runuser", "-u", "postgres", "--"] if as_postgres else []
        if as_postgres:
            shutil.chown(folder, "postgres")
        self._run("initdb", "-D", str(self.data), "-A", "trust", "-U", "test", "--no-sync")

    def _run(self, tool: str, *args: str) -> None:
        subprocess.run(
            [*self.prefix, f"{self.bin}/{tool}", *args], check=True, capture_output=True, timeout=60
        )

    def start(self) -> None:
        options = f"-c listen_addresses=127.0.0.1 -p {self.port} -k {self.data} -c fsync=off"
        self._run("pg_ctl", "-D", str(self.data), "-l", str(self.log), "-w", "-o", options, "start")

    def stop(self) -> None:
        self._run("pg_ctl", "-D", str(self.data), "-m", "fast", "-w", "stop")

    @property
    def url(self) -> str:
        return f"postgresql+psycopg://test@127.0.0.1:{self.port}/postgres"


@pytest.fixture
def cluster() -> Iterator[Cluster]:
    if not BINARIES or (os.getuid() == 0 and shutil.which("runuser") is None):
        pytest.skip("PostgreSQL server binaries (initdb, pg_ctl) are not installed")
    # pytest's own temp folders are private to root; the server runs as postgres.
    folder = Path(tempfile.mkdtemp(prefix="stadtlabor-pg-"))
    try:
        server = Cluster(folder)
        server.start()
        yield server
        with contextlib.suppress(subprocess.CalledProcessError):
            server.stop()
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def _wait(predicate: object, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if predicate():  # type: ignore[operator]
            return True
        time.sleep(0.05)
    return False


def test_database_restart_in_the_middle(cluster: Cluster) -> None:
    bot = build_bot(make_settings(cluster.url), SystemClock())
    messenger = RecordingMessenger()
    engine = start_due_work(bot, sender=bot.sender({"console": messenger}))
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
        assert _wait(lambda: len(messenger.transcript) == 1, 10)
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

        assert _wait(flushed, 20)
        firsts = [t.splitlines()[0] for t in messenger.texts("dm")]
        assert firsts == ["Erinnerung: vorher", "Erinnerung: danach"]
        assert _wait(lambda: engine.is_leader, 5)
    finally:
        engine.stop()
        bot.engine.dispose()
