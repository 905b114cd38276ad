"""Recurring reminders as calendar rules in local time: every Monday 09:00 stays 09:00 across
the DST changes. Rules are stored as text in ``Reminder.recurrence``: ``daily@08:00`` or
``weekly:0@09:00`` (0 = Monday), and everything beyond that (werktags, every second Monday,
several weekdays, the first Monday of the month) as an RFC 5545 rule with a floating local
DTSTART, ``DTSTART:20261214T090000\nRRULE:FREQ=WEEKLY;INTERVAL=2;BYDAY=MO``, expanded by
dateutil.rrule on local wall times. A wall time in the spring gap or the ambiguous autumn hour
follows the dates rules (:func:`bot.dates.resolve.to_aware`)."""

from __future__ import annotations

import re
from datetime import datetime, time, timedelta
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo

from dateutil.rrule import rrulestr  # type: ignore[import-untyped]

from bot.dates import messages as msg
from bot.dates import parse_time_of_day, parse_when
from bot.dates.recurring import MONTHLY, WORKDAYS, Pattern, recurring_pattern
from bot.dates.resolve import to_aware
from bot.errors import UserFacingError
from bot.i18n import N_

_RULE = re.compile(r"^(?:daily|weekly:(?P<day>[0-6]))@(?P<h>\d\d):(?P<m>\d\d)$")
_DAILY = re.compile(r"^(?:täglich|taeglich|jeden\s+tag|daily|every\s+day)\b\s*(?P<rest>.*)$", re.I)
_WEEKLY = re.compile(r"^(?:jeden|jede|every)\s+(?P<rest>\S.*)$", re.I)
WEEKDAYS_DE = ("Montag", "Dienstag", "Mittwoch", "Donnerstag", "Freitag", "Samstag", "Sonntag")
WEEKDAYS_EN = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")


_CODES = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")
_RRULE_PREFIX = "DTSTART:"


def is_recurring(when: str) -> bool:
    text = when.strip()
    return bool(_DAILY.match(text) or _WEEKLY.match(text) or recurring_pattern(text))


def parse_recurring(when: str, *, now: datetime, tz: str) -> tuple[str, datetime]:
    """'jeden Montag 9 Uhr' → ('weekly:0@09:00', first occurrence). Raises UserFacingError."""
    text = when.strip()
    pattern = recurring_pattern(text)
    if pattern is not None:
        rule = _rrule_for(pattern, parse_time_of_day(pattern.rest), now, ZoneInfo(tz))
        return rule, next_occurrence(rule, now, tz)
    daily = _DAILY.match(text)
    if daily:
        first = parse_when(daily.group("rest") or "9 Uhr", now=now, tz=tz)
        local = first.astimezone(ZoneInfo(tz))
        rule = f"daily@{local:%H:%M}"
    else:
        weekly = _WEEKLY.match(text)
        if weekly is None:
            raise UserFacingError(N_("Beispiel: „erinnern jeden Montag 9 Uhr; Wochenplanung“."))
        if not _names_weekday(weekly.group("rest")):
            raise UserFacingError(msg.RECURRING_FORMS)
        first = parse_when(weekly.group("rest"), now=now, tz=tz)
        local = first.astimezone(ZoneInfo(tz))
        rule = f"weekly:{local.weekday()}@{local:%H:%M}"
    return rule, next_occurrence(rule, now, tz)


def _names_weekday(text: str) -> bool:
    words = {w.casefold().rstrip(".,") for w in text.split()}
    names = {d.casefold() for d in WEEKDAYS_DE + WEEKDAYS_EN}
    names |= {d[:2].casefold() for d in WEEKDAYS_DE} | {d[:3].casefold() for d in WEEKDAYS_EN}
    return bool(words & names)


def _parts(rule: str) -> tuple[int | None, time]:
    match = _RULE.match(rule)
    if match is None:
        raise ValueError(f"not a recurrence rule: {rule!r}")
    day = match.group("day")
    return (int(day) if day is not None else None), time(
        int(match.group("h")), int(match.group("m"))
    )


def _rrule_for(pattern: Pattern, at: time, now: datetime, zone: ZoneInfo) -> str:
    """The stored rule. DTSTART is the first occurrence itself, so that "every second Monday"
    counts its weeks from the Monday the user meant, not from the week the command was typed."""
    ordinal = "" if pattern.ordinal is None else str(pattern.ordinal)
    body = f"FREQ={pattern.freq};BYDAY=" + ",".join(ordinal + _CODES[d] for d in pattern.days)
    today = datetime.combine(now.astimezone(zone).date(), at)
    first = _next_local(f"{_RRULE_PREFIX}{today:%Y%m%dT%H%M%S}\nRRULE:{body}", now, zone)
    interval = f";INTERVAL={pattern.interval}" if pattern.interval > 1 else ""
    return f"{_RRULE_PREFIX}{first:%Y%m%dT%H%M%S}\nRRULE:{body}{interval}"


