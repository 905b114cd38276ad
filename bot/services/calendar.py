"""The cohort's meetings as an iCalendar file (RFC 5545), built with the icalendar library.

Local times carry ``TZID`` with a VTIMEZONE for the configured zone, so calendars show the
right wall-clock time on both sides of a DST change. The VTIMEZONE is the rule-based form that
Outlook and Google write (one STANDARD and one DAYLIGHT part with a yearly RRULE, or a single
STANDARD part for a zone without DST), derived from the zone's own transitions. icalendar's
``add_missing_timezones`` writes a list of RDATEs instead, which ical.js (Thunderbird,
Nextcloud) reads wrong: a meeting ending after the spring switch ended an hour late. When the
zone's transitions over the years in question do not follow one yearly rule, the file carries
UTC times (``...Z``) and no VTIMEZONE: exact everywhere, only less readable in a text editor.
UIDs are stable per meeting/agenda item;
SEQUENCE is ``Meeting.sequence`` (bumped on every change); deleted meetings stay in the file
as ``STATUS:CANCELLED`` so that calendars that imported them drop them.
"""

from __future__ import annotations

from calendar import monthrange
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, tzinfo
from functools import lru_cache
from zoneinfo import ZoneInfo

from icalendar import Calendar, Event, Timezone, TimezoneDaylight, TimezoneStandard

from bot.context import Role
from bot.errors import PermissionDenied
from bot.permissions import access, refusal
from bot.services import agenda as agenda_service
from bot.services.meetings import items_of
from storage.models import Cohort, Meeting
from storage.ports import UnitOfWorkPort

PRODID = "-//Körber-Stiftung//stadtlabor-bot//DE"
DOMAIN = "stadtlabor-bot"


# --- VTIMEZONE: the zone's yearly rule, as Outlook and Google write it -------------------------

_WEEKDAYS = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")
_SCAN_STEP = timedelta(hours=6)  # finer than any two transitions of a real zone
_RULE_YEARS_AHEAD = 10  # the rule must hold this far ahead, so it is the zone's current one


@dataclass(frozen=True)
class _Transition:
    at: datetime  # the first UTC instant with the new offset
    offset_from: timedelta
    offset_to: timedelta
    name: str
    daylight: bool

    @property
    def wall(self) -> datetime:
        """The local time of the switch as RFC 5545 counts it: in the offset before it."""
        return (self.at + self.offset_from).replace(tzinfo=None)


@dataclass(frozen=True)
class _Rule:
    transition: _Transition  # one of the switches it describes (offsets, name, wall time)
    byday: str  # "-1SU" (last Sunday) or "2SU" (second Sunday)

    def first_in(self, year: int) -> datetime:
        """DTSTART: the rule's occurrence in ``year`` (RFC 5545 wants DTSTART to match the rule)."""
        wall = self.transition.wall
        weekday, month = wall.weekday(), wall.month
        nth = int(self.byday[:-2])
        if nth > 0:
            day = 1 + (weekday - datetime(year, month, 1).weekday()) % 7 + 7 * (nth - 1)
        else:
            last = monthrange(year, month)[1]
            day = last - (datetime(year, month, last).weekday() - weekday) % 7
        return datetime.combine(datetime(year, month, day).date(), wall.time())


def _transitions(tz: ZoneInfo, years: range) -> list[_Transition]:
    """Every change of UTC offset in ``years``, found by stepping and bisecting to the second.
    Cached per zone and years: an invitation fan-out builds a VTIMEZONE per recipient, and
    the scan (~1,500 offset look-ups a year, then bisection) cost more than the rest of it."""
    return list(_transitions_cached(tz, years))


