"""Fixtures of the web tests: a bot whose settings turn the web pages on."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from app import Bot, build_bot
from bot.clock import SimulatedClock
from tests.helpers import Driver, make_settings

WEB_URL = "http://stadtlabor.example.org"  # http: the test client sends no Secure cookies


@pytest.fixture
def web_bot(db_url: str, clock: SimulatedClock) -> Iterator[Bot]:
    built = build_bot(make_settings(db_url, organizers="console:orga", web_url=WEB_URL), clock)
    yield built
    built.engine.dispose()


@pytest.fixture
def driver(web_bot: Bot) -> Driver:
    return Driver(web_bot)
