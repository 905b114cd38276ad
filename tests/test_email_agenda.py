"""Agenda-only changes re-invite: a burst of ``programmpunkt`` edits (or the web page's agenda
editor) sends one REQUEST per invited address with the SEQUENCE raised once and the new agenda
in DESCRIPTION, through a due-work row (no timer in memory). A real SMTP server (aiosmtpd)
receives the mails; ``icalendar`` reads them."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from email.message import EmailMessage

import pytest
from icalendar import Calendar, Component
from sqlalchemy import select

from app import Bot, build_bot
from bot.clock import SimulatedClock
from bot.services import agenda_invites
from storage.models import Reminder
from tests.helpers import Driver, make_settings, signup
from tests.support.smtp import SmtpServerDouble, smtp_server

BEN = "ben@beispielstadt.de"
OFFICE = "buero@annastadt.de"
ADD_BEN = (
    'teilnehmende hinzufuegen name="Ben Beispiel" kommune=Beispielstadt '
    f"funktion=Beigeordneter email={BEN}"
)
MEETING = 'treffen anlegen titel="Auftakt" von="27.03.2027 10 Uhr" bis="28.03.2027 16 Uhr"'


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


def _event(mail: EmailMessage) -> tuple[str, int, str]:
    """(METHOD, SEQUENCE, DESCRIPTION) of the mail's text/calendar part."""
    [part] = [p for p in mail.walk() if p.get_content_type() == "text/calendar"]
    payload = part.get_payload(decode=True)
    assert isinstance(payload, bytes)
    cal = Calendar.from_ical(payload)
    [event] = cal.walk("VEVENT")
    assert isinstance(event, Component)
    return str(cal["METHOD"]), int(str(event["SEQUENCE"])), str(event.get("DESCRIPTION", ""))


def _invites(smtp: SmtpServerDouble, address: str) -> list[tuple[str, int, str]]:
    return [
        _event(m)
        for m in smtp.mails()
        if address in str(m["To"])
        and any(p.get_content_type() == "text/calendar" for p in m.walk())
    ]


def _advance(bot: Bot, delta: timedelta) -> None:
    bot.clock.advance(delta)  # type: ignore[attr-defined]


def _run(bot: Bot) -> None:
    bot.due.run_due(bot.clock.now())
    bot.outbox.flush()


def _world(d: Driver, bot: Bot) -> None:
    d.say("orga", 'jahrgang anlegen "Stadtlabor 2026/27" plaetze=5')
    d.say("anna", signup("anna", bueroleitung=OFFICE))  # chat only; her office gets copies
    d.say("orga", ADD_BEN)
    d.say("orga", MEETING)
    bot.outbox.flush()


def test_three_quick_agenda_edits_send_one_update_per_address(
    mailbot: Bot, smtp: SmtpServerDouble
) -> None:
    d = Driver(mailbot)
    _world(d, mailbot)
    assert [i[:2] for i in _invites(smtp, BEN)] == [("REQUEST", 0)]
    assert [i[:2] for i in _invites(smtp, OFFICE)] == [("REQUEST", 0)]
    d.say("orga", 'programmpunkt 1 von="10 Uhr" bis="11:30" titel="Begrüßung"')
    _advance(mailbot, timedelta(seconds=40))
    d.say("orga", 'programmpunkt 1 von="13 Uhr" bis="14 Uhr" titel="Stadtrundgang"')
    _advance(mailbot, timedelta(seconds=40))
    d.say("orga", 'programmpunkt 1 tag=2 von="9 Uhr" bis="12 Uhr" titel="Werkstatt"')
    _run(mailbot)  # nothing yet: the debounce waits for quiet
    _advance(mailbot, timedelta(seconds=100))
    _run(mailbot)
    assert len(_invites(smtp, BEN)) == 1  # 100 s after the last edit: still quiet time
    _advance(mailbot, timedelta(seconds=30))
    _run(mailbot)
    _advance(mailbot, timedelta(minutes=30))
    _run(mailbot)
    for address in (BEN, OFFICE):
        invites = _invites(smtp, address)
        assert [i[:2] for i in invites] == [("REQUEST", 0), ("REQUEST", 1)], address
        description = invites[-1][2]
        for title in ("Begrüßung", "Stadtrundgang", "Werkstatt"):
            assert title in description, (address, description)
    assert not [m for m in smtp.mails() if "anna@example.org" in str(m["To"])]  # chat only
    subjects = [str(m["Subject"]) for m in smtp.mails() if BEN in str(m["To"])]
    assert subjects[-1] == "Stadtlabor: Geändert: Auftakt"


def test_a_long_editing_session_sends_an_update_at_the_cap(
    mailbot: Bot, smtp: SmtpServerDouble
) -> None:
    d = Driver(mailbot)
    _world(d, mailbot)
    for minute in range(20):  # an edit every minute: never two minutes of quiet
        start = 10 + minute % 6  # 10–16 Uhr on day 1
        d.say("orga", f'programmpunkt 1 von="{start} Uhr" bis="{start + 1} Uhr" titel="P{minute}"')
        _advance(mailbot, timedelta(minutes=1))
        _run(mailbot)
    sequences = [i[1] for i in _invites(smtp, BEN)]
    assert sequences[:2] == [0, 1]  # the cap (15 min after the first edit) sent one update
    assert len(sequences) == 2, [(str(m["Date"]), m["Subject"]) for m in smtp.mails()]
    _advance(mailbot, timedelta(minutes=3))
    _run(mailbot)
    assert [i[1] for i in _invites(smtp, BEN)] == [0, 1, 2]
    assert "P19" in _invites(smtp, BEN)[-1][2]


def test_a_meeting_change_in_between_makes_the_pending_update_redundant(
    mailbot: Bot, smtp: SmtpServerDouble
) -> None:
    d = Driver(mailbot)
    _world(d, mailbot)
    d.say("orga", 'programmpunkt 1 von="10 Uhr" bis="11:30" titel="Begrüßung"')
    d.say("orga", 'treffen 1 aendern titel="Auftakt in Annastadt"')
    mailbot.outbox.flush()
    _advance(mailbot, timedelta(minutes=5))
    _run(mailbot)
    invites = _invites(smtp, BEN)
    assert [i[:2] for i in invites] == [("REQUEST", 0), ("REQUEST", 1)]
    assert "Begrüßung" in invites[-1][2]  # the change carried the agenda


def test_without_invitations_by_mail_no_update_is_scheduled(
    mailbot: Bot, smtp: SmtpServerDouble
) -> None:
    d = Driver(mailbot)
    d.say("orga", 'jahrgang anlegen "Stadtlabor 2026/27" plaetze=5')
    d.say("anna", signup("anna"))
    d.say("orga", MEETING)
    d.say("orga", 'programmpunkt 1 von="10 Uhr" bis="11:30" titel="Begrüßung"')
    with mailbot.uow_factory() as uow:
        kinds = list(uow.session.scalars(select(Reminder.kind)))
    assert agenda_invites.KIND not in kinds
