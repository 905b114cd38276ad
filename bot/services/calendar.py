"""The cohort's meetings as an iCalendar file (RFC 5545), built with the icalendar library.

Local times carry ``TZID`` with a VTIMEZONE for the configured zone, so calendars show the
right wall-clock time on both sides of a DST change. UIDs are stable per meeting/agenda item;
SEQUENCE is ``Meeting.sequence`` (bumped on every change); deleted meetings stay in the file
as ``STATUS:CANCELLED`` so that calendars that imported them drop them.
"""

from __future__ import annotations

import sys
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from icalendar import Calendar, Event
from sqlalchemy import select

from bot.context import Role
from bot.errors import PermissionDenied
from bot.permissions import access
from bot.services import agenda as agenda_service
from storage.models import Cohort, Meeting
from storage.uow import UnitOfWork

if TYPE_CHECKING:
    from app import Bot

PRODID = "-//Körber-Stiftung//stadtlabor-bot//DE"
DOMAIN = "stadtlabor-bot"


def _event(
    uid: str, start: datetime, end: datetime, summary: str, seq: int, now: datetime
) -> Event:
    event = Event()
    event.add("uid", uid)
    event.add("dtstamp", now)
    event.add("dtstart", start)
    event.add("dtend", end)
    event.add("summary", summary)
    event.add("sequence", seq)
    return event


def _meeting_event(
    uow: UnitOfWork,
    meeting: Meeting,
    tz: ZoneInfo,
    language: str,
    now: datetime,
    with_agenda: bool = True,
) -> Event:
    event = _event(
        f"stadtlabor-meeting-{meeting.id}@{DOMAIN}",
        meeting.starts_at.astimezone(tz),
        meeting.ends_at.astimezone(tz),
        f"Stadtlabor: {meeting.title}",
        meeting.sequence,
        now,
    )
    if meeting.location:
        event.add("location", meeting.location)
    if with_agenda:
        agenda = agenda_service.render(uow, meeting, tz, language, short=False)
        event.add("description", agenda.plain_text())
    event.add("status", "CANCELLED" if meeting.deleted_at else "CONFIRMED")
    return event


def build(
    uow: UnitOfWork,
    cohort: Cohort,
    *,
    tz: ZoneInfo,
    language: str,
    now: datetime,
    with_items: bool = False,
    role: Role | None = None,
) -> bytes:
    """The cohort's meetings as .ics. ``role``: the caller's; the agenda (descriptions and
    items) follows the permission row of ``agenda``, the meetings that of ``treffen`` — the file
    never shows more than those commands. None: the command line (the operator)."""
    if role is not None and access("treffen", role) == "refused":
        from bot.dispatcher import refusal  # the dispatcher imports the commands

        raise PermissionDenied(refusal("treffen", role), command="treffen")
    with_agenda = role is None or access("agenda", role) != "refused"
    cal = Calendar()
    cal.add("prodid", PRODID)
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    cal.add("x-wr-calname", cohort.name)
    cal.add("x-wr-timezone", str(tz.key))
    meetings = uow.session.scalars(
        select(Meeting).where(Meeting.cohort_id == cohort.id).order_by(Meeting.number)
    )
    for meeting in meetings:  # deleted ones too: calendars learn they are cancelled
        cal.add_component(_meeting_event(uow, meeting, tz, language, now, with_agenda))
        if not with_items or not with_agenda or meeting.deleted_at:
            continue
        for item in agenda_service.items_of(uow, meeting):
            event = _event(
                f"stadtlabor-agenda-{item.id}@{DOMAIN}",
                item.starts_at.astimezone(tz),
                item.ends_at.astimezone(tz),
                item.title,
                meeting.sequence,
                now,
            )
            if item.room or meeting.location:
                event.add("location", ", ".join(x for x in (item.room, meeting.location) if x))
            details = [x for x in (item.kind, item.speaker, item.description) if x]
            if details:
                event.add("description", "\n".join(details))
            cal.add_component(event)
    cal.add_missing_timezones()
    return bytes(cal.to_ical())


def export_ics_cli(bot: Bot, cohort_name: str, path: str | None) -> int:
    """``stadtlabor export ics --jahrgang NAME [--ausgabe datei.ics]``; the exit status."""
    with bot.uow_factory() as uow:
        cohort = uow.cohorts.get_by_name(cohort_name)
        if cohort is None:
            names = ", ".join(c.name for c in uow.cohorts.active()) or "-"
            print(f"Unbekannter Jahrgang {cohort_name!r}. Vorhanden: {names}", file=sys.stderr)
            return 2
        data = build(
            uow,
            cohort,
            tz=bot.settings.tz,
            language=bot.settings.language,
            now=bot.clock.now(),
            with_items=True,
        )
    if path is None or path == "-":
        sys.stdout.write(data.decode("utf-8"))
        return 0
    try:
        Path(path).write_bytes(data)
    except OSError as exc:
        print(f"Kann {path} nicht schreiben: {exc.strerror}", file=sys.stderr)
        return 1
    return 0
