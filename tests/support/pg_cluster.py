"""A throwaway PostgreSQL cluster (initdb + pg_ctl) that a test may stop and start again.

Needs the server binaries (/usr/lib/postgresql/*/bin); as root the server runs as the
``postgres`` user (initdb refuses root). The ``cluster`` fixture skips without them, except
with ``CI=true``: there a missing install fails, so the outage tests cannot vanish silently.
"""

from __future__ import annotations

import contextlib
import glob
import os
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

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
        """``pg_ctl stop -m fast``: open sessions are ended, the pool's connections die."""
        self._run("pg_ctl", "-D", str(self.data), "-m", "fast", "-w", "stop")

    @property
    def url(self) -> str:
        return f"postgresql+psycopg://test@127.0.0.1:{self.port}/postgres"


def missing() -> str | None:
    """Why no throwaway cluster can run here, or None."""
    if not BINARIES:
        return "PostgreSQL server binaries (initdb, pg_ctl) are not installed"
    if os.getuid() == 0 and shutil.which("runuser") is None:
        return "running as root without runuser: the server cannot run as postgres"
    return None


def require_binaries() -> None:
    """Skip without the server binaries; on CI (``CI=true``) fail instead, like Synapse in
    :mod:`tests.support.fixtures_matrix`."""
    reason = missing()
    if reason is None:
        return
    if os.environ.get("CI") == "true":
        pytest.fail(f"{reason} (CI=true: the outage tests must run)", pytrace=False)
    pytest.skip(reason)


@pytest.fixture
def cluster() -> Iterator[Cluster]:
    require_binaries()
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


def wait_for(predicate: Callable[[], bool], seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.05)
    return False
