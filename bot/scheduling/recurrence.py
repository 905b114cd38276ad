"""Recurring reminders as calendar rules in local time: every Monday 09:00 stays 09:00 across
the DST changes. Rules are stored as text in ``Reminder.recurrence``: ``daily@08:00`` or
``weekly:0@09:00`` (0 = Monday). A wall time in the spring gap or the ambiguous autumn hour
follows the dates rules (:func:`bot.dates.resolve.to_aware`)."""

from __future__ import annotations

import re
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from bot.dates import parse_when
from bot.dates.resolve import to_aware
from bot.errors import UserFacingError
from bot.i18n import N_

_RULE = re.compile(r"^(?:daily|weekly:(?P<day>[0-6]))@(?P<h>\d\d):(?P<m>\d\d)$")
_DAILY = re.compile(r"^(?:täglich|taeglich|jeden\s+tag|daily|every\s+day)\b\s*(?P<rest>.*)$", re.I)
_WEEKLY = re.compile(r"^(?:jeden|jede|every)\s+(?P<rest>\S.*)$", re.I)
WEEKDAYS_DE = ("Montag", "Dienstag", "Mittwoch", "Donnerstag", "Freitag", "Samstag", "Sonntag")
WEEKDAYS_EN = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")


def is_recurring(when: str) -> bool:
    text = when.strip()
    return bool(_DAILY.match(text) or _WEEKLY.match(text))


def parse_recurring(when: str, *, now: datetime, tz: str) -> tuple[str, datetime]:
    """'jeden Montag 9 Uhr' → ('weekly:0@09:00', first occurrence). Raises UserFacingError."""
    text = when.strip()
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
            raise UserFacingError(
                N_(
                    "Wiederkehrende Erinnerungen gibt es täglich oder wöchentlich, z. B. "
                    "„erinnern jeden Montag 9 Uhr; …“ oder „erinnern täglich 8 Uhr; …“."
                )
            )
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


def next_occurrence(rule: str, after: datetime, tz: str) -> datetime:
    """The first moment of ``rule`` strictly after ``after`` (aware, in ``tz``)."""
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
