"""The web pages' login and security: one-time links, sessions, roles, CSRF, headers."""

from __future__ import annotations

from datetime import timedelta

from app import Bot
from bot.clock import SimulatedClock
from bot.services.web_login import digest
from storage.models import AuditEntry
from storage.models_web import WebLoginToken, WebSession
from tests.helpers import Driver
from tests.web.support import (
    client_for,
    csrf_of,
    log_in,
    login_link,
    path_of,
    world,
)

COOKIE = "stadtlabor_sitzung"


async def test_the_link_logs_in_once_and_the_token_is_stored_hashed(
    driver: Driver, web_bot: Bot
) -> None:
    world(driver)
    link = login_link(driver, "orga")
    token = link.rsplit("/", 1)[1]
    assert link.startswith("http://stadtlabor.example.org/anmelden/") and len(token) >= 43
    with web_bot.uow_factory() as uow:
        stored = uow.session.query(WebLoginToken).one()
        assert stored.token_hash == digest(token) and token not in stored.token_hash
    async with client_for(web_bot) as client:
        html = await log_in(client, link)
        assert "Jahrgang „Stadtlabor 2027“" in html
        again = await client.get(path_of(link))
        assert again.status == 403 and "schon benutzt" in await again.text()
        spent = await client.post("/anmelden", data={"token": token})
        assert spent.status == 403


async def test_a_session_cookie_is_httponly_secure_lax_and_the_id_is_stored_hashed(
    driver: Driver, web_bot: Bot
) -> None:
    world(driver)
    plain = login_link(driver, "orga").rsplit("/", 1)[1]
    web_bot.settings.web_url = "https://stadtlabor.example.org"
    secure = login_link(driver, "orga").rsplit("/", 1)[1]
    headers = []
    async with client_for(web_bot) as client:
        answer = await client.post("/anmelden", data={"token": secure}, allow_redirects=False)
        assert answer.status == 303 and answer.headers["Location"] == "/"
        headers.append(answer.headers["Set-Cookie"])
        session_id = answer.cookies[COOKIE].value
    web_bot.settings.web_url = "http://stadtlabor.example.org"
    async with client_for(web_bot) as client:
        answer = await client.post("/anmelden", data={"token": plain}, allow_redirects=False)
        headers.append(answer.headers["Set-Cookie"])
    for header in headers:
        assert "HttpOnly" in header and "SameSite=Lax" in header and "Max-Age=28800" in header
    assert "Secure" in headers[0] and "Secure" not in headers[1]  # Secure with https only
    with web_bot.uow_factory() as uow:
        hashes = {row.session_hash for row in uow.session.query(WebSession)}
        assert digest(session_id) in hashes and session_id not in hashes


async def test_an_expired_link_is_refused(
    driver: Driver, web_bot: Bot, clock: SimulatedClock
) -> None:
    world(driver)
    link = login_link(driver, "orga")
    clock.advance(timedelta(minutes=15, seconds=1))
    async with client_for(web_bot) as client:
        shown = await client.get(path_of(link))
        assert shown.status == 403 and "abgelaufen" in await shown.text()
        posted = await client.post("/anmelden", data={"token": link.rsplit("/", 1)[1]})
        assert posted.status == 403
        assert (await client.get("/jahrgang")).status == 401


async def test_a_forged_token_and_a_forged_cookie_are_refused(driver: Driver, web_bot: Bot) -> None:
    world(driver)
    link = login_link(driver, "orga")
    token = link.rsplit("/", 1)[1]
    forged = token[:-1] + ("A" if token[-1] != "A" else "B")
    async with client_for(web_bot) as client:
        assert (await client.get(f"/anmelden/{forged}")).status == 403
        assert (await client.post("/anmelden", data={"token": forged})).status == 403
        client.session.cookie_jar.update_cookies({COOKIE: "made-up"})
        page = await client.get("/jahrgang")
        assert page.status == 401 and "dashboard" in await page.text()
        # the real link still works: a wrong guess does not spend it
        await log_in(client, link)


