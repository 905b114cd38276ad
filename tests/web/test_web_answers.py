"""One-time answer links in DM prompts: answering a poll or the attendance question on a page
without logging in, through the chat's own services (SQLite and PostgreSQL)."""

from __future__ import annotations

import json
import re
from datetime import timedelta
from typing import Any

from aiohttp.test_utils import TestClient
from sqlalchemy import select

from app import Bot, build_bot
from bot.clock import SimulatedClock
from bot.services.answer_links import csrf_for
from bot.services.web_login import digest
from storage.models import FeedbackResponse, OutboxMessage, Poll
from storage.models_answers import WebAnswerLink
from tests.helpers import Driver, make_settings, signup
from tests.test_polls_anonymity import _rows_naming_voters, _snapshot
from tests.web.support import client_for, login_link, path_of, world

ANSWER_LINK = re.compile(r"(https?://\S+/antwort/[A-Za-z0-9_-]+)")
FORM_CSRF = re.compile(r'name="csrf" value="([^"]+)"')
POLL = 'umfrage "Welches Thema zuerst?" "Wohnen" "Mobilität" bis="Freitag 12 Uhr" sofort'


def answer_link(driver: Driver, user: str) -> str:
    """The answer link in the newest DM to ``user``."""
    dms = [
        s.text for s in driver.messenger.transcript if s.kind == "dm" and s.target.endswith(user)
    ]
    found = ANSWER_LINK.findall(dms[-1]) if dms else []
    assert found, dms[-1:] or "no DM"
    return str(found[-1])


def token_of(link: str) -> str:
    return link.rsplit("/", 1)[1]


async def open_page(client: TestClient[Any, Any], link: str, **headers: str) -> tuple[int, str]:
    shown = await client.get(path_of(link), headers=headers)
    return shown.status, await shown.text()


async def post_answer(
    client: TestClient[Any, Any], link: str, data: dict[str, str], *, csrf: bool = True
) -> tuple[int, str]:
    _status, page = await open_page(client, link)
    form = {"token": token_of(link), **data}
    if csrf:  # from the page's form; a closed item's page has none, the value is the same
        form["csrf"] = (FORM_CSRF.findall(page) or [csrf_for(token_of(link))])[0]
    answer = await client.post("/antwort", data=form)
    return answer.status, await answer.text()


def everything_stored(bot: Bot) -> str:
    return json.dumps(_snapshot(bot), ensure_ascii=False)


async def test_a_nudge_link_votes_shows_the_vote_again_and_changes_it(
    driver: Driver, web_bot: Bot
) -> None:
    world(driver)
    driver.say("orga", POLL)
    assert "Erinnerung an 2 Person(en)" in driver.say("orga", "nachfassen umfrage 1")
    link = answer_link(driver, "anna")
    assert link.startswith("http://stadtlabor.example.org/antwort/")
    token = token_of(link)
    stored = everything_stored(web_bot)
    assert token not in stored and digest(token) in stored  # only the hash, also not in outbox
    async with client_for(web_bot) as client:
        status, page = await open_page(client, link)
        assert status == 200 and "Welches Thema zuerst?" in page
        assert "Sie haben noch nicht abgestimmt." in page
        status, page = await post_answer(client, link, {"option": "2"})
        assert status == 200 and "Ihre Stimme ist gezählt: 2. Mobilität" in page
        status, page = await open_page(client, link)  # again: the vote, changeable
        assert "Ihre Stimme: 2" in page and 'value="2" checked' in page
        status, page = await post_answer(client, link, {"option": "1"})
        assert "Ihre Stimme ist geändert: 1. Wohnen" in page
    # the chat sees the same ballot: one ballot, and the post was refreshed in place
    assert "Sie haben abgestimmt" in driver.say("anna", "umfragen")
    shown = driver.say("orga", "umfrage 1")
    assert "1 Stimmzettel" in shown or "(1 Stimme)" in shown, shown
    assert any(s.kind == "update" for s in driver.messenger.transcript)


