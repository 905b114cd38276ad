"""Answering from a mail: poll, attendance and feedback prompts sent by e-mail carry the
one-time answer link when the web pages are on (a real SMTP server receives the mail, the
``email`` package reads it, the link is followed against the web app); without the web pages
the mail names the chat command to type."""

from __future__ import annotations

import re
from collections.abc import Iterator
from email.message import EmailMessage

import pytest

from app import Bot, build_bot
from bot.clock import SimulatedClock
from tests.helpers import Driver, make_settings, signup
from tests.support.smtp import SmtpServerDouble, smtp_server
from tests.web.support import client_for
from tests.web.test_web_answers import open_page, post_answer

BEN = "ben@beispielstadt.de"
SENDER = "Stadtlabor <stadtlabor@example.org>"
WEB_URL = "http://stadtlabor.example.org"
ADD_BEN = (
    'teilnehmende hinzufuegen name="Ben Beispiel" kommune=Beispielstadt '
    f"funktion=Beigeordneter email={BEN}"
)
LINK = re.compile(r"(http://stadtlabor\.example\.org/antwort/[A-Za-z0-9_-]+)")


@pytest.fixture
def smtp() -> Iterator[SmtpServerDouble]:
    with smtp_server() as server:
        yield server


def _bot(db_url: str, clock: SimulatedClock, smtp: SmtpServerDouble, **extra: str) -> Bot:
    settings = make_settings(
        db_url, organizers="console:orga", smtp_url=smtp.url, mail_from=SENDER, **extra
    )
    return build_bot(settings, clock)


@pytest.fixture
def web_mailbot(db_url: str, clock: SimulatedClock, smtp: SmtpServerDouble) -> Iterator[Bot]:
    built = _bot(db_url, clock, smtp, web_url=WEB_URL)
    yield built
    built.close()


def _text(mail: EmailMessage) -> str:
    body = mail.get_body(preferencelist=("plain",))
    assert isinstance(body, EmailMessage)
    return str(body.get_content())


def _mails_to_ben(smtp: SmtpServerDouble, containing: str) -> list[str]:
    return [_text(m) for m in smtp.mails() if BEN in str(m["To"]) and containing in _text(m)]


def _link(text: str) -> str:
    found = LINK.findall(text)
    assert len(found) == 1, text
    return str(found[0])


def _world(d: Driver) -> None:
    d.say("orga", 'jahrgang anlegen "Stadtlabor 2026/27" plaetze=5')
    d.say("anna", signup("anna"))
    d.say("orga", ADD_BEN)


async def test_a_poll_mail_carries_a_link_that_votes(
    web_mailbot: Bot, smtp: SmtpServerDouble
) -> None:
    d = Driver(web_mailbot)
    _world(d)
    d.say("orga", 'umfrage "Welcher Termin?" "Montag" "Dienstag" bis="in 3 Tagen" sofort')
    web_mailbot.outbox.flush()
    [text] = _mails_to_ben(smtp, "Welcher Termin?")
    link = _link(text)
    async with client_for(web_mailbot) as client:
        status, page = await open_page(client, link)
        assert status == 200 and "Welcher Termin?" in page
        status, page = await post_answer(client, link, {"option": "2"})
        assert status == 200 and "Ihre Stimme ist gezählt: 2. Dienstag" in page
    assert "(1 Stimme)" in d.say("orga", "umfrage 1") or "1 Stimmzettel" in d.say(
        "orga", "umfrage 1"
    )
    # the nudge by mail carries a new link of its own
    assert "Erinnerung an 1" in d.say("orga", "nachfassen umfrage 1")  # Ben has voted; Anna not
    web_mailbot.outbox.flush()
    assert len(_mails_to_ben(smtp, "Umfrage 1")) == 1  # the nudge went to Anna only (chat)


async def test_an_attendance_mail_link_answers_for_the_person(
    web_mailbot: Bot, smtp: SmtpServerDouble
) -> None:
    d = Driver(web_mailbot)
    _world(d)
    d.say("orga", 'treffen anlegen titel="Auftakt" von="1.3.2027 10:00" bis="2.3.2027 16:00"')
    assert "Erinnerung an 2" in d.say("orga", "nachfassen teilnahme 1")
    web_mailbot.outbox.flush()
    [text] = _mails_to_ben(smtp, "Kommen Sie zu Treffen 1")
    link = _link(text)
    async with client_for(web_mailbot) as client:
        status, page = await post_answer(client, link, {"aktion": "kommen", "tag-1": "1"})
        assert status == 200 and "Sie kommen (Tag 1)" in page
    assert "von 1 fehlenden" in d.say("orga", "nachfassen teilnahme 1")  # Ben has answered


async def test_a_feedback_mail_link_answers(web_mailbot: Bot, smtp: SmtpServerDouble) -> None:
    d = Driver(web_mailbot)
    _world(d)
    d.say("orga", 'feedback starten titel="Quartier" fuer=@anna bis="in 7 Tagen" sofort')
    web_mailbot.outbox.flush()
    [text] = _mails_to_ben(smtp, "Quartier")
    link = _link(text)
    typed = {"antwort-1": "Der Mut", "antwort-2": "Die Kosten", "antwort-3": "Früh beteiligen"}
    async with client_for(web_mailbot) as client:
        status, page = await post_answer(client, link, typed)
        assert status == 200 and "Ihre Antworten sind gespeichert" in page


def test_without_the_web_pages_the_mail_names_the_command(
    db_url: str, clock: SimulatedClock, smtp: SmtpServerDouble
) -> None:
    bot = _bot(db_url, clock, smtp)
    try:
        d = Driver(bot)
        _world(d)
        d.say("orga", 'treffen anlegen titel="Auftakt" von="1.3.2027 10:00" bis="2.3.2027 16:00"')
        d.say("orga", "nachfassen teilnahme 1")
        bot.outbox.flush()
        [text] = _mails_to_ben(smtp, "Kommen Sie zu Treffen 1")
        assert "/antwort/" not in text
        assert "schreiben Sie „teilnahme 1" in text
    finally:
        bot.close()


def test_both_routes_get_the_prompt_each_with_its_own_link(
    web_mailbot: Bot, smtp: SmtpServerDouble
) -> None:
    d = Driver(web_mailbot)
    _world(d)
    d.say("anna", "benachrichtigung beides")
    d.say("orga", 'umfrage "Welcher Termin?" "Montag" "Dienstag" bis="in 3 Tagen" sofort')
    d.say("orga", "nachfassen umfrage 1")
    web_mailbot.outbox.flush()
    chat = [s.text for s in d.messenger.transcript if s.kind == "dm" and s.target.endswith("anna")]
    mails = [_text(m) for m in smtp.mails() if "anna@example.org" in str(m["To"])]
    nudges = [t for t in mails if "erinnert Sie" in t]
    assert len(nudges) == 1 and LINK.findall(chat[-1])
    assert _link(nudges[0]) != LINK.findall(chat[-1])[0]  # one link per row, never shared
