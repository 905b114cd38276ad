"""Meeting invitations by e-mail (iTIP): METHOD:REQUEST with a stable UID, SEQUENCE raised on
every change, METHOD:CANCEL on delete — read back with icalendar and with ical.js (the parser of
Thunderbird and Nextcloud), start and end instants across both DST switches, and mailed to a
real SMTP server as the text/calendar part Outlook looks for."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from icalendar import Calendar, Component
from sqlalchemy import select

from app import Bot
from bot.identity import Identity
from bot.mail_address import mailbox
from bot.services.calendar import meeting_uid
from bot.services.itip import MeetingInvite, Pending, invitation, invite_of, plan, record
from bot.smtp import parse_smtp_url
from handlers.email import EmailMessenger
from storage.models import Meeting, OutboxMessage
from storage.models_meetings import MeetingInvitation
from tests.helpers import Driver, signup
from tests.support.smtp import smtp_server
from tests.test_calendar import Parsed, _icalendar, _instants
from tests.test_calendar import icaljs as icaljs  # the session fixture (node + ical.js)

BERLIN = ZoneInfo("Europe/Berlin")
NOW = datetime(2026, 11, 25, 12, 0, tzinfo=BERLIN)
ORGANIZER = mailbox("Stadtlabor <stadtlabor@example.org>")

# Spring: summer time from 28 March 2027 01:00 UTC; autumn: winter time from 31 October.
SPRING = MeetingInvite(
    7,
    "Auftakt",
    datetime(2027, 3, 27, 10, 0, tzinfo=BERLIN),
    datetime(2027, 3, 28, 16, 0, tzinfo=BERLIN),
    "KörberForum",
    "Hamburg",
    "Samstag\n10:00 Begrüßung; Kaffee, Tee\nSonntag\n10:00 Werkstatt",
)
AUTUMN = MeetingInvite(
    8,
    "Herbst",
    datetime(2027, 10, 30, 10, 0, tzinfo=BERLIN),
    datetime(2027, 10, 31, 16, 0, tzinfo=BERLIN),
    None,
    "Leipzig",
)


def _event(data: bytes) -> Component:
    [event] = Calendar.from_ical(data).walk("VEVENT")
    return event


def _build(meeting: MeetingInvite, sequence: int = 0, method: str = "REQUEST") -> bytes:
    return invitation(
        meeting,
        sequence=sequence,
        organizer=ORGANIZER,
        attendee="anna@musterstadt.de",
        attendee_name="Muster, Anna",
        method=method,  # type: ignore[arg-type]
        tz=BERLIN,
        now=NOW,
    )


def test_a_request_carries_what_outlook_needs() -> None:
    data = _build(SPRING, 3)
    cal = Calendar.from_ical(data)
    assert str(cal["METHOD"]) == "REQUEST"
    event = _event(data)
    assert str(event["UID"]) == meeting_uid(7) == "stadtlabor-meeting-7@stadtlabor-bot"
    assert int(str(event["SEQUENCE"])) == 3
    assert str(event["STATUS"]) == "CONFIRMED"
    assert str(event["SUMMARY"]) == "Stadtlabor: Auftakt"
    assert str(event["LOCATION"]) == "KörberForum, Hamburg"
    assert str(event["DESCRIPTION"]).startswith("Samstag\n10:00 Begrüßung; Kaffee, Tee")
    assert str(event["ORGANIZER"]) == "mailto:stadtlabor@example.org"
    assert event["ORGANIZER"].params["CN"] == "Stadtlabor"
    attendee = event["ATTENDEE"]
    assert str(attendee) == "mailto:anna@musterstadt.de"
    assert attendee.params["CN"] == "Muster, Anna"
    assert attendee.params["ROLE"] == "REQ-PARTICIPANT"
    assert event["DTSTART"].params["TZID"] == "Europe/Berlin"
    [zone] = cal.walk("VTIMEZONE")
    assert str(zone["TZID"]) == "Europe/Berlin" and b"RDATE" not in data
    assert b"RRULE:FREQ=YEARLY;BYDAY=-1SU;BYMONTH=3" in data


def test_instants_across_both_dst_switches_in_icalendar_and_icaljs(
    icaljs: Callable[[bytes], Parsed],
) -> None:
    expected = {
        "Stadtlabor: Auftakt": ("2027-03-27T09:00:00Z", "2027-03-28T14:00:00Z"),
        "Stadtlabor: Herbst": ("2027-10-30T08:00:00Z", "2027-10-31T15:00:00Z"),
    }
    for meeting in (SPRING, AUTUMN):
        for method in ("REQUEST", "CANCEL"):
            data = _build(meeting, 1, method)
            summary = f"Stadtlabor: {meeting.title}"
            by_icaljs, by_icalendar = icaljs(data), _icalendar(data)
            assert _instants(by_icalendar) == {summary: expected[summary]}
            assert _instants(by_icaljs) == {summary: expected[summary]}
            [event] = by_icaljs
            assert event["uid"] == meeting_uid(meeting.meeting_id)
            assert event["sequence"] == 1 and event["tzid"] == "Europe/Berlin"
            assert event["status"] == ("CANCELLED" if method == "CANCEL" else "CONFIRMED")


def test_a_title_with_line_breaks_stays_one_line() -> None:
    evil = MeetingInvite(
        9, "Auftakt\r\nATTENDEE:mailto:spy@example.net", SPRING.starts_at, SPRING.ends_at
    )
    event = _event(_build(evil))
    assert str(event["SUMMARY"]) == "Stadtlabor: Auftakt ATTENDEE:mailto:spy@example.net"
    assert [str(a) for a in [event["ATTENDEE"]]] == ["mailto:anna@musterstadt.de"]


def test_a_negative_sequence_is_refused() -> None:
    with pytest.raises(ValueError, match="SEQUENCE"):
        _build(SPRING, -1)


def test_change_raises_sequence_and_delete_cancels_with_the_same_uid(bot: Bot) -> None:
    d = Driver(bot)
    d.say("orga", 'jahrgang anlegen "Stadtlabor 2026/27"')
    d.say(
        "orga",
        'treffen anlegen titel="Auftakt" von="27.03.2027 10 Uhr" bis="28.03.2027 16 Uhr" '
        'ort="KörberForum" gastgeber="Hamburg"',
    )
    d.say("orga", 'programmpunkt 1 von="10 Uhr" bis="11 Uhr" titel="Begrüßung"')

    def mail(method: str = "REQUEST") -> Component:
        with bot.uow_factory() as uow:
            meeting = uow.session.scalars(select(Meeting)).one()
            data = invitation(
                invite_of(uow, meeting, tz=BERLIN, language="de"),
                sequence=meeting.sequence,
                organizer=ORGANIZER,
                attendee="anna@musterstadt.de",
                method=method,  # type: ignore[arg-type]
                tz=BERLIN,
                now=bot.clock.now(),
            )
        assert str(Calendar.from_ical(data)["METHOD"]) == method
        return _event(data)

    first = mail()
    assert "Begrüßung" in str(first["DESCRIPTION"])
    assert str(first["LOCATION"]) == "KörberForum, Hamburg"
    d.say("orga", 'treffen 1 aendern von="3.4.2027 10 Uhr"')
    moved = mail()
    assert str(moved["UID"]) == str(first["UID"])
    assert int(str(moved["SEQUENCE"])) > int(str(first["SEQUENCE"]))
    assert moved.decoded("DTSTART") == datetime(2027, 4, 3, 10, 0, tzinfo=BERLIN)
    d.say("orga", "treffen 1 loeschen ja")
    cancelled = mail("CANCEL")
    assert str(cancelled["UID"]) == str(first["UID"])
    assert int(str(cancelled["SEQUENCE"])) > int(str(moved["SEQUENCE"]))
    assert str(cancelled["STATUS"]) == "CANCELLED"


def test_the_invitation_arrives_as_a_calendar_part_and_an_attachment() -> None:
    with smtp_server() as server:
        sender = EmailMessenger(parse_smtp_url(server.url), ORGANIZER)
        for sequence, method in ((0, "REQUEST"), (1, "REQUEST"), (2, "CANCEL")):
            sender.send_file(
                Identity("email", "anna@musterstadt.de"),
                "einladung.ics",
                _build(SPRING, sequence, method),
                key=f"invite:7:anna:{sequence}",
            )
        mails = server.mails()
    assert len(mails) == 3
    seen: list[tuple[str, str, int]] = []
    for mail in mails:
        [part] = [p for p in mail.walk() if p.get_content_type() == "text/calendar"]
        payload = part.get_payload(decode=True)
        assert isinstance(payload, bytes)
        cal = Calendar.from_ical(payload)
        event = _event(payload)
        assert part.get_param("method") == str(cal["METHOD"])
        seen.append((str(cal["METHOD"]), str(event["UID"]), int(str(event["SEQUENCE"]))))
        [attachment] = list(mail.iter_attachments())
        assert attachment.get_filename() == "einladung.ics"
    uid = meeting_uid(7)
    assert seen == [("REQUEST", uid, 0), ("REQUEST", uid, 1), ("CANCEL", uid, 2)]
    assert len({m["Message-ID"] for m in mails}) == 3


def _plan(bot: Bot, send: bool = True) -> list[tuple[str, str, str, int]]:
    """The planned mails as (method, address, role, sequence); recorded as sent if ``send``."""
    with bot.uow_factory() as uow:
        meeting = uow.session.scalars(select(Meeting)).one()
        planned = plan(uow, meeting)
        if send:
            for pending in planned:
                record(uow, pending, bot.clock.now())
            uow.commit()
    return sorted((p.method, p.address, p.role, p.sequence) for p in planned)


def _enqueued(bot: Bot, seen: set[str]) -> list[tuple[str, str, int]]:
    """Invitation rows enqueued since the last call, as (method, address, sequence)."""
    with bot.uow_factory() as uow:
        keys = set(
            uow.session.scalars(
                select(OutboxMessage.idempotency_key).where(
                    OutboxMessage.idempotency_key.like("invite:%")
                )
            )
        )
    new = keys - seen
    seen.update(new)
    return sorted((m, a, int(q)) for _i, _n, m, q, a in (k.split(":", 4) for k in new))


def test_meeting_commands_enqueue_what_the_plan_says(bot: Bot) -> None:
    d = Driver(bot)
    seen: set[str] = set()
    d.say("orga", 'jahrgang anlegen "Stadtlabor 2026/27" plaetze=5')
    d.say("anna", signup("anna", bueroleitung="buero@annastadt.de"))
    d.say("bert", signup("bert"))  # chat only: no mail
    d.say(
        "orga",
        'teilnehmende hinzufuegen name="Ben Beispiel" kommune=Beispielstadt '
        "funktion=Beigeordneter email=ben@beispielstadt.de",
    )
    d.say("anna", "benachrichtigung beides")
    d.say("orga", 'treffen anlegen titel="Auftakt" von="27.03.2027 10 Uhr" bis="28.03.2027 16 Uhr"')
    with bot.uow_factory() as uow:
        seq = uow.session.scalars(select(Meeting)).one().sequence
        roles = {r.address: r.role for r in uow.session.scalars(select(MeetingInvitation))}
    assert _enqueued(bot, seen) == [
        ("REQUEST", "anna@example.org", seq),
        ("REQUEST", "ben@beispielstadt.de", seq),
        ("REQUEST", "buero@annastadt.de", seq),
    ]
    assert roles["buero@annastadt.de"] == "office" and roles["anna@example.org"] == "person"
    assert _plan(bot, send=False) == []  # everything planned is in the outbox
    d.say("orga", 'treffen 1 aendern von="3.4.2027 10 Uhr"')
    changed = _enqueued(bot, seen)
    assert [m[0] for m in changed] == ["REQUEST"] * 3 and {m[2] for m in changed} == {seq + 1}
    d.say("anna", "benachrichtigung chat")  # her own calendar entry would go stale: cancelled
    assert _enqueued(bot, seen) == [("CANCEL", "anna@example.org", seq + 1)]
    d.say("orga", "treffen 1 loeschen ja")
    assert _enqueued(bot, seen) == [
        ("CANCEL", "ben@beispielstadt.de", seq + 2),
        ("CANCEL", "buero@annastadt.de", seq + 2),
    ]
    assert _plan(bot) == []
    with bot.uow_factory() as uow:
        keys = {p.key for p in plan(uow, uow.session.scalars(select(Meeting)).one())}
        assert keys == set()
        pending = Pending(1, "Ben@Beispielstadt.de", None, "person", "REQUEST", 4)
        assert pending.key == "invite:1:REQUEST:4:ben@beispielstadt.de"
