"""Understanding the times people type: one function for every command that takes a time.

Pipeline (one module per step): :mod:`~bot.dates.normalise` the text, let the rules in
:mod:`~bot.dates.extract` read clock time, date and durations into a
:class:`~bot.dates.reading.Reading`, give what is left to dateparser
(:mod:`~bot.dates.fallback`), then :mod:`~bot.dates.resolve` combines and validates with
``zoneinfo``. Anything unclear raises :class:`~bot.errors.UserFacingError`; nothing is guessed.
"""

from __future__ import annotations

from datetime import date, datetime, time
from zoneinfo import ZoneInfo

from bot.dates import messages as msg
from bot.dates.extract import extract, leftover
from bot.dates.fallback import fallback_date
from bot.dates.normalise import normalise
from bot.dates.reading import Reading
from bot.dates.resolve import resolve, time_of_day
from bot.errors import UserFacingError
from bot.i18n import format_when, translator

__all__ = ["DEADLINE_TIME", "describe_when", "parse_deadline", "parse_time_of_day", "parse_when"]

#: A deadline given as a date only ends at the end of that day.
DEADLINE_TIME = time(23, 59)


def parse_when(
    text: str, *, now: datetime, tz: str = "Europe/Berlin", default_time: time = time(9, 0)
) -> datetime:
    """The moment ``text`` names, aware in ``tz`` and strictly after ``now``.

    Raises :class:`UserFacingError` (a ``ValueError``) when the text is empty, too long, not
    understood, impossible, ambiguous or in the past; the message gives a phrase that works.
    """
    if now.tzinfo is None or now.utcoffset() is None:
        raise ValueError("now must be timezone-aware")  # a programming error, not the user's
    zone = ZoneInfo(tz)
    if len(text) > msg.MAX_LENGTH:
        msg.fail(msg.TOO_LONG, limit=msg.MAX_LENGTH)
    reading = Reading(original=text.strip(), text=normalise(text))
    if not reading.text:
        msg.fail(msg.EMPTY)
    extract(reading)
    unknown = leftover(reading)
    if unknown:
        reading.fallback = _fallback(reading, unknown, now.astimezone(zone), tz)
    try:
        return resolve(reading, now, zone, default_time)
    except UserFacingError:
        raise
    except (OverflowError, ValueError):  # "in 999999 Monaten": beyond what datetime can hold
        msg.fail(msg.NOT_UNDERSTOOD, text=msg.quote(reading.original))


def parse_deadline(text: str, *, now: datetime, tz: str = "Europe/Berlin") -> datetime:
    """Like :func:`parse_when`, but a date without a time means 23:59 that day."""
    return parse_when(text, now=now, tz=tz, default_time=DEADLINE_TIME)


def parse_time_of_day(text: str, *, default: time = time(9, 0)) -> time:
    """The wall time a recurrence phrase ends with ("9 Uhr", "halb 3", "morgens"), or
    ``default`` for nothing. Anything naming a day as well is refused: the rule gives the days."""
    if len(text) > msg.MAX_LENGTH:
        msg.fail(msg.TOO_LONG, limit=msg.MAX_LENGTH)
    reading = Reading(original=text.strip(), text=normalise(text))
    if not reading.text:
        return default
    extract(reading)
    named_day = reading.date_kinds() or reading.weekday is not None or reading.has_duration
    if leftover(reading) or named_day:
        msg.fail(msg.TIME_OF_DAY_ONLY, text=msg.quote(reading.original))
    return time_of_day(reading) or default


def describe_when(moment: datetime, language: str) -> str:
    """The echo every command gives: 'Verstanden: Dienstag, 1. Dezember 2026, 14:00 Uhr'."""
    return translator(language)(msg.UNDERSTOOD).format(when=format_when(moment, language))


def _fallback(reading: Reading, unknown: list[str], local_now: datetime, tz: str) -> date:
    """Ask dateparser about words the rules left, but only for a date nothing else gave."""
    if reading.date_kinds() or reading.weekday is not None:
        msg.fail(msg.NOT_UNDERSTOOD, text=msg.quote(reading.original))
    # A phrase of bare numbers or symbols is not a date dateparser should invent ("99999999").
    if not any(len(word) >= 3 and word.isalpha() for word in unknown):
        msg.fail(msg.NOT_UNDERSTOOD, text=msg.quote(reading.original))
    found = fallback_date(" ".join(reading.text.split()), local_now, tz)
    if found is None:
        msg.fail(msg.NOT_UNDERSTOOD, text=msg.quote(reading.original))
    return found
