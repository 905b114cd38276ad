"""Closing a poll on the page: a confirmation step, then the chat's close (same permission
rule, audit entry and result post); refused for others, without CSRF and for foreign polls."""

from __future__ import annotations

from typing import Any

from aiohttp.test_utils import TestClient
from sqlalchemy import select

from app import Bot
from storage.models import AuditEntry, Poll
from tests.helpers import Driver
from tests.web.support import client_for, csrf_of, log_in, login_link, world


def _closes(bot: Bot) -> list[dict[str, Any]]:
    with bot.uow_factory() as uow:
        return [
            dict(e.after or {}, actor=e.actor_person_id)
            for e in uow.session.scalars(
                select(AuditEntry).where(AuditEntry.action == "umfrage.schliessen")
            )
        ]


def _closed_at(bot: Bot, number: int) -> object:
    with bot.uow_factory() as uow:
        return uow.session.scalar(select(Poll.closed_at).where(Poll.number == number))


async def _post(client: TestClient[Any, Any], data: dict[str, str]) -> tuple[int, str]:
    answer = await client.post("/umfragen/schliessen", data=data, allow_redirects=True)
    return answer.status, await answer.text()


async def test_an_organiser_closes_a_poll_after_confirming(driver: Driver, web_bot: Bot) -> None:
    world(driver)
    driver.say("orga", 'umfrage "Welches Thema?" "Wohnen" "Pflege" sofort')
    driver.say("anna", "abstimmen 1 2")
    driver.flush()
    driver.messenger.transcript.clear()
    async with client_for(web_bot) as client:
        await log_in(client, login_link(driver, "orga"))
        html = await (await client.get("/umfragen")).text()
        assert "Abstimmung schließen" in html
        csrf = csrf_of(html)
        status, asked = await _post(client, {"csrf": csrf, "umfrage": "1"})
        assert status == 200 and "Umfrage 1 schließen?" in asked
        assert _closed_at(web_bot, 1) is None and _closes(web_bot) == []  # only asked
        status, done = await _post(client, {"csrf": csrf, "umfrage": "1", "bestaetigt": "ja"})
        assert status == 200
        assert "Umfrage 1 ist geschlossen; das Ergebnis steht im Kanal." in done
        assert "Ergebnis von Umfrage 1: Wohnen 0, Pflege 1</title>" in done
        assert "Abstimmung schließen" not in done  # nothing left to close
        assert "Auswertung als CSV" in done
        csv = await client.post("/umfragen/export", data={"csrf": csrf, "umfrage": "1"})
        assert csv.status == 200 and "Pflege" in (await csv.read()).decode("utf-8-sig")
        # twice: a clear message, nothing changes
        status, again = await _post(client, {"csrf": csrf, "umfrage": "1", "bestaetigt": "ja"})
        assert status == 200 and "Umfrage 1 ist bereits geschlossen." in again
    closes = _closes(web_bot)
    assert len(closes) == 1 and closes[0]["umfrage"] == 1 and closes[0]["stimmzettel"] == 1
    driver.flush()
    posts = driver.messenger.texts("post")
    assert any("Umfrage 1 ist geschlossen: Welches Thema?" in p for p in posts), posts
    assert "geschlossen" in driver.say("anna", "abstimmen 1 1")  # the chat sees it closed


async def test_the_creator_may_close_others_get_403(driver: Driver, web_bot: Bot) -> None:
    world(driver)
    driver.say("anna", 'umfrage "Annas Frage?" "Ja" "Nein" sofort')
    driver.say("orga", 'umfrage "Orgas Frage?" "Ja" "Nein" sofort')
    assert _closed_at(web_bot, 1) is None and _closed_at(web_bot, 2) is None
    async with client_for(web_bot) as bert:
        html = await log_in(bert, login_link(driver, "bert"))
        html = await (await bert.get("/umfragen")).text()
        assert "Abstimmung schließen" not in html  # not his polls
        status, text = await _post(
            bert, {"csrf": csrf_of(html), "umfrage": "1", "bestaetigt": "ja"}
        )
        assert status == 403 and "die Person schließen, die sie angelegt hat" in text
    async with client_for(web_bot) as anna:
        await log_in(anna, login_link(driver, "anna"))
        html = await (await anna.get("/umfragen")).text()
        assert html.count("Abstimmung schließen<") == 1  # her own poll only
        csrf = csrf_of(html)
        status, _text = await _post(anna, {"csrf": csrf, "umfrage": "2", "bestaetigt": "ja"})
        assert status == 403
        status, _text = await _post(anna, {"umfrage": "1", "bestaetigt": "ja"})  # no CSRF
        assert status == 403
        status, _text = await _post(anna, {"csrf": csrf, "umfrage": "99", "bestaetigt": "ja"})
        assert status == 404
        assert _closes(web_bot) == []
        status, done = await _post(anna, {"csrf": csrf, "umfrage": "1", "bestaetigt": "ja"})
        assert status == 200 and "Umfrage 1 ist geschlossen" in done
    assert _closed_at(web_bot, 1) is not None and _closed_at(web_bot, 2) is None
    assert [c["umfrage"] for c in _closes(web_bot)] == [1]


async def test_a_poll_of_another_cohort_is_refused(driver: Driver, web_bot: Bot) -> None:
    world(driver)
    driver.say("orga", 'jahrgang anlegen "Stadtlabor 2028" plaetze=3', channel="andere")
    driver.say("orga", 'umfrage "Anderswo?" "Ja" "Nein" sofort', channel="andere")
    with web_bot.uow_factory() as uow:
        cohorts = {c.name: c.id for c in uow.cohorts.active()}
    assert set(cohorts) == {"Stadtlabor 2027", "Stadtlabor 2028"}
    async with client_for(web_bot) as client:
        html = await log_in(client, login_link(driver, "orga"))
        chosen = await client.post(
            "/jahrgang/wahl",
            data={"csrf": csrf_of(html), "jahrgang": str(cohorts["Stadtlabor 2027"])},
        )
        assert chosen.status == 200
        # poll 1 exists only in the other cohort: not reachable from this one
        status, text = await _post(
            client, {"csrf": csrf_of(html), "umfrage": "1", "bestaetigt": "ja"}
        )
        assert status == 404, text
    assert _closed_at(web_bot, 1) is None and _closes(web_bot) == []
