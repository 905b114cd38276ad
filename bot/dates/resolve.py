"""Step 3 of the pipeline: turn a Reading into one aware datetime, or refuse.

All calendar arithmetic happens on naive local wall times; only the final wall time is given
a zone, with ``zoneinfo`` and ``fold=0`` (R10). That is what keeps "morgen 9 Uhr" at 09:00 across
a DST change, while durations in minutes and hours are added to the UTC instant instead (R4).
"""

from __future__ import annotations

import calendar
from collections.abc import Callable
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from bot.dates import messages as msg
from bot.dates.lexicon import AFTERNOON, EVENING, MORNING, NOON, PART_OF_DAY_TIME
from bot.dates.reading import Reading

# Hours a clock time may take together with a part of the day, after "8 Uhr abends" -> 20:00.
_PART_HOURS = {
    MORNING: range(4, 12),
    NOON: range(11, 15),
    AFTERNOON: range(12, 19),
    EVENING: range(17, 24),
}
# Spoken 12-hour times ("halb 3") without am/pm or a part of the day are read as office hours,
# 08:00-19:59: hours 1-7 are the afternoon. The echo shows the 24-hour reading.
_SPOKEN_AFTERNOON = range(1, 8)
# How many years ahead to look for a day-month such as 29 February (R6).
_YEARS_AHEAD = 8


def to_aware(local: datetime, zone: ZoneInfo) -> datetime:
    """A wall time in ``zone``: a time in the spring gap moves forward by the gap, an ambiguous
    autumn time takes the first (summer-time) occurrence. The round trip through UTC turns the
    fold=0 reading of a gap time (02:30 at the old offset) into the real wall time (03:30)."""
    return local.replace(tzinfo=zone, fold=0).astimezone(UTC).astimezone(zone)


def add_months(moment: datetime, months: int) -> datetime:
    """Calendar months; the 31st becomes the last day of a shorter month."""
    index = moment.year * 12 + moment.month - 1 + months
    year, month = divmod(index, 12)
    day = min(moment.day, calendar.monthrange(year, month + 1)[1])
    return moment.replace(year=year, month=month + 1, day=day)


def time_of_day(reading: Reading) -> time | None:
    """The explicit clock time (R1), adjusted by a part of the day (R3), or None."""
    if reading.clock is None:
        return PART_OF_DAY_TIME[reading.part] if reading.part else None
    hour, minute = reading.clock
    if reading.part is not None and reading.meridiem is None:
        if reading.part != MORNING and 1 <= hour <= 11 and hour + 12 in _PART_HOURS[reading.part]:
            hour += 12  # "8 Uhr abends", "3 in the afternoon"
        if hour not in _PART_HOURS[reading.part]:
            msg.fail(msg.NOT_UNDERSTOOD, text=msg.quote(reading.original))
    elif reading.clock_is_bare_at:
        msg.fail(msg.AMBIGUOUS_HOUR, text=msg.quote(reading.original), hour=hour, pm_hour=hour + 12)
    elif reading.clock_spoken and hour in _SPOKEN_AFTERNOON:
        hour += 12  # office hours: "halb 3" is 14:30, "viertel nach 9" 09:15; echoed as 24 h
    return time(hour, minute)


def resolve(reading: Reading, now: datetime, zone: ZoneInfo, default_time: time) -> datetime:
    local_now = now.astimezone(zone).replace(tzinfo=None)
    today = local_now.date()
    if len(reading.date_kinds()) > 1 or (reading.has_duration and reading.weekday is not None):
        msg.fail(msg.CONFLICT, text=msg.quote(reading.original))
    clock = time_of_day(reading)

    def at(day: date) -> datetime:
        return to_aware(datetime.combine(day, clock or default_time), zone)

    if reading.has_duration:
        moment = _duration(reading, now, local_now, zone, clock)
    elif (fixed := reading.fixed or reading.fallback) is not None:
        moment = at(_check_weekday(reading, fixed))
    elif reading.day_month is not None:
        moment = _next_day_month(reading, now, today, at)
    elif reading.day_offset is not None:
        moment = at(_check_weekday(reading, today + timedelta(days=reading.day_offset)))
    elif reading.month_end is not None:
        moment = at(_month_end(today, reading.month_end))
        if moment <= now and reading.month_end == 0:
            moment = at(_month_end(today, 1))  # R9: this month's end has passed
    elif reading.week_offset is not None:
        monday = today + timedelta(days=7 * reading.week_offset - today.weekday())
        moment = at(monday + timedelta(days=reading.weekday or 0))
    elif reading.weekday is not None:
        ahead = (reading.weekday - today.weekday()) % 7
        today_allowed = clock is not None and not reading.weekday_strict and at(today) > now
        moment = at(today + timedelta(days=ahead or (0 if today_allowed else 7)))  # R5
    elif clock is not None:
        moment = at(today) if at(today) > now else at(today + timedelta(days=1))  # R8
    else:
        msg.fail(msg.NOT_UNDERSTOOD, text=msg.quote(reading.original))
    if moment <= now:
        msg.fail(msg.PAST, text=msg.quote(reading.original))
    return moment


def _duration(
    reading: Reading, now: datetime, local_now: datetime, zone: ZoneInfo, clock: time | None
) -> datetime:
    if reading.minutes and clock is not None:
        msg.fail(msg.CONFLICT, text=msg.quote(reading.original))
    moment = now.astimezone(zone)
    if reading.months or reading.days:
        # Calendar steps keep the local time of day (or take the one the user named).
        local = add_months(local_now, reading.months) + timedelta(days=reading.days)
        if clock is not None:
            local = datetime.combine(local.date(), clock)
        moment = to_aware(local, zone)
    # Minutes and hours are elapsed time: added to the instant, not to the wall clock.
    return (moment.astimezone(UTC) + timedelta(minutes=reading.minutes)).astimezone(zone)


def _check_weekday(reading: Reading, day: date) -> date:
    if reading.weekday is not None and reading.weekday != day.weekday():
        msg.fail(msg.WEEKDAY_MISMATCH, text=msg.quote(reading.original), date=f"{day:%d.%m.%Y}")
    return day


def _next_day_month(
    reading: Reading, now: datetime, today: date, at: Callable[[date], datetime]
) -> datetime:
    """R6: a day and month without a year. The coming occurrence, unless the date has just
    passed: up to three months back ("8.10." on 8 October at 10:00, "1.10." a week later) it is
    more likely a typo or a forgotten year than a date a year ahead, so it is refused with the
    suggestion; further back it means the coming year (the echo shows the year)."""
    day, month = reading.day_month or (0, 0)
    occurrences = []
    for year in range(today.year - _YEARS_AHEAD, today.year + _YEARS_AHEAD + 1):
        try:
            occurrences.append(date(year, month, day))
        except ValueError:
            continue  # 29 February outside a leap year
    coming = next((d for d in occurrences if at(d) > now), None)
    passed = [d for d in occurrences if at(d) <= now]
    if coming is None:
        msg.fail(msg.NOT_UNDERSTOOD, text=msg.quote(reading.original))
    if passed and passed[-1] >= add_months(datetime.combine(today, time()), -3).date():
        msg.fail(
            msg.DAY_MONTH_PASSED,
            date=f"{day}.{month}.",
            suggestion=f"{day}.{month}.{coming.year}",
        )
    return at(_check_weekday(reading, coming))


def _month_end(today: date, months_ahead: int) -> date:
    index = today.year * 12 + today.month - 1 + months_ahead
    year, month = divmod(index, 12)
    return date(year, month + 1, calendar.monthrange(year, month + 1)[1])
