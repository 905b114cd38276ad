"""A fresh schema on a shared PostgreSQL database, dropped afterwards (tests and benchmarks)."""

from __future__ import annotations

import os
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import create_engine, text


@contextmanager
def fresh_schema(url: str, prefix: str = "t") -> Iterator[str]:
    """Yield ``url`` with its ``search_path`` set to a new schema; drop the schema after."""
    schema = f"{prefix}_{uuid.uuid4().hex[:12]}"
    admin = create_engine(url)
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    try:
        sep = "&" if "?" in url else "?"
        yield f"{url}{sep}options=-csearch_path%3D{schema}"
    finally:
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


DEFAULT_PG = "postgresql://postgres@127.0.0.1:5432/test"


@contextmanager
def bench_database(backend: str, name: str) -> Iterator[str]:
    """A throwaway database for a benchmark: a SQLite file in a temporary folder, or a fresh
    schema on STADTLABOR_TEST_DATABASE_URL (default: the local ``test`` database)."""
    if backend == "sqlite":
        with tempfile.TemporaryDirectory() as folder:
            yield f"sqlite:///{folder}/{name}.db"
        return
    base = (os.environ.get("STADTLABOR_TEST_DATABASE_URL") or DEFAULT_PG).replace(
        "postgresql://", "postgresql+psycopg://", 1
    )
    with fresh_schema(base, prefix=f"bench_{name}") as url:
        yield url
