"""The poll page shows a result exactly when the chat does (anonymity rules), as SVG."""

from __future__ import annotations

from app import Bot
from tests.helpers import Driver
from tests.web.support import client_for, log_in, login_link, world


async def _page(web_bot: Bot, driver: Driver, user: str = "orga") -> str:
    async with client_for(web_bot) as client:
        await log_in(client, login_link(driver, user))
        answer = await client.get("/umfragen")
        assert answer.status == 200
        return await answer.text()


async def test_a_named_live_poll_shows_its_result_as_svg(driver: Driver, web_bot: Bot) -> None:
    world(driver)
    driver.say("orga", 'umfrage "Welches Thema?" "Wohnen" "Pflege" sofort')
    driver.say("anna", "abstimmen 1 2")
    driver.say("bert", "abstimmen 1 2")
    html = await _page(web_bot, driver)
    assert "Umfrage 1: Welches Thema?" in html and "2 Stimmzettel abgegeben" in html
    assert '<svg class="chart"' in html and 'role="img"' in html
    assert "Ergebnis von Umfrage 1: Wohnen 0, Pflege 2</title>" in html
    assert "<td>2. Pflege</td><td>2</td>" in html
    participant = await _page(web_bot, driver, "anna")  # the chat shows it to members too
    assert "Wohnen 0, Pflege 2" in participant


async def test_an_anonymous_poll_shows_nothing_before_close_and_not_below_k(
    driver: Driver, web_bot: Bot
) -> None:
    world(driver)
    driver.say("orga", 'umfrage "Geheim?" "Ja" "Nein" anonym sofort')
    driver.say("anna", "abstimmen 1 1", dm=True)
    driver.say("bert", "abstimmen 1 2", dm=True)
    open_page = await _page(web_bot, driver)
    assert "2 Stimmzettel abgegeben" in open_page
    assert "<svg" not in open_page and "<td>1. Ja</td>" not in open_page
    assert "Ergebnis nach dem Schluss, wenn mindestens 3 Stimmzettel" in open_page
    driver.say("orga", "umfrage 1 schliessen ja")
    closed = await _page(web_bot, driver)
    assert "geschlossen" in closed and "<svg" not in closed
    assert "Zu wenige Stimmzettel (2) für ein anonymes Ergebnis" in closed


async def test_a_closed_anonymous_poll_from_k_ballots_shows_the_result(
    driver: Driver, web_bot: Bot
) -> None:
    world(driver)
    driver.say("orga", "bestaetigen @cora")
    driver.say("orga", 'umfrage "Geheim?" "Ja" "Nein" anonym sofort')
    for user, choice in (("anna", 1), ("bert", 1), ("cora", 2)):
        driver.say(user, f"abstimmen 1 {choice}", dm=True)
    assert "<svg" not in await _page(web_bot, driver)
    driver.say("orga", "umfrage 1 schliessen ja")
    html = await _page(web_bot, driver)
    assert "Ergebnis von Umfrage 1: Ja 2, Nein 1</title>" in html


async def test_the_poll_csv_is_the_chat_export_and_a_participant_may_not_have_it(
    driver: Driver, web_bot: Bot
) -> None:
    from tests.web.support import csrf_of

    world(driver)
    driver.say("orga", 'umfrage "Welches Thema?" "Wohnen" "Pflege" sofort')
    driver.say("anna", "abstimmen 1 2")
    async with client_for(web_bot) as client:
        html = await log_in(client, login_link(driver, "orga"))
        page = await (await client.get("/umfragen")).text()
        assert 'action="/umfragen/export"' in page
        answer = await client.post("/umfragen/export", data={"csrf": csrf_of(html), "umfrage": "1"})
        body = (await answer.read()).decode("utf-8-sig")
        assert answer.headers["Content-Disposition"] == 'attachment; filename="umfrage-1.csv"'
        assert body.splitlines()[0] == "umfrage,frage,nummer,option,stimmen,anteil"
        assert "Pflege" in body
        missing = await client.post(
            "/umfragen/export", data={"csrf": csrf_of(html), "umfrage": "7"}
        )
        assert missing.status == 404 and "7" in await missing.text()
    async with client_for(web_bot) as client:
        html = await log_in(client, login_link(driver, "anna"))
        page = await (await client.get("/umfragen")).text()
        assert "/umfragen/export" not in page
        refused = await client.post(
            "/umfragen/export", data={"csrf": csrf_of(html), "umfrage": "1"}
        )
        assert refused.status == 403