@lru_cache(maxsize=256)
def _expanded(rule: str) -> Any:
    return rrulestr(rule)


def _next_local(rule: str, after: datetime, zone: ZoneInfo) -> datetime:
    """The first local wall time of ``rule`` that, placed in ``zone``, is after ``after``.
    The search starts a day early: around the autumn change wall time and instant disagree."""
    expanded = _expanded(rule)
    candidate = expanded.after(after.astimezone(zone).replace(tzinfo=None) - timedelta(days=1))
    while candidate is not None:
        if to_aware(candidate, zone) > after:
            return candidate  # type: ignore[no-any-return]
        candidate = expanded.after(candidate)
    raise ValueError(f"rule has no occurrence after {after}: {rule!r}")


def next_occurrence(rule: str, after: datetime, tz: str) -> datetime:
    """The first moment of ``rule`` strictly after ``after`` (aware, in ``tz``)."""
    if rule.startswith(_RRULE_PREFIX):
        zone = ZoneInfo(tz)
        return to_aware(_next_local(rule, after, zone), zone)
    weekday, at = _parts(rule)
    zone = ZoneInfo(tz)
    day = after.astimezone(zone).date()
    for offset in range(9):
        candidate_day = day + timedelta(days=offset)
        if weekday is not None and candidate_day.weekday() != weekday:
            continue
        candidate = to_aware(datetime.combine(candidate_day, at), zone)
        if candidate > after:
            return candidate
    raise AssertionError("a weekly rule always has an occurrence within 8 days")


def describe_rule(rule: str, language: str) -> str:
    if rule.startswith(_RRULE_PREFIX):
        return _describe_rrule(rule, language)
    weekday, at = _parts(rule)
    if language == "en":
        return (
            f"daily at {at:%H:%M}"
            if weekday is None
            else f"every {WEEKDAYS_EN[weekday]} {at:%H:%M}"
        )
    if weekday is None:
        return f"täglich um {at:%H:%M} Uhr"
    return f"jeden {WEEKDAYS_DE[weekday]} um {at:%H:%M} Uhr"


_NTH_DE = {2: "zweiten", 3: "dritten", 4: "vierten"}
_NTH_EN = {2: "second", 3: "third", 4: "fourth"}
_ORD_DE = {1: "ersten", 2: "zweiten", 3: "dritten", 4: "vierten", -1: "letzten"}
_ORD_EN = {1: "first", 2: "second", 3: "third", 4: "fourth", -1: "last"}


def _listed(names: list[str], conjunction: str) -> str:
    return names[0] if len(names) == 1 else f"{', '.join(names[:-1])} {conjunction} {names[-1]}"


def _describe_rrule(rule: str, language: str) -> str:
    """In words, as the user would say it: 'jeden zweiten Montag um 09:00 Uhr'."""
    start, _, body = rule.partition("\nRRULE:")
    at = datetime.strptime(start.removeprefix(_RRULE_PREFIX), "%Y%m%dT%H%M%S")
    parts = dict(item.split("=", 1) for item in body.split(";"))
    byday = parts["BYDAY"].split(",")
    days = [_CODES.index(code[-2:]) for code in byday]
    interval = int(parts.get("INTERVAL", "1"))
    en = language == "en"
    names = [(WEEKDAYS_EN if en else WEEKDAYS_DE)[d] for d in days]
    clock = f"at {at:%H:%M}" if en else f"um {at:%H:%M} Uhr"
    if parts["FREQ"] == MONTHLY:
        nth = int(byday[0][:-2])
        if en:
            return f"the {_ORD_EN[nth]} {names[0]} of every month {clock}"
        return f"jeden {_ORD_DE[nth]} {names[0]} im Monat {clock}"
    if tuple(days) == WORKDAYS and interval == 1:
        return (
            f"every weekday (Monday to Friday) {clock}"
            if en
            else f"werktags (Montag bis Freitag) {clock}"
        )
    if en:
        every = f"every {_NTH_EN[interval]}" if interval > 1 else "every"
        return f"{every} {_listed(names, 'and')} {clock}"
    every = f"jeden {_NTH_DE[interval]}" if interval > 1 else "jeden"
    return f"{every} {_listed(names, 'und')} {clock}"
