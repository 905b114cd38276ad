"""Meeting invitations by e-mail: iTIP (RFC 5546) over iMIP (RFC 6047).

:func:`invitation` builds one calendar object for one recipient: ``METHOD:REQUEST`` for a new or
changed meeting, ``METHOD:CANCEL`` when it is deleted. The ``UID`` is the meeting's (the same as
in ``kalender`` and the command-line export), ``SEQUENCE`` is ``Meeting.sequence`` — raised by
every change and by the deletion (bot.services.meetings) — so Outlook, Thunderbird and Apple
Calendar add the meeting once and move or remove it when a later mail arrives. Times carry the
rule-based VTIMEZONE of bot.services.calendar (Europe/Berlin, as Outlook writes it).

Which address got which sequence is kept in ``meeting_invitations``
(storage.models_meetings.MeetingInvitation): a cancellation goes to exactly the addresses that
were invited, and a change only to those whose sequence is behind.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, tzinfo
from email.headerregistry import Address
from typing import Literal
from zoneinfo import ZoneInfo

from icalendar import Calendar, Event, vCalAddress, vText

from bot.services import agenda as agenda_service
from bot.services.calendar import PRODID, _place, meeting_uid, vtimezone
from storage.models import Meeting
from storage.uow import UnitOfWork

Method = Literal["REQUEST", "CANCEL"]
_YEARS_AROUND = 10


@dataclass(frozen=True)
class MeetingInvite:
    """What an invitation says about a meeting (pure data: no database needed to build it)."""

    meeting_id: int
    title: str
    starts_at: datetime  # aware
    ends_at: datetime
    location: str | None = None
    host_city: str | None = None
    agenda: str = ""  # plain text, becomes DESCRIPTION


def invite_of(uow: UnitOfWork, meeting: Meeting, *, tz: ZoneInfo, language: str) -> MeetingInvite:
    """The invitation data of a stored meeting, with its agenda in ``language``."""
    agenda = agenda_service.render(uow, meeting, tz, language, short=False).plain_text()
    return MeetingInvite(
        meeting_id=meeting.id,
        title=meeting.title,
        starts_at=meeting.starts_at,
        ends_at=meeting.ends_at,
        location=meeting.location,
        host_city=meeting.host_city,
        agenda=agenda,
    )


def invitation(
    meeting: MeetingInvite,
    *,
    sequence: int,
    organizer: Address,
    attendee: str,
    attendee_name: str | None = None,
    method: Method = "REQUEST",
    tz: ZoneInfo,
    now: datetime,
) -> bytes:
    """One iTIP object (``.ics`` bytes) for ``attendee`` (an e-mail address)."""
    if sequence < 0:
        raise ValueError("SEQUENCE is never negative")
    cal = Calendar()
    cal.add("prodid", PRODID)
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    cal.add("method", method)
    years = sorted({meeting.starts_at.astimezone(tz).year, meeting.ends_at.astimezone(tz).year})
    span = range(min(years[0], now.year), max(years[-1], now.year + _YEARS_AROUND) + 1)
    timezone = vtimezone(tz, span)
    zone: tzinfo = tz if timezone is not None else UTC
    if timezone is not None:
        cal.add_component(timezone)
    event = Event()
    event.add("uid", meeting_uid(meeting.meeting_id))
    event.add("dtstamp", now.astimezone(UTC))
    event.add("dtstart", meeting.starts_at.astimezone(zone))
    event.add("dtend", meeting.ends_at.astimezone(zone))
    event.add("summary", f"Stadtlabor: {_line(meeting.title)}")
    event.add("sequence", sequence)
    event.add("status", "CANCELLED" if method == "CANCEL" else "CONFIRMED")
    event.add("transp", "OPAQUE")
    location = _place(meeting.location, meeting.host_city)
    if location:
        event.add("location", _line(location))
    if meeting.agenda.strip():
        event.add("description", meeting.agenda.strip())
    event.add("organizer", _cal_address(organizer.addr_spec, organizer.display_name))
    who = _cal_address(attendee, attendee_name)
    who.params["ROLE"] = vText("REQ-PARTICIPANT")
    who.params["PARTSTAT"] = vText("NEEDS-ACTION")
    who.params["RSVP"] = vText("FALSE")  # attendance is answered in the chat or the web app
    event.add("attendee", who)
    cal.add_component(event)
    return bytes(cal.to_ical())


def _cal_address(address: str, name: str | None) -> vCalAddress:
    value = vCalAddress(f"mailto:{address}")
    if name and _line(name):
        value.params["CN"] = vText(_line(name))
    return value


def _line(text: str) -> str:
    return " ".join(text.split())