async def test_a_prompt_carries_a_link_only_when_the_web_pages_are_on(
    db_url: str, clock: SimulatedClock
) -> None:
    plain = build_bot(make_settings(db_url, organizers="console:orga"), clock)
    try:
        driver = Driver(plain)
        world(driver)
        driver.say("orga", POLL)
        driver.say("orga", "nachfassen umfrage 1")
        dms = [s.text for s in driver.messenger.transcript if s.target.endswith("anna")]
        assert "Umfrage 1" in dms[-1] and "/antwort/" not in dms[-1]
        with plain.uow_factory() as uow:
            assert uow.session.scalars(select(WebAnswerLink)).all() == []
            kinds = set(uow.session.scalars(select(OutboxMessage.operation)))
            assert "refresh" not in kinds  # the prompt went as a plain DM
    finally:
        plain.engine.dispose()


async def test_tampered_foreign_and_stale_links_are_refused(driver: Driver, web_bot: Bot) -> None:
    world(driver)
    driver.say("orga", POLL)
    driver.say("orga", 'umfrage "Zweite Frage?" "Ja" "Nein" sofort')
    driver.say("orga", "nachfassen umfrage 1")
    link = answer_link(driver, "anna")
    token = token_of(link)
    tampered = link[:-1] + ("A" if link[-1] != "A" else "B")
    login = login_link(driver, "bert")
    async with client_for(web_bot) as client:
        status, page = await open_page(client, tampered)
        assert status == 403 and "ungültig oder abgelaufen" in page
        status, page = await open_page(client, tampered, **{"Accept-Language": "en-GB"})
        assert status == 403 and "invalid or has expired" in page
        # a login link is no answer link, and an answer link logs nobody in
        status, _page = await open_page(client, login.replace("/anmelden/", "/antwort/"))
        assert status == 403
        status, _page = await open_page(client, link.replace("/antwort/", "/anmelden/"))
        assert status == 403
        # the form's CSRF value is bound to the link
        status, page = await post_answer(client, link, {"option": "1"}, csrf=False)
        assert status == 403 and "veraltet" in page
        other = await client.post(
            "/antwort", data={"token": token, "csrf": "x" * 40, "option": "1"}
        )
        assert other.status == 403
        # fields naming another person or poll change nothing: the token alone names them
        with web_bot.uow_factory() as uow:
            bert = uow.persons.get_by_identity("console", "bert")
            assert bert is not None
            bert_id = bert.id
        status, page = await post_answer(
            client, link, {"option": "1", "person": str(bert_id), "umfrage": "2", "item": "2"}
        )
        assert status == 200 and "gezählt" in page
    assert "noch nicht abgestimmt" in driver.say("bert", "umfragen").split("\n")[0]
    listing = driver.say("anna", "umfragen")
    assert "1. Welches Thema zuerst? — offen – Sie haben abgestimmt" in listing
    assert "2. Zweite Frage? — offen – Sie haben noch nicht abgestimmt" in listing


async def test_a_closed_poll_says_so_and_takes_no_vote(driver: Driver, web_bot: Bot) -> None:
    world(driver)
    driver.say("orga", POLL)
    driver.say("orga", "nachfassen umfrage 1")
    anna, bert = answer_link(driver, "anna"), answer_link(driver, "bert")
    async with client_for(web_bot) as client:
        await post_answer(client, anna, {"option": "2"})
        _status, form_page = await open_page(client, bert)
        driver.say("orga", "umfrage 1 schliessen")
        status, page = await open_page(client, bert)
        assert status == 200 and "Diese Umfrage ist geschlossen" in page
        assert "<form" not in page.split("</header>")[1]  # no answer form any more
        assert "Mobilität</td><td>1</td>" in page  # what happened: the result, as in the chat
        late = await client.post(
            "/antwort",
            data={
                "token": token_of(bert),
                "csrf": FORM_CSRF.findall(form_page)[0],
                "option": "1",
            },
        )
        assert late.status == 400 and "geschlossen" in await late.text()
        _status, own = await open_page(client, anna)
        assert "Ihre Stimme: 2" in own  # a named poll: the owner's vote stays visible to them
    shown = driver.say("orga", "umfrage 1")
    assert "Wohnen — ░" in shown or "Wohnen — 0" in shown or "0 %" in shown, shown


