"""The scheduler leader's advisory lock is per database *and schema*: deployments (or test runs)
in other schemas of the same PostgreSQL database each have their own leader."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import ExitStack

import pytest

from app import Bot, build_bot
from bot.clock import SystemClock
from bot.scheduling.engine import ReminderEngine
from tests.helpers import make_settings
from tests.support.pg_schema import fresh_schema
from tests.support.slack_cluster import wait_for


@pytest.fixture
def other_schema_url(pg_url: str) -> Iterator[str]:
    with fresh_schema(pg_url) as url:
        yield url


def _engine(bot: Bot) -> ReminderEngine:
    return ReminderEngine(
        engine=bot.engine,
        uow_factory=bot.uow_factory,
        scheduler=bot.due,
        clock=bot.clock,
        retry=0.2,
    )


@pytest.mark.postgres
def test_each_schema_has_its_own_scheduler_leader(
    pg_schema_url: str, other_schema_url: str
) -> None:
    with ExitStack() as stack:
        bots = [build_bot(make_settings(url), SystemClock()) for url in (pg_schema_url,) * 2]
        bots.append(build_bot(make_settings(other_schema_url), SystemClock()))
        for bot in bots:
            stack.callback(bot.engine.dispose)
        first, second, elsewhere = engines = [_engine(bot) for bot in bots]
        for engine in engines:
            engine.start()
            stack.callback(engine.stop)
        wait_for(lambda: first.is_leader or second.is_leader, 10, "a leader in schema 1")
        wait_for(lambda: elsewhere.is_leader, 10, "a leader in schema 2")
        time.sleep(0.6)  # three retry periods: the loser in schema 1 stays a follower
        assert [first.is_leader, second.is_leader].count(True) == 1
