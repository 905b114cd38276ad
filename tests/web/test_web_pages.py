"""What the pages show, and how many statements they cost (no N+1)."""

from __future__ import annotations

import re

from app import Bot
from tests.helpers import Driver
from tests.web import seed
from tests.web.support import client_for, counted, log_in, login_link


async def test_the_overview_shows_seats_meetings_polls_and_rounds(
    driver: Driver, web_bot: Bot
) -> None:
    users = seed.cohort(driver, "Stadtlabor 2027", people=6, meetings=2, polls=2, rounds=1)
    async with client_for(web_bot) as client:
        html = await log_in(client, login_link(driver, "orga"))
    assert "Jahrgang „Stadtlabor 2027“" in html
    assert re.search(r'<progress value="6" max="6" aria-label="Belegte Plätze">', html)
    assert "Treffen 1" in html and "Treffen 2" in html
    assert 'aria-label="Rückmeldungen zu Treffen 1"' in html
    assert re.search(r'<progress value="3" max="6" aria-label="Rückmeldungen zu Treffen 1">', html)
    assert re.search(r'<progress value="2" max="6" aria-label="Stimmen in Umfrage 1">', html)
    # a round: the presenter does not answer, so 5 may; nobody has answered yet
    assert re.search(r'<progress value="0" max="5" aria-label="Antworten in Runde 1">', html)
    assert "Runde 1" in html and users[1].title() in html  # presented by users[1 % 6]


async def test_the_overview_speaks_english_to_english_organisers(
    driver: Driver, web_bot: Bot
) -> None:
    seed.cohort(driver, "Stadtlabor 2027", people=2, meetings=1, polls=1, rounds=0)
    driver.say("orga", "sprache en")
    async with client_for(web_bot) as client:
        html = await log_in(client, login_link(driver, "orga"))
    assert '<html lang="en">' in html
    assert "Cohort “Stadtlabor 2027”" in html and "Seats and registration" in html
    assert "Plätze" not in html and "Treffen 1" in html  # titles are the organisers' text
    assert "Saturday, 1 March 2027, 10:00" not in html  # dates in English, Berlin time:
    assert "Monday, 1 March 2027, 10:00" in html


async def test_the_overview_costs_the_same_statements_for_a_bigger_cohort(
    driver: Driver, web_bot: Bot
) -> None:
    users = seed.cohort(driver, "Stadtlabor 2027", people=4, meetings=1, polls=1, rounds=1)
    async with client_for(web_bot) as client:
        await log_in(client, login_link(driver, "orga"))
        with counted(web_bot) as small:
            assert (await client.get("/jahrgang")).status == 200
            assert (await client.get("/teilnehmende")).status == 200
        for i in range(8):
            driver.say(f"more{i}", seed.signup(f"more{i}"))
        seed.add(driver, users, meetings=2, polls=5, rounds=3, first=2)
        with counted(web_bot) as big:
            html = await (await client.get("/jahrgang")).text()
            assert (await client.get("/teilnehmende")).status == 200
    assert "Frage 6?" in html and "Runde 4" in html and "Treffen 3" in html
    assert len(big) == len(small), "\n".join(big)
    assert len(small) <= 22, "\n".join(small)  # both pages, transaction statements included


async def test_mein_stadtlabor_shows_the_registration_meeting_and_open_items(
    driver: Driver, web_bot: Bot
) -> None:
    users = seed.cohort(driver, "Stadtlabor 2027", people=3, meetings=1, polls=1, rounds=1)
    me = users[2]  # has neither voted nor answered attendance
    async with client_for(web_bot) as client:
        html = await log_in(client, login_link(driver, me))
        assert "Mein Stadtlabor" in html
        assert "ist bestätigt (Platz 3 von 3)" in html
        assert "Treffen 1" in html and "fehlt noch" in html
        assert "Umfrage 1: Frage 1?" in html
        ics = await client.get("/kalender.ics")
        body = await ics.text()
    assert ics.status == 200 and ics.headers["Content-Type"].startswith("text/calendar")
    assert "attachment" in ics.headers["Content-Disposition"]
    assert "BEGIN:VEVENT" in body and "Treffen 1" in body


async def test_the_participants_csv_is_a_download(driver: Driver, web_bot: Bot) -> None:
    seed.cohort(driver, "Stadtlabor 2027", people=2, meetings=0, polls=0, rounds=0)
    async with client_for(web_bot) as client:
        await log_in(client, login_link(driver, "orga"))
        answer = await client.get("/teilnehmende.csv")
        body = (await answer.read()).decode("utf-8-sig")
    assert answer.headers["Content-Disposition"] == 'attachment; filename="teilnehmende.csv"'
    assert body.splitlines()[0].startswith("name,kommune,funktion,email")
    assert "stadtlabor-p0@example.org" in body
