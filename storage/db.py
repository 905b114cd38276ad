"""Engines for SQLite (WAL, busy timeout, serialised writers) and PostgreSQL (psycopg 3).

SQLite allows one writer at a time. Every transaction starts with ``BEGIN IMMEDIATE`` (a read
that later writes must not fail with "database is locked"), so transactions of one process
first queue on an in-process lock per database file, taken before ``BEGIN IMMEDIATE`` and
released right after COMMIT or ROLLBACK: the next thread starts at once instead of sleeping in
SQLite's busy handler (which backs off up to 100 ms between tries). Other processes still
meet the busy timeout, as before. A read-only unit of work (pages that only show) starts a
plain ``BEGIN`` without the lock: WAL lets it read next to the writer.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, UOWTransaction, sessionmaker

SQLITE_BUSY_TIMEOUT_MS = 30_000
# PostgreSQL: enough connections for the Slack request threads plus the background workers,
# kept open (an overflow connection is closed on return, and a new one costs a server fork).
PG_POOL_SIZE = 20
PG_MAX_OVERFLOW = 10

log = logging.getLogger(__name__)

_HELD = "stadtlabor_writer_lock"
#: execution option of a read-only unit of work (storage.uow.SqlUnitOfWork(read_only=True))
READ_ONLY = "stadtlabor_read_only"
_locks: dict[str, threading.Lock] = {}
_locks_guard = threading.Lock()


def normalise_url(url: str) -> str:
    """Use psycopg 3 for ``postgresql://`` URLs; keep everything else as given."""
    parsed = make_url(url)
    if parsed.drivername in ("postgresql", "postgres"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    return parsed.render_as_string(hide_password=False)


def create_db_engine(url: str, **kwargs: Any) -> Engine:
    url = normalise_url(url)
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite":
        kwargs.setdefault("pool_size", PG_POOL_SIZE)
        kwargs.setdefault("max_overflow", PG_MAX_OVERFLOW)
        return create_engine(url, pool_pre_ping=True, **kwargs)
    lock = threading.Lock()  # an in-memory database belongs to its engine alone
    if parsed.database and parsed.database != ":memory:":
        path = Path(parsed.database)
        path.parent.mkdir(parents=True, exist_ok=True)
        make_private(path)
        lock = writer_lock(str(path.resolve()))
    engine = create_engine(url, connect_args={"timeout": SQLITE_BUSY_TIMEOUT_MS / 1000}, **kwargs)
    _configure_sqlite(engine, lock)
    return engine


def make_private(path: Path) -> None:
    """The database holds personal data: only its owner may read it (0600). Created here
    before SQLite opens it, because SQLite gives its -wal and -shm files the main file's mode;
    an existing file (and journal) with wider permissions is narrowed."""
    os.close(os.open(path, os.O_CREAT | os.O_RDWR, 0o600))  # the umask can only narrow it
    for file in (path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")):
        try:
            if file.exists() and file.stat().st_mode & 0o077:
                os.chmod(file, 0o600)
        except OSError as exc:  # not ours to change: say so, the database still works
            log.warning("could not make %s private (0600): %s", file, exc)


def writer_lock(key: str) -> threading.Lock:
    """The in-process lock of one SQLite database (shared by all engines on that file)."""
    with _locks_guard:
        return _locks.setdefault(key, threading.Lock())


def _configure_sqlite(engine: Engine, lock: threading.Lock) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Let SQLAlchemy, not the sqlite3 module, decide where transactions begin.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        if connection.get_execution_options().get(READ_ONLY):
            # A read-only unit of work reads a WAL snapshot next to the writer: no writer
            # lock, no queue (it never writes; the unit of work refuses to commit).
            connection.exec_driver_sql("BEGIN")
            return
        # Queue in process first; after the busy timeout go on without the lock (a transaction
        # left open in this process then fails as it did before: "database is locked").
        info = _info(connection.connection)
        if info is not None and lock.acquire(timeout=SQLITE_BUSY_TIMEOUT_MS / 1000):
            info[_HELD] = lock
        try:
            # BEGIN IMMEDIATE takes the write lock up front: writers of other processes queue
            # on the busy timeout instead of failing when a read turns into a write.
            connection.exec_driver_sql("BEGIN IMMEDIATE")
        except BaseException:
            if info is not None:
                _release(info)
            raise

    dialect = engine.dialect
    dialect.do_commit = _releasing(dialect.do_commit)  # type: ignore[method-assign,assignment]
    dialect.do_rollback = _releasing(dialect.do_rollback)  # type: ignore[method-assign,assignment]

    @event.listens_for(engine, "checkin")
    def _on_checkin(_dbapi_connection: Any, record: Any) -> None:
        _release(record.info)  # a connection returned or invalidated mid-transaction

    @event.listens_for(engine, "close")
    def _on_close(_dbapi_connection: Any, record: Any) -> None:
        _release(record.info)


def _releasing(end: Callable[[Any], None]) -> Callable[[Any], None]:
    """COMMIT or ROLLBACK, then the writer lock is free for the next transaction."""

    def wrapped(dbapi_connection: Any) -> None:
        try:
            end(dbapi_connection)
        finally:
            info = _info(dbapi_connection)
            if info is not None:
                _release(info)

    return wrapped


def _info(connection: Any) -> dict[Any, Any] | None:
    """The pool entry's info dict (None for a connection outside the pool)."""
    try:
        info = connection.info
    except (AttributeError, NotImplementedError):
        return None
    return info if isinstance(info, dict) else None


def _release(info: dict[Any, Any]) -> None:
    held = info.pop(_HELD, None)
    if held is not None:
        held.release()


_WROTE = "stadtlabor_wrote"


def _mark_written(session: Session, _flush: UOWTransaction) -> None:
    session.info[_WROTE] = True


def session_factory(engine: Engine) -> sessionmaker[Session]:
    factory = sessionmaker(engine, expire_on_commit=False)
    event.listen(factory, "after_flush", _mark_written)  # see has_written
    return factory


def forget_writes(session: Session) -> None:
    """Start counting: :func:`has_written` tells whether anything was flushed since."""
    session.info.pop(_WROTE, None)


def has_written(session: Session) -> bool:
    """Whether the session flushed anything since :func:`forget_writes` (an autoflush
    empties ``session.new``, so that alone cannot tell)."""
    return bool(session.info.pop(_WROTE, False))


def is_postgres(engine: Engine) -> bool:
    return engine.dialect.name == "postgresql"
