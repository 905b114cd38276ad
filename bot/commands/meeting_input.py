"""Reading what organisers type for meetings: meeting numbers and times on a meeting's day."""

from __future__ import annotations

from datetime import date, datetime, time
from zoneinfo import ZoneInfo

from bot.dates import parse_when
from bot.dates.extract import extract, leftover
from bot.dates.normalise import normalise
from bot.dates.reading import Reading
from bot.dates.resolve import time_of_day, to_aware
from bot.errors import UserFacingError
from bot.i18n import N_


def clock_only(text: str) -> time | None:
    """'10 Uhr', '11:30', '14.15 Uhr' → the time; None when the text names a day as well."""
    reading = Reading(original=text.strip(), text=normalise(text))
    if not reading.text:
        return None
    try:
        extract(reading)
    except UserFacingError:
        return None
    if leftover(reading) or reading.date_kinds() or reading.weekday is not None:
        return None
    if reading.clock is None:
        return None
    return time_of_day(reading)


def parse_moment(text: str, *, now: datetime, tz: ZoneInfo, day: date | None = None) -> datetime:
    """A typed time; a clock time alone means that time on ``day`` (when given)."""
    if day is not None:
        clock = clock_only(text)
        if clock is not None:
            return to_aware(datetime.combine(day, clock), tz)
    return parse_when(text, now=now, tz=str(tz.key))


def parse_number(text: str) -> int:
    cleaned = text.strip().lstrip("#")
    if not cleaned.isdigit() or len(cleaned) > 6:
        raise UserFacingError(
            N_("„{text}“ ist keine Treffen-Nummer. „treffen“ listet die Treffen mit Nummer."),
            text=text[:40],
        )
    return int(cleaned)
