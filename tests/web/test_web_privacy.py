"""DSGVO self-service on "Mein Stadtlabor": the data copy as a download and erasure with
confirmation — the chat's services, tried as a participant who wants to see or erase more
than their own, or to erase by accident."""

from __future__ import annotations

import json

from sqlalchemy import select

from app import Bot
from storage.models import Participant, Person, PlatformIdentity
from tests.helpers import Driver
from tests.web import seed
from tests.web.support import client_for, csrf_of, log_in, login_link


def _person(bot: Bot, user: str) -> int | None:
    """The person's id while the bot still knows the identity."""
    with bot.uow_factory() as uow:
        person = uow.persons.get_by_identity("console", user)
        return None if person is None else person.id


async def test_the_data_copy_is_the_callers_own_and_complete(driver: Driver, web_bot: Bot) -> None:
    users = seed.cohort(driver, "Stadtlabor 2027", people=3, meetings=1, polls=1, rounds=0)
    me, other = users[0], users[1]
    async with client_for(web_bot) as client:
        html = await log_in(client, login_link(driver, me))
        assert 'href="/mein/daten.json"' in html and 'href="/mein/vergessen"' in html
        response = await client.get("/mein/daten.json")
        body = await response.read()
        # a query string naming someone else changes nothing: there is no such parameter
        foreign = await (await client.get(f"/mein/daten.json?person={other}")).read()
    assert response.status == 200
    assert response.headers["Content-Type"].startswith("application/json")
    assert 'filename="meine-daten.json"' in response.headers["Content-Disposition"]
    data = json.loads(body)
    assert data["person"]["name"] == me.title() + " Muster" or me.title() in data["person"]["name"]
    assert f"console:{me}" in data["kennungen"]
    assert other.title() not in body.decode("utf-8")
    assert json.loads(foreign)["kennungen"] == data["kennungen"]


async def test_erasing_needs_the_tick_and_the_csrf_token_then_erases_and_logs_out(
    driver: Driver, web_bot: Bot
) -> None:
    users = seed.cohort(driver, "Stadtlabor 2027", people=3, meetings=1, polls=1, rounds=0)
    me, other = users[2], users[0]
    other_before = _person(web_bot, other)
    assert other_before is not None
    async with client_for(web_bot) as client:
        await log_in(client, login_link(driver, me))
        form_html = await (await client.get("/mein/vergessen")).text()
        assert "Endgültig löschen" in form_html and "Anmeldungen" in form_html
        token = csrf_of(form_html)

        no_tick = await client.post("/mein/vergessen", data={"csrf": token})
        assert no_tick.status == 400
        assert "Bitte bestätigen Sie mit dem Häkchen" in await no_tick.text()
        assert _person(web_bot, me) is not None  # nothing erased

        no_csrf = await client.post("/mein/vergessen", data={"bestaetigt": "ja"})
        assert no_csrf.status == 403
        forged = await client.post(
            "/mein/vergessen", data={"bestaetigt": "ja", "csrf": "x" * len(token)}
        )
        assert forged.status == 403
        assert _person(web_bot, me) is not None

        done = await client.post(
            "/mein/vergessen",
            data={"bestaetigt": "ja", "csrf": token, "person": str(other_before)},
        )
        assert done.status == 200
        assert "Ihre Daten sind gelöscht" in await done.text()
        after = await client.get("/mein")  # the session went with the data
        assert after.status == 401

    assert _person(web_bot, me) is None  # the identity is gone: the bot does not know them
    with web_bot.uow_factory() as uow:
        still = uow.persons.get(other_before)
        assert still is not None and still.erased_at is None  # a smuggled field is ignored
        names = uow.session.scalars(select(Person.display_name)).all()
        assert me.title() not in " ".join(n or "" for n in names)
        idents = uow.session.scalars(select(PlatformIdentity.external_id)).all()
        assert me not in idents
        statuses = uow.session.scalars(
            select(Participant.status).join(Person, Person.id == Participant.person_id)
        ).all()
        assert len([s for s in statuses if s == "confirmed"]) == 2


async def test_erasure_speaks_english_to_english_participants(driver: Driver, web_bot: Bot) -> None:
    users = seed.cohort(driver, "Stadtlabor 2027", people=1, meetings=0, polls=0, rounds=0)
    driver.say(users[0], "sprache en")
    async with client_for(web_bot) as client:
        await log_in(client, login_link(driver, users[0]))
        html = await (await client.get("/mein/vergessen")).text()
        assert "Erase for good" in html and "Endgültig" not in html
        done = await client.post(
            "/mein/vergessen", data={"bestaetigt": "ja", "csrf": csrf_of(html)}
        )
        assert "Your data has been erased" in await done.text()