async def test_a_session_id_set_before_login_is_not_kept(driver: Driver, web_bot: Bot) -> None:
    """Session fixation: the attacker plants a cookie, the victim logs in; the planted value
    must not become a logged-in session (not even when it was a real session before)."""
    world(driver)
    async with client_for(web_bot) as attacker:
        await log_in(attacker, login_link(driver, "anna"))
        planted = attacker.session.cookie_jar.filter_cookies(attacker.make_url("/"))[COOKIE].value
    async with client_for(web_bot) as victim:
        victim.session.cookie_jar.update_cookies({COOKIE: planted})
        await log_in(victim, login_link(driver, "orga"))
        now = victim.session.cookie_jar.filter_cookies(victim.make_url("/"))[COOKIE].value
        assert now != planted
    async with client_for(web_bot) as attacker:
        attacker.session.cookie_jar.update_cookies({COOKIE: planted})
        assert (await attacker.get("/jahrgang")).status == 401
        assert (await attacker.get("/mein")).status == 401


async def test_a_participant_gets_403_on_organiser_pages_and_sees_their_own(
    driver: Driver, web_bot: Bot
) -> None:
    world(driver)
    async with client_for(web_bot) as client:
        html = await log_in(client, login_link(driver, "anna"))
        assert "Mein Stadtlabor" in html and "Platz 1 von 3" in html
        for path in ("/jahrgang", "/teilnehmende", "/teilnehmende.csv"):
            page = await client.get(path)
            assert page.status == 403, path
            assert "Programmteam vorbehalten" in await page.text()
        posted = await client.post(
            "/teilnehmende/entscheidung",
            data={"csrf": csrf_of(html), "person": "3", "aktion": "bestaetigen"},
        )
        assert posted.status == 403
    assert "Cora Muster" not in driver.say("orga", "teilnehmende").split("Warteliste")[0]


async def test_the_role_is_read_on_each_request(driver: Driver, web_bot: Bot) -> None:
    """A role given in the chat applies to the next click of an open session."""
    world(driver)
    async with client_for(web_bot) as client:
        await log_in(client, login_link(driver, "anna"))
        assert (await client.get("/teilnehmende")).status == 403
        driver.say("orga", "rolle @anna organisation")
        assert (await client.get("/teilnehmende")).status == 200
        driver.say("orga", "rolle @anna teilnehmend")
        assert (await client.get("/teilnehmende")).status == 403


async def test_confirming_on_the_page_uses_the_chat_service_and_needs_the_csrf_token(
    driver: Driver, web_bot: Bot
) -> None:
    world(driver)
    async with client_for(web_bot) as client:
        await log_in(client, login_link(driver, "orga"))
        page = await client.get("/teilnehmende")
        html = await page.text()
        assert "Cora Muster" in html and "wartet auf Bestätigung" in html
        with web_bot.uow_factory() as uow:
            cora = uow.persons.get_by_identity("console", "cora")
            assert cora is not None
            cora_id = cora.id
        form = {"person": str(cora_id), "aktion": "bestaetigen"}
        missing = await client.post("/teilnehmende/entscheidung", data=form)
        assert missing.status == 403 and "Formular" in await missing.text()
        wrong = await client.post("/teilnehmende/entscheidung", data={**form, "csrf": "x" * 43})
        assert wrong.status == 403
        assert "wartet auf Bestätigung" in driver.say("orga", "teilnehmende")
        done = await client.post("/teilnehmende/entscheidung", data={**form, "csrf": csrf_of(html)})
        assert done.status == 200
        text = await done.text()
        assert "Cora Muster ist bestätigt (Platz 3)." in text
        # the flash message is shown once
        assert "ist bestätigt (Platz 3)" not in await (await client.get("/teilnehmende")).text()
    with web_bot.uow_factory() as uow:
        entry = (
            uow.session.query(AuditEntry)
            .filter_by(action="bestaetigen", subject_person_id=cora_id)
            .one()
        )
        assert entry.after == {"status": "confirmed"} and entry.actor_person_id is not None
    driver.flush()  # the outbox: the same DM the chat's "bestaetigen" sends
    told = [s.text for s in driver.messenger.transcript if s.kind == "dm" and "cora" in s.target]
    assert any("Ihre Anmeldung für „Stadtlabor 2027“ ist bestätigt" in t for t in told), told


async def test_a_refusal_of_the_service_is_shown_as_its_message(
    driver: Driver, web_bot: Bot
) -> None:
    world(driver)
    driver.say("orga", "bestaetigen @cora")  # the third and last seat
    async with client_for(web_bot) as client:
        html = await log_in(client, login_link(driver, "orga"))
        with web_bot.uow_factory() as uow:
            dora = uow.persons.get_by_identity("console", "dora")
            assert dora is not None
            dora_id = dora.id
        page = await client.post(
            "/teilnehmende/entscheidung",
            data={"csrf": csrf_of(html), "person": str(dora_id), "aktion": "bestaetigen"},
        )
        assert "Alle 3 Plätze sind belegt." in await page.text()


