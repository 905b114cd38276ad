"""The audit log and the feedback rounds with their exports on the web page: organisers
only, the chat's rules for what an export may contain."""

from __future__ import annotations

from app import Bot
from tests.helpers import Driver
from tests.web import seed
from tests.web.support import client_for, log_in, login_link


async def test_the_audit_log_shows_the_programme_teams_actions(
    driver: Driver, web_bot: Bot
) -> None:
    users = seed.cohort(driver, "Stadtlabor 2027", people=3, meetings=0, polls=0, rounds=0)
    driver.say("orga", f"gastgeber @{users[1]} ja")
    async with client_for(web_bot) as client:
        await log_in(client, login_link(driver, "orga"))
        html = await (await client.get("/protokoll")).text()
    assert "Protokoll des Jahrgangs „Stadtlabor 2027“" in html
    assert 'href="/protokoll"' in html
    assert users[1].title() in html  # the subject of the host change
    async with client_for(web_bot) as client:
        mine = await log_in(client, login_link(driver, users[0]))
        refused = await client.get("/protokoll")
    assert refused.status == 403
    assert 'href="/protokoll"' not in mine and 'href="/feedback"' not in mine


async def test_feedback_exports_follow_the_chats_rules(driver: Driver, web_bot: Bot) -> None:
    users = seed.cohort(driver, "Stadtlabor 2027", people=4, meetings=0, polls=0, rounds=0)
    driver.say("orga", f'feedback starten titel="Offen" fuer=@{users[0]} bis="in 7 Tagen" sofort')
    driver.say(
        "orga",
        f'feedback starten titel="Geheim" fuer=@{users[1]} bis="in 7 Tagen" anonym=ja sofort',
    )
    answered = driver.say(users[2], "feedback 1 antworten 1. Klar\n2. Mehr Zahlen\n3. Ja", dm=True)
    assert "gespeichert" in answered.lower() or "danke" in answered.lower(), answered
    driver.say(users[2], "feedback 2 antworten 1. Geheimsache\n2. b\n3. c", dm=True)
    async with client_for(web_bot) as client:
        await log_in(client, login_link(driver, "orga"))
        html = await (await client.get("/feedback")).text()
        named = await client.get("/feedback/1.md")
        named_text = await named.text()
        secret = await (await client.get("/feedback/2.md")).text()
        secret_csv = await (await client.get("/feedback/2.csv")).text()
        missing = await client.get("/feedback/9.md")
        wrong = await client.get("/feedback/1.pdf")
    assert "Offen" in html and "Geheim" in html and "(anonym)" in html
    assert named.status == 200 and named.headers["Content-Type"].startswith("text/markdown")
    assert "Mehr Zahlen" in named_text and "P2 Muster" in named_text  # named round: with author
    assert "Geheimsache" not in secret and "P2 Muster" not in secret  # not published yet
    assert "Geheimsache" not in secret_csv
    assert missing.status == 404 and wrong.status == 404
    async with client_for(web_bot) as client:
        await log_in(client, login_link(driver, users[3]))
        assert (await client.get("/feedback")).status == 403
        assert (await client.get("/feedback/1.md")).status == 403
