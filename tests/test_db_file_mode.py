"""Issue 14 item 8: the SQLite database and its -wal/-shm files are readable by their owner only."""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import text

from storage.db import create_db_engine


@pytest.fixture
def open_umask() -> Iterator[None]:
    old = os.umask(0o022)  # the usual default: files 0644, readable by everyone
    yield
    os.umask(old)


def _modes(db: Path) -> dict[str, int]:
    files = [db, db.with_name(db.name + "-wal"), db.with_name(db.name + "-shm")]
    return {f.name: stat.S_IMODE(f.stat().st_mode) for f in files}


def _write(db: Path) -> None:
    engine = create_db_engine(f"sqlite:///{db}")
    try:
        with engine.begin() as conn:  # a write creates -wal and -shm, kept while connected
            conn.execute(text("CREATE TABLE IF NOT EXISTS t (x INTEGER)"))
            conn.execute(text("INSERT INTO t VALUES (1)"))
        with engine.connect() as conn:
            conn.execute(text("SELECT count(*) FROM t"))
            assert _modes(db) == {"bot.db": 0o600, "bot.db-wal": 0o600, "bot.db-shm": 0o600}
    finally:
        engine.dispose()


def test_a_new_database_is_created_0600(tmp_path: Path, open_umask: None) -> None:
    _write(tmp_path / "bot.db")


def test_an_existing_world_readable_database_is_narrowed(tmp_path: Path, open_umask: None) -> None:
    db = tmp_path / "bot.db"
    _write(db)
    os.chmod(db, 0o644)
    _write(db)