async def test_every_answer_has_the_security_headers(driver: Driver, web_bot: Bot) -> None:
    world(driver)
    async with client_for(web_bot) as client:
        answers = [
            await client.get("/jahrgang"),  # 401
            await client.get("/anmelden/nope"),  # 403
            await client.get("/healthz"),
            await client.get("/static/style.css"),
            await client.get("/gibt-es-nicht"),  # 404 from the router
        ]
        await log_in(client, login_link(driver, "orga"))
        answers.append(await client.get("/jahrgang"))
        for answer in answers:
            csp = answer.headers["Content-Security-Policy"]
            assert "default-src 'none'" in csp and "script-src" not in csp, answer.url
            assert "'unsafe-inline'" not in csp
            assert answer.headers["X-Frame-Options"] == "DENY"
            assert answer.headers["Referrer-Policy"] == "no-referrer"
        page = answers[-1]
        assert page.headers["Cache-Control"] == "no-store"
        html = await page.text()
        assert "<script" not in html and " style=" not in html


async def test_logout_ends_the_session(driver: Driver, web_bot: Bot) -> None:
    world(driver)
    async with client_for(web_bot) as client:
        html = await log_in(client, login_link(driver, "orga"))
        assert (await client.post("/abmelden", data={})).status == 403  # CSRF
        out = await client.post("/abmelden", data={"csrf": csrf_of(html)})
        assert out.status == 200 and "abgemeldet" in await out.text()
        assert (await client.get("/jahrgang")).status == 401
    with web_bot.uow_factory() as uow:
        assert uow.session.query(WebSession).count() == 0


async def test_healthz_reports_database_and_outbox(driver: Driver, web_bot: Bot) -> None:
    world(driver)
    driver.say("orga", "dashboard")  # the DM is flushed by the driver
    async with client_for(web_bot) as client:
        answer = await client.get("/healthz")
        data = await answer.json()
    assert answer.status == 200 and data["ok"] is True and data["database"] is True
    assert data["outbox_backlog"] == 0
    if web_bot.engine.dialect.name == "postgresql":
        assert data["scheduler_leader"] is False  # no reminder engine runs in this test
    else:
        assert data["scheduler_leader"] is None


async def test_a_closed_cohort_is_read_only_on_the_page_too(driver: Driver, web_bot: Bot) -> None:
    world(driver)
    async with client_for(web_bot) as client:
        html = await log_in(client, login_link(driver, "orga"))
        driver.say("orga", "jahrgang abschliessen ja")
        with web_bot.uow_factory() as uow:
            cora = uow.persons.get_by_identity("console", "cora")
            assert cora is not None
            cora_id = cora.id
        page = await client.post(
            "/teilnehmende/entscheidung",
            data={"csrf": csrf_of(html), "person": str(cora_id), "aktion": "bestaetigen"},
        )
        text = await page.text()
        assert "ist seit" in text and "abgeschlossen" in text
        assert "Bestätigen" not in text.split("</main>")[0].split("<main")[1]  # no buttons
    assert "Link" in driver.say("orga", "dashboard")  # still possible after the end


async def test_a_form_posted_from_another_site_is_refused(driver: Driver, web_bot: Bot) -> None:
    """Login CSRF: another site's page may not log a visitor in with the attacker's link."""
    world(driver)
    token = login_link(driver, "orga").rsplit("/", 1)[1]
    async with client_for(web_bot) as client:
        foreign = await client.post(
            "/anmelden", data={"token": token}, headers={"Origin": "https://evil.example"}
        )
        assert foreign.status == 403
        assert foreign.headers["X-Frame-Options"] == "DENY"
        for site in ("cross-site", "same-site"):
            refused = await client.post(
                "/anmelden", data={"token": token}, headers={"Sec-Fetch-Site": site}
            )
            assert refused.status == 403, site
        own = f"http://{client.host}:{client.port}"
        answer = await client.post(
            "/anmelden", data={"token": token}, headers={"Origin": own}, allow_redirects=False
        )
        assert answer.status == 303  # the token was not spent by the refused attempt