async def test_a_page_never_shows_other_peoples_answers(driver: Driver, web_bot: Bot) -> None:
    world(driver)
    driver.say("orga", 'umfrage "Geheim bis Schluss?" "Hafen" "Altstadt" ergebnis=ende sofort')
    driver.say("orga", "nachfassen umfrage 1")
    anna, bert = answer_link(driver, "anna"), answer_link(driver, "bert")
    async with client_for(web_bot) as client:
        await post_answer(client, anna, {"option": "2"})
        _status, page = await open_page(client, bert)
    assert "Sie haben noch nicht abgestimmt." in page
    assert "Anna" not in page and "Ihre Stimme" not in page and "<table" not in page


async def test_attendance_by_link_like_teilnahme_in_the_chat(driver: Driver, web_bot: Bot) -> None:
    world(driver)
    driver.say("orga", 'treffen anlegen titel="Auftakt" von="1.3.2027 10:00" bis="2.3.2027 16:00"')
    assert "Erinnerung an 2" in driver.say("orga", "nachfassen teilnahme 1")
    link = answer_link(driver, "anna")
    async with client_for(web_bot) as client:
        status, page = await open_page(client, link)
        assert status == 200 and "Treffen 1: Auftakt" in page and 'name="tag-2"' in page
        status, page = await post_answer(client, link, {"aktion": "kommen"})
        assert status == 400 and "kreuzen Sie die Tage an" in page
        status, page = await post_answer(
            client, link, {"aktion": "kommen", "tag-1": "1", "essen": "vegetarisch"}
        )
        assert status == 200 and "Sie kommen (Tag 1)" in page
        assert "Ihre Rückmeldung: Sie kommen an Tag 1." in page and 'value="vegetarisch"' in page
        assert "Sie kommen (Tag 1). Essen: vegetarisch" in driver.say("anna", "teilnahme 1")
        status, page = await post_answer(client, link, {"aktion": "absagen"})
        assert "Sie sagen ab" in page
        assert "Sie sagen ab" in driver.say("anna", "teilnahme 1")
        driver.say("orga", "teilnahme 1 schliessen")
        status, page = await open_page(client, link)
        assert "keine Rückmeldungen mehr" in page and 'name="tag-1"' not in page
        status, page = await post_answer(client, link, {"aktion": "kommen", "tag-1": "1"})
        assert status == 400 and "sind geschlossen" in page
    assert "Sie sagen ab" in driver.say("anna", "teilnahme 1")


async def test_pages_and_links_in_english_for_english_speakers(
    driver: Driver, web_bot: Bot
) -> None:
    world(driver)
    driver.say("anna", "sprache en")
    driver.say("orga", POLL)
    driver.say("orga", "nachfassen umfrage 1")
    dms = [s.text for s in driver.messenger.transcript if s.target.endswith("anna")]
    assert "Answer without the chat:" in dms[-1], dms[-1]
    link = answer_link(driver, "anna")
    async with client_for(web_bot) as client:
        status, page = await open_page(client, link, **{"Accept-Language": "de"})
        assert status == 200 and 'lang="en"' in page and "You have not voted yet." in page
        status, page = await post_answer(client, link, {"option": "1"})
        assert "Your vote has been counted: 1. Wohnen" in page


ANON = {"anna": 1, "ben": 2, "cara": 1, "dora": 1}


async def test_an_anonymous_poll_answered_by_link_is_sealed_like_the_chat(
    web_bot: Bot, clock: SimulatedClock
) -> None:
    driver = Driver(web_bot)
    driver.say("orga", 'jahrgang anlegen "Anonym" plaetze=5')
    for name in [*ANON, "emil"]:
        driver.say(name, signup(name))
    before = _snapshot(web_bot)
    driver.say("orga", 'umfrage "Geheim?" "Hafen" "Altstadt" anonym bis="Freitag 12 Uhr" sofort')
    driver.say("orga", "nachfassen umfrage 1")
    links = {name: answer_link(driver, name) for name in ANON}
    with web_bot.uow_factory() as uow:
        ids = {n: p.id for n in ANON if (p := uow.persons.get_by_identity("console", n))}
    async with client_for(web_bot) as client:
        for name, choice in ANON.items():
            clock.advance(timedelta(minutes=11))
            status, page = await post_answer(client, links[name], {"option": str(choice)})
            assert status == 200 and "gezählt" in page
        clock.advance(timedelta(minutes=3))
        status, page = await open_page(client, links["ben"])
        assert "Ihre Stimme: 2" in page and "<table" not in page  # own only, no result yet
        clock.advance(timedelta(minutes=7))
        assert "ist geschlossen" in driver.say("orga", "umfrage 1 schliessen")
        status, page = await open_page(client, links["ben"])
        assert status == 200 and "Diese Umfrage ist geschlossen" in page
        assert "Ihre Stimme" not in page and "Hafen</td><td>3</td>" in page
        status, page = await post_answer(client, links["ben"], {"option": "1"})
        assert status == 400 and "Diese Frage ist geschlossen" in page
    assert _rows_naming_voters(before, web_bot, ids) == []
    with web_bot.uow_factory() as uow:
        rows = uow.session.scalars(select(WebAnswerLink)).all()
        closed_at = uow.session.scalars(select(Poll.closed_at)).one()
        assert len(rows) == 5 and {r.person_id for r in rows} == {None}
        assert {r.created_at for r in rows} == {closed_at}


