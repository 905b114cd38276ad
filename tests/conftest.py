"""Shared fixtures: real SQLite file databases and a real PostgreSQL (own schema per test)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from sqlalchemy import create_engine

from app import Bot, build_bot
from bot.clock import SimulatedClock
from tests.helpers import make_settings
from tests.support.pg_schema import fresh_schema

pytest_plugins = ["tests.support.fixtures_matrix"]

PG_URL_ENV = "STADTLABOR_TEST_DATABASE_URL"
DEFAULT_PG_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
START = datetime(2026, 11, 25, 11, 0, tzinfo=UTC)  # Wednesday 12:00 in Berlin


def _pg_base_url() -> str:
    url = os.environ.get(PG_URL_ENV, "")
    if not url and os.environ.get("CI") != "true":
        url = DEFAULT_PG_URL
    return url.replace("postgresql://", "postgresql+psycopg://", 1)


def _pg_available(url: str) -> str | None:
    try:
        engine = create_engine(url, connect_args={"connect_timeout": 3})
        with engine.connect():
            pass
        engine.dispose()
        return None
    except Exception as exc:
        return str(exc).splitlines()[0]


@pytest.fixture(scope="session")
def pg_url() -> str:
    url = _pg_base_url()
    problem = "no URL in " + PG_URL_ENV if not url else _pg_available(url)
    if problem:
        if os.environ.get("CI") == "true":
            pytest.fail(f"PostgreSQL is required in CI but unreachable: {problem}")
        pytest.skip(f"PostgreSQL not reachable ({problem}); set {PG_URL_ENV}")
    return url


@pytest.fixture
def pg_schema_url(pg_url: str) -> Iterator[str]:
    """A fresh schema on the shared PostgreSQL, dropped afterwards."""
    with fresh_schema(pg_url) as url:
        yield url


@pytest.fixture(params=["sqlite", "postgres"])
def db_url(request: pytest.FixtureRequest, tmp_path: object) -> str:
    """Run the test once on a SQLite file and once on PostgreSQL."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path}/stadtlabor.db"
    request.applymarker(pytest.mark.postgres)
    return str(request.getfixturevalue("pg_schema_url"))


@pytest.fixture
def sqlite_url(tmp_path: object) -> str:
    return f"sqlite:///{tmp_path}/stadtlabor.db"


@pytest.fixture
def clock() -> SimulatedClock:
    return SimulatedClock(START)


@pytest.fixture
def bot(db_url: str, clock: SimulatedClock) -> Iterator[Bot]:
    built = build_bot(make_settings(db_url, organizers="console:orga"), clock)
    yield built
    built.engine.dispose()
