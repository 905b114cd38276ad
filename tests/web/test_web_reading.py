"""Pages that only show read in a read-only unit of work: next to the chat's writers, never
writing — and the message they show is still shown once."""

from __future__ import annotations

import asyncio
import threading

from app import Bot
from bot.services import web_login
from storage.models_web import WebSession
from tests.helpers import Driver
from tests.web import seed
from tests.web.support import client_for, log_in, login_link


async def test_the_overview_shows_a_message_once_although_it_only_reads(
    driver: Driver, web_bot: Bot
) -> None:
    seed.cohort(driver, "Stadtlabor 2027", people=2, meetings=1, polls=0, rounds=0)
    async with client_for(web_bot) as client:
        await log_in(client, login_link(driver, "orga"))
        with web_bot.uow_factory() as uow:
            session = uow.session.query(WebSession).one()
            web_login.set_flash(uow, session.id, "Hinweis für genau eine Anzeige")
            uow.commit()
        first = await (await client.get("/jahrgang")).text()
        second = await (await client.get("/jahrgang")).text()
    assert "Hinweis für genau eine Anzeige" in first
    assert "Hinweis für genau eine Anzeige" not in second
    with web_bot.uow_factory() as uow:
        assert uow.session.query(WebSession).one().flash is None


async def test_a_newer_message_is_not_cleared_by_the_page_that_showed_the_older(
    driver: Driver, web_bot: Bot
) -> None:
    seed.cohort(driver, "Stadtlabor 2027", people=2, meetings=1, polls=0, rounds=0)
    async with client_for(web_bot) as client:
        await log_in(client, login_link(driver, "orga"))
    with web_bot.uow_factory() as uow:
        session_id = uow.session.query(WebSession).one().id
        web_login.set_flash(uow, session_id, "neuer")
        uow.commit()
    with web_bot.uow_factory() as uow:
        web_login.clear_flash(uow, session_id, "älter")  # what a slower page had shown
        uow.commit()
    with web_bot.uow_factory() as uow:
        assert uow.session.get(WebSession, session_id).flash == "neuer"  # type: ignore[union-attr]


async def test_the_overview_answers_while_a_chat_writer_holds_the_database(
    driver: Driver, web_bot: Bot
) -> None:
    """A long write (a fan-out, a vote burst) must not hold the programme team's page."""
    seed.cohort(driver, "Stadtlabor 2027", people=2, meetings=1, polls=1, rounds=0)
    writing, release = threading.Event(), threading.Event()

    def writer() -> None:
        with web_bot.uow_factory() as uow:  # SQLite: the writer lock; PostgreSQL: a row lock
            uow.session.query(WebSession).with_for_update().all()
            writing.set()
            release.wait(30)
            uow.commit()

    async with client_for(web_bot) as client:
        await log_in(client, login_link(driver, "orga"))
        thread = threading.Thread(target=writer)
        thread.start()
        try:
            assert writing.wait(10)
            # before: the page queued behind the writer (SQLite's writer lock) for as long as
            # it wrote; PostgreSQL readers never waited for a row lock
            page = await asyncio.wait_for(client.get("/jahrgang"), timeout=5)
            assert page.status == 200 and "Stadtlabor 2027" in await page.text()
        finally:
            release.set()
            thread.join(10)