ROUND = 'feedback starten titel="Quartier" fuer=@anna bis="in 7 Tagen" sofort'


async def test_a_feedback_prompt_link_answers_shows_and_edits_the_answers(
    driver: Driver, web_bot: Bot
) -> None:
    world(driver)
    driver.say("orga", ROUND)
    link = answer_link(driver, "bert")  # the round's own prompt DM
    async with client_for(web_bot) as client:
        status, page = await open_page(client, link)
        assert status == 200 and "Feedbackrunde 1: Quartier" in page
        assert "Was hat Sie überzeugt?" in page and 'name="antwort-3"' in page
        typed = {"antwort-1": "Der Mut", "antwort-2": "", "antwort-3": "Früh beteiligen"}
        status, page = await post_answer(client, link, typed)
        assert status == 400 and "Frage 2 ist leer" in page
        assert ">Der Mut</textarea>" in page  # what was typed is shown again
        typed["antwort-2"] = "Die Kosten"
        status, page = await post_answer(client, link, typed)
        assert status == 200 and "Ihre Antworten sind gespeichert" in page
        status, page = await open_page(client, link)
        assert "Sie haben geantwortet." in page and ">Die Kosten</textarea>" in page
        status, page = await post_answer(client, link, {**typed, "antwort-2": "Der Zeitplan"})
        assert "Ihre Antworten sind geändert" in page
    with web_bot.uow_factory() as uow:  # stored by the chat's service, edited in place
        stored = uow.session.scalars(select(FeedbackResponse)).one()
        assert stored.answers["answers"] == ["Der Mut", "Der Zeitplan", "Früh beteiligen"]
    driver.say("orga", "feedback 1 schliessen")
    async with client_for(web_bot) as client:
        status, page = await open_page(client, link)
        assert "Diese Feedbackrunde ist geschlossen" in page and "<textarea" not in page
        status, page = await post_answer(client, link, typed)
        assert status == 400 and "geschlossen" in page


async def test_an_anonymous_round_answered_by_link_keeps_no_author(
    driver: Driver, web_bot: Bot
) -> None:
    driver.say("orga", 'jahrgang anlegen "Anonym" plaetze=5')
    for name in ("anna", "bert", "cora", "dora", "emil"):
        driver.say(name, signup(name))  # anna presents, three answer (k = 3), emil does not
    before = _snapshot(web_bot)
    driver.say("orga", ROUND.replace(" sofort", " anonym sofort"))
    with web_bot.uow_factory() as uow:
        ids = {
            n: p.id
            for n in ("bert", "cora", "dora")
            if (p := uow.persons.get_by_identity("console", n))
        }
    async with client_for(web_bot) as client:
        for name in ids:
            link = answer_link(driver, name)
            answers = {f"antwort-{i}": f"{name} sagt {i}" for i in (1, 2, 3)}
            status, page = await post_answer(client, link, answers)
            assert status == 200, page
    driver.say("orga", "feedback 1 schliessen")
    assert _rows_naming_voters(before, web_bot, ids) == []
    with web_bot.uow_factory() as uow:
        rows = uow.session.scalars(select(WebAnswerLink)).all()
        assert len(rows) == 4 and {r.person_id for r in rows} == {None}


