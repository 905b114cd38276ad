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
from sqlalchemy import select

from bot.notifications import office_copies, routes
from bot.services import agenda as agenda_service
from bot.services.calendar import PRODID, _place, meeting_uid, vtimezone
from storage.models import Meeting
from storage.models_meetings import MeetingInvitation
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


# --- who gets which invitation: the plan, and what was sent --------------------------------


@dataclass(frozen=True)
class Pending:
    """One invitation mail to send: ``method`` with ``sequence`` to ``address``."""

    meeting_id: int
    address: str
    person_id: int | None
    role: Literal["person", "office"]
    method: Method
    sequence: int

    @property
    def key(self) -> str:
        """The outbox key (and so the Message-ID): one mail per address, method and sequence."""
        return f"invite:{self.meeting_id}:{self.method}:{self.sequence}:{self.address.lower()}"


def recipients(uow: UnitOfWork, meeting: Meeting) -> list[Pending]:
    """Who should have the meeting in their calendar by e-mail: every confirmed participant
    whose messages go by e-mail (bot.notifications.routes), and their office contact's copy."""
    wanted: dict[str, Pending] = {}
    for participant in uow.participants.in_cohort(meeting.cohort_id, "confirmed"):
        pid = participant.person_id
        people = [i for i in routes(uow, pid) if i.platform == "email"]
        for identity in people:
            address = identity.external_id
            wanted.setdefault(
                address.lower(),
                Pending(meeting.id, address, pid, "person", "REQUEST", meeting.sequence),
            )
        for identity in office_copies(uow, pid):
            address = identity.external_id
            wanted.setdefault(
                address.lower(),
                Pending(meeting.id, address, pid, "office", "REQUEST", meeting.sequence),
            )
    return list(wanted.values())


def plan(uow: UnitOfWork, meeting: Meeting) -> list[Pending]:
    """The invitation mails a change of ``meeting`` needs, from what ``meeting_invitations``
    says was sent: a REQUEST to every recipient who has none or an older SEQUENCE; a CANCEL to
    every invited address when the meeting is deleted, and to an address that no longer gets
    the meeting by e-mail (withdrawn, or switched to the chat: its calendar entry would go
    stale otherwise). Call it in the transaction that changes the meeting; :func:`record`
    each planned mail when its outbox row is enqueued."""
    sent = {
        row.address.lower(): row
        for row in uow.session.scalars(
            select(MeetingInvitation).where(MeetingInvitation.meeting_id == meeting.id)
        )
    }
    todo: list[Pending] = []
    wanted = (
        {}
        if meeting.deleted_at is not None
        else {p.address.lower(): p for p in recipients(uow, meeting)}
    )
    for address, pending in wanted.items():
        row = sent.get(address)
        if row is None or row.method == "CANCEL" or row.sequence < meeting.sequence:
            todo.append(pending)
    for address, row in sent.items():
        if address not in wanted and row.method != "CANCEL":
            role: Literal["person", "office"] = "office" if row.role == "office" else "person"
            todo.append(
                Pending(meeting.id, row.address, row.person_id, role, "CANCEL", meeting.sequence)
            )
    return todo


def record(uow: UnitOfWork, pending: Pending, now: datetime) -> None:
    """Remember that ``pending`` was handed to the outbox (same transaction as the row)."""
    row = uow.session.scalar(
        select(MeetingInvitation).where(
            MeetingInvitation.meeting_id == pending.meeting_id,
            MeetingInvitation.address == pending.address,
        )
    )
    if row is None:
        row = MeetingInvitation(meeting_id=pending.meeting_id, address=pending.address)
        uow.session.add(row)
    row.person_id, row.role = pending.person_id, pending.role
    row.sequence, row.method, row.sent_at = pending.sequence, pending.method, now


def invited_addresses(uow: UnitOfWork, meeting_id: int) -> set[str]:
    """The addresses whose calendar has the meeting now (their last mail was a REQUEST)."""
    return {
        row.address
        for row in uow.session.scalars(
            select(MeetingInvitation).where(
                MeetingInvitation.meeting_id == meeting_id, MeetingInvitation.method == "REQUEST"
            )
        )
    }