@lru_cache(maxsize=64)
def _transitions_cached(tz: ZoneInfo, years: range) -> tuple[_Transition, ...]:

    def offset(moment: datetime) -> timedelta:
        return moment.astimezone(tz).utcoffset() or timedelta()

    found: list[_Transition] = []
    moment, end = datetime(years.start, 1, 1, tzinfo=UTC), datetime(years.stop, 1, 1, tzinfo=UTC)
    current = offset(moment)
    while moment < end:
        later = moment + _SCAN_STEP
        if offset(later) != current:
            low, high = moment, later  # whole seconds: offset(low) == current != offset(high)
            while high - low > timedelta(seconds=1):
                middle = low + timedelta(seconds=(high - low) // timedelta(seconds=2))
                low, high = (low, middle) if offset(middle) != current else (middle, high)
            local = high.astimezone(tz)
            new = offset(high)
            found.append(_Transition(high, current, new, local.tzname() or "", bool(local.dst())))
            current, later = new, high
        moment = later
    return tuple(found)


def _yearly_rule(changes: list[_Transition], years: range) -> _Rule | None:
    """The one yearly rule (month, n-th or last weekday, wall time) behind ``changes``, if any."""
    if [c.wall.year for c in changes] != list(years):  # exactly one switch in every year
        return None
    first = changes[0]
    shape = {
        (c.wall.month, c.wall.weekday(), c.wall.time(), c.offset_from, c.offset_to, c.name)
        for c in changes
    }
    if len(shape) != 1:
        return None
    weekday = _WEEKDAYS[first.wall.weekday()]
    nths = {(c.wall.day - 1) // 7 + 1 for c in changes}
    if len(nths) == 1 and (nth := nths.pop()) <= 4:
        return _Rule(first, f"{nth}{weekday}")
    if all(c.wall.day + 7 > monthrange(c.wall.year, c.wall.month)[1] for c in changes):
        return _Rule(first, f"-1{weekday}")
    return None  # e.g. "the Friday before the last Sunday": no BYDAY says that


def _part(rule: _Rule) -> TimezoneStandard | TimezoneDaylight:
    switch = rule.transition
    part = TimezoneDaylight() if switch.daylight else TimezoneStandard()
    part.add("tzname", switch.name)
    part.add("tzoffsetfrom", switch.offset_from)
    part.add("tzoffsetto", switch.offset_to)
    part.add("dtstart", rule.first_in(1970))
    part.add("rrule", {"freq": "yearly", "bymonth": switch.wall.month, "byday": rule.byday})
    return part


def vtimezone(tz: ZoneInfo, years: range) -> Timezone | None:
    """The rule-based VTIMEZONE of ``tz``, exact for every instant in ``years``; or None.

    None means the zone's switches in ``years`` follow no single yearly rule (a rule that
    changed, or dates no RRULE expresses); the caller then writes UTC times instead.
    """
    changes = _transitions(tz, years)
    zone = Timezone()
    zone.add("tzid", str(tz.key))
    if not changes:  # no DST in these years: one STANDARD part with a fixed offset
        local = datetime(years.start, 1, 1, tzinfo=UTC).astimezone(tz)
        fixed = TimezoneStandard()
        fixed.add("tzname", local.tzname() or str(tz.key))
        fixed.add("tzoffsetfrom", local.utcoffset())
        fixed.add("tzoffsetto", local.utcoffset())
        fixed.add("dtstart", datetime(1970, 1, 1))
        zone.add_component(fixed)
        return zone
    rules = [
        _yearly_rule([c for c in changes if c.daylight == kind], years) for kind in (False, True)
    ]
    standard, daylight = rules
    if standard is None or daylight is None:
        return None
    if (standard.transition.offset_to, daylight.transition.offset_to) != (
        daylight.transition.offset_from,
        standard.transition.offset_from,
    ):
        return None  # the two switches must hand over to each other
    zone.add_component(_part(standard))
    zone.add_component(_part(daylight))
    return zone


# --- events --------------------------------------------------------------------------------


def meeting_uid(meeting_id: int) -> str:
    """The meeting's UID: the same in the export and in every invitation (bot.services.itip),
    so a calendar that has both keeps one event."""
    return f"stadtlabor-meeting-{meeting_id}@{DOMAIN}"


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


def _place(*parts: str | None) -> str | None:
    """LOCATION: room, place and host city, each once (the place often names the city)."""
    kept: list[str] = []
    for part in parts:
        if part and not any(part.casefold() in k.casefold() for k in kept):
            kept.append(part)
    return ", ".join(kept) or None


def _meeting_event(
    uow: UnitOfWorkPort,
    meeting: Meeting,
    zone: tzinfo,
    tz: ZoneInfo,
    language: str,
    now: datetime,
    with_agenda: bool = True,
) -> Event:
    event = _event(
        meeting_uid(meeting.id),
        meeting.starts_at.astimezone(zone),
        meeting.ends_at.astimezone(zone),
        f"Stadtlabor: {meeting.title}",
        meeting.sequence,
        now,
    )
    location = _place(meeting.location, meeting.host_city)
    if location:
        event.add("location", location)
    if with_agenda:
        agenda = agenda_service.render(uow, meeting, tz, language, short=False)
        event.add("description", agenda.plain_text())
    event.add("status", "CANCELLED" if meeting.deleted_at else "CONFIRMED")
    return event


def build(
    uow: UnitOfWorkPort,
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
        raise PermissionDenied(refusal("treffen", role), command="treffen")
    with_agenda = role is None or access("agenda", role) != "refused"
    cal = Calendar()
    cal.add("prodid", PRODID)
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    cal.add("x-wr-calname", cohort.name)
    cal.add("x-wr-timezone", str(tz.key))
    meetings = uow.meetings.every(cohort.id)
    items = {
        m.id: items_of(uow, m) if with_items and with_agenda and not m.deleted_at else []
        for m in meetings
    }
    # The VTIMEZONE must be exact for every instant in the file and describe today's rule.
    instants = [t for m in meetings for t in (m.starts_at, m.ends_at)]
    instants += [t for its in items.values() for i in its for t in (i.starts_at, i.ends_at)]
    local_years = [t.astimezone(tz).year for t in instants] + [now.year]
    years = range(min(local_years), max(*local_years, now.year + _RULE_YEARS_AHEAD) + 1)
    timezone = vtimezone(tz, years)
    zone: tzinfo = tz if timezone is not None else UTC  # UTC times where no rule fits
    if timezone is not None and instants:
        cal.add_component(timezone)
    for meeting in meetings:  # deleted ones too: calendars learn they are cancelled
        cal.add_component(_meeting_event(uow, meeting, zone, tz, language, now, with_agenda))
        for item in items[meeting.id]:
            event = _event(
                f"stadtlabor-agenda-{item.id}@{DOMAIN}",
                item.starts_at.astimezone(zone),
                item.ends_at.astimezone(zone),
                item.title,
                meeting.sequence,
                now,
            )
            location = _place(item.room, meeting.location, meeting.host_city)
            if location:
                event.add("location", location)
            details = [x for x in (item.kind, item.speaker, item.description) if x]
            if details:
                event.add("description", "\n".join(details))
            cal.add_component(event)
    return bytes(cal.to_ical())