async def test_scheduled_prompts_carry_the_link_and_it_answers(
    driver: Driver, web_bot: Bot, clock: SimulatedClock
) -> None:
    """The poll's own reminder (24 h before its deadline) and the attendance question (21
    days before a meeting) go out with their links when they fall due."""
    world(driver)
    driver.say("orga", POLL)  # Friday 12:00: the reminder is due Thursday 12:00
    driver.say(
        "orga", 'treffen anlegen titel="Winter" von="17.12.2026 10:00" bis="17.12.2026 16:00"'
    )
    clock.advance(timedelta(days=1, hours=1))  # Thursday 13:00, three weeks before minus a day
    web_bot.due.run_due(clock.now())
    driver.flush()
    to_anna = [s.text for s in driver.messenger.transcript if s.target.endswith("anna")]
    reminder = next(t for t in to_anna if t.startswith("Erinnerung: Umfrage 1"))
    question = next(t for t in to_anna if t.startswith("Kommen Sie zu Treffen 1"))
    poll_link, meeting_link = ANSWER_LINK.findall(reminder)[0], ANSWER_LINK.findall(question)[0]
    assert "längstens bis Freitag, 27. November 2026, 12:00 Uhr" in reminder
    async with client_for(web_bot) as client:
        status, page = await post_answer(client, poll_link, {"option": "1"})
        assert status == 200 and "gezählt" in page
        status, page = await post_answer(client, meeting_link, {"aktion": "absagen"})
        assert status == 200 and "Sie sagen ab" in page
    assert "Sie sagen ab" in driver.say("anna", "teilnahme 1")


async def test_vergessen_deletes_the_links_and_the_prompts_like_other_dms(
    driver: Driver, web_bot: Bot
) -> None:
    world(driver)
    driver.say("orga", POLL)
    driver.say("orga", "nachfassen umfrage 1")
    link = answer_link(driver, "anna")
    mine = driver.say("anna", "meine-daten", dm=True)
    files = [s for s in driver.messenger.transcript if s.filename and s.target.endswith("anna")]
    exported = (files[-1].content or b"").decode("utf-8-sig") if files else mine
    assert "web_antwortlinks" in exported and '"art": "umfrage"' in exported
    with web_bot.uow_factory() as uow:
        anna = uow.persons.get_by_identity("console", "anna")
        assert anna is not None
        anna_id = anna.id
    assert "gelöscht" in driver.say("anna", "vergessen ja")
    with web_bot.uow_factory() as uow:
        assert (
            uow.session.scalars(
                select(WebAnswerLink).where(WebAnswerLink.person_id == anna_id)
            ).all()
            == []
        )
        prompt = uow.outbox.get_by_key(f"nudge:umfrage:1:{anna_id}:2026-11-25")
        assert prompt is not None and prompt.payload == {}  # what was sent to her goes
    async with client_for(web_bot) as client:
        status, _page = await open_page(client, link)
        assert status == 403


async def test_multiple_choice_and_withdrawing_by_link(driver: Driver, web_bot: Bot) -> None:
    world(driver)
    driver.say("orga", 'umfrage "Welche zwei?" "Wohnen" "Mobilität" "Pflege" mehrfach=2 sofort')
    driver.say("orga", "nachfassen umfrage 1")
    link = answer_link(driver, "anna")
    async with client_for(web_bot) as client:
        _status, page = await open_page(client, link)
        assert 'type="checkbox" name="option-3"' in page and "höchstens 2" in page
        everything = {"option-1": "1", "option-2": "1", "option-3": "1"}
        status, page = await post_answer(client, link, everything)
        assert status == 400 and "höchstens 2 Optionen" in page  # the chat's own refusal
        status, page = await post_answer(client, link, {"option-1": "1", "option-3": "1"})
        assert status == 200 and "Ihre Stimme ist gezählt: 1. Wohnen, 3. Pflege" in page
        assert "Ihre Stimme: 1, 3" in page
        status, page = await post_answer(client, link, {"aktion": "zurueckziehen"})
        assert status == 200 and "Ihre Stimme ist zurückgezogen." in page
        assert "Sie haben noch nicht abgestimmt." in page
    assert "Sie haben noch nicht abgestimmt" in driver.say("anna", "umfragen")
