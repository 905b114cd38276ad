"""``vergessen`` frees a seat: whoever moves up from the waitlist is told by their route and,
by e-mail, gets the invitations of the cohort's coming meetings (and their office the copies).
A real SMTP server (aiosmtpd) receives the mails; ``icalendar`` reads the invitations."""

from __future__ import annotations

from collections.abc import Iterator
from email.message import EmailMessage

import pytest
from icalendar import Calendar

from app import Bot, build_bot
from bot.clock import SimulatedClock
from tests.helpers import Driver, make_settings, signup
from tests.support.smtp import SmtpServerDouble, smtp_server

BEN = "ben@beispielstadt.de"
OFFICE = "buero@beispielstadt.de"
ADD_BEN = (
    'teilnehmende hinzufuegen name="Ben Beispiel" kommune=Beispielstadt '
    f"funktion=Beigeordneter email={BEN}"
)
MEETING = 'treffen anlegen titel="Auftakt" von="1.3.2027 10:00" bis="2.3.2027 16:00"'


@pytest.fixture
def smtp() -> Iterator[SmtpServerDouble]:
    with smtp_server() as server:
        yield server


@pytest.fixture
def mailbot(db_url: str, clock: SimulatedClock, smtp: SmtpServerDouble) -> Iterator[Bot]:
    settings = make_settings(
        db_url, organizers="console:orga", smtp_url=smtp.url, mail_from="stadtlabor@example.org"
    )
    built = build_bot(settings, clock)
    yield built
    built.close()


def _text(mail: EmailMessage) -> str:
    body = mail.get_body(preferencelist=("plain",))
    assert isinstance(body, EmailMessage)
    return str(body.get_content())


def _methods(smtp: SmtpServerDouble, address: str) -> list[str]:
    found = []
    for mail in smtp.mails():
        if address not in str(mail["To"]):
            continue
        for part in mail.walk():
            if part.get_content_type() == "text/calendar":
                payload = part.get_payload(decode=True)
                assert isinstance(payload, bytes)
                found.append(str(Calendar.from_ical(payload)["METHOD"]))
    return found


def test_a_person_moved_up_by_an_erasure_is_told_and_invited_by_mail(
    mailbot: Bot, smtp: SmtpServerDouble
) -> None:
    d = Driver(mailbot)
    d.say("orga", 'jahrgang anlegen "Stadtlabor 2026/27" plaetze=1')
    d.say("anna", signup("anna"))
    assert "Warteliste" in d.say("orga", ADD_BEN)
    d.say("orga", MEETING)
    mailbot.outbox.flush()
    assert _methods(smtp, BEN) == []  # waitlisted: no invitation
    assert "gelöscht" in d.say("anna", "vergessen ja")
    mailbot.outbox.flush()
    moved = [_text(m) for m in smtp.mails() if BEN in str(m["To"]) and "Gute Nachricht" in _text(m)]
    assert len(moved) == 1 and "Ihre Teilnahme ist jetzt bestätigt" in moved[0]
    assert _methods(smtp, BEN) == ["REQUEST"]
    assert not [m for m in smtp.mails() if "anna@example.org" in str(m["To"])]  # erased: none
    assert "Ben Beispiel" in d.say("orga", "teilnehmende")


def test_a_chat_user_moved_up_gets_both_routes_and_the_office_copy(
    mailbot: Bot, smtp: SmtpServerDouble
) -> None:
    d = Driver(mailbot)
    d.say("orga", 'jahrgang anlegen "Stadtlabor 2026/27" plaetze=1')
    d.say("anna", signup("anna"))
    assert "Warteliste" in d.say("cora", signup("cora", bueroleitung=OFFICE))
    d.say("cora", "benachrichtigung beides", dm=True)
    d.say("orga", MEETING)
    mailbot.outbox.flush()
    assert _methods(smtp, "cora@example.org") == [] and _methods(smtp, OFFICE) == []
    d.say("anna", "vergessen ja")
    mailbot.outbox.flush()
    d.flush()
    chat = [s.text for s in d.messenger.transcript if s.target.endswith("cora")]
    assert any("Gute Nachricht" in text for text in chat)
    mails = [_text(m) for m in smtp.mails() if "cora@example.org" in str(m["To"])]
    assert len([t for t in mails if "Gute Nachricht" in t]) == 1
    assert _methods(smtp, "cora@example.org") == ["REQUEST"]
    assert _methods(smtp, OFFICE) == ["REQUEST"]  # the office keeps the calendar
