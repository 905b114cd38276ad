"""Shared pieces of the web tests: a world with a cohort, login links from the transcript."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from typing import Any

from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer
from sqlalchemy import event

from app import Bot
from handlers.http_server import HttpLimits, WorkerPool, make_application
from handlers.web.app import add_web_routes, make_deps
from tests.helpers import Driver, signup

LINK = re.compile(r"(https?://\S+/anmelden/[A-Za-z0-9_-]+)")
TOKEN = re.compile(r'name="token" value="([^"]+)"')
CSRF = re.compile(r'name="csrf" value="([^"]+)"')


def world(driver: Driver, *, moderated: bool = True) -> None:
    """A moderated cohort "Stadtlabor 2027" with two confirmed and two pending registrations."""
    extra = " moderiert" if moderated else ""
    driver.say("orga", f'jahrgang anlegen "Stadtlabor 2027" plaetze=3{extra}')
    for user in ("anna", "bert", "cora", "dora"):
        driver.say(user, signup(user))
    if moderated:
        driver.say("orga", "bestaetigen @anna")
        driver.say("orga", "bestaetigen @bert")


def login_link(driver: Driver, user: str) -> str:
    """``dashboard`` as ``user``; the link from the DM the bot sent (the transcript)."""
    driver.say(user, "dashboard")
    dms = [
        s.text for s in driver.messenger.transcript if s.kind == "dm" and s.target.endswith(user)
    ]
    found = LINK.findall(dms[-1]) if dms else []
    assert found, dms
    return str(found[-1])


def path_of(url: str) -> str:
    return "/" + url.split("/", 3)[3]


@asynccontextmanager
async def client_for(bot: Bot) -> AsyncIterator[TestClient[Any, Any]]:
    limits = HttpLimits()
    pool = WorkerPool(limits)
    app: web.Application = make_application(limits)
    add_web_routes(app, make_deps(bot), pool)
    client: TestClient[Any, Any] = TestClient(TestServer(app))
    await client.start_server()
    try:
        yield client
    finally:
        await client.close()
        pool.shutdown()


async def log_in(client: TestClient[Any, Any], link: str) -> str:
    """Open the link, press the button; the page it lands on (HTML)."""
    shown = await client.get(path_of(link))
    assert shown.status == 200, await shown.text()
    token = TOKEN.findall(await shown.text())[0]
    answer = await client.post("/anmelden", data={"token": token}, allow_redirects=True)
    assert answer.status == 200, await answer.text()
    return await answer.text()


def csrf_of(html: str) -> str:
    return str(CSRF.findall(html)[0])


@contextmanager
def counted(bot: Bot) -> Iterator[list[str]]:
    """Every SQL statement the engine runs inside the block."""
    seen: list[str] = []

    def record(_conn: object, _cursor: object, statement: str, *_args: object) -> None:
        seen.append(statement)

    event.listen(bot.engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(bot.engine, "before_cursor_execute", record)
