"""What the rules found in a phrase, before any calendar arithmetic.

The extractors fill one :class:`Reading`; each slot may be filled once. A second, different
value for the same slot ("Freitag Montag", "14 Uhr 16 Uhr") is a conflict and an error, because
picking one of them would be a silent guess.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

from bot.dates import messages as msg


@dataclass
class Reading:
    original: str  # the user's text, for messages
    text: str  # the normalised text; matched parts are blanked out as the rules consume them
    clock: tuple[int, int] | None = None  # explicit hour and minute (R1)
    meridiem: str | None = None  # "am"/"pm" when the user gave one
    clock_is_bare_at: bool = False  # "at 3": English hour without am/pm
    clock_spoken: bool = False  # "halb 3": a 12-hour dial without am/pm
    part: str | None = None  # part of the day (R3)
    day_offset: int | None = None  # heute 0, morgen 1, übermorgen 2 (R9)
    explicit_day: bool = False  # the user named the day, so a past time is an error (R8)
    weekday: int | None = None  # 0 = Monday (R5)
    weekday_strict: bool = False  # "nächsten/next Freitag": never today
    week_offset: int | None = None  # "nächste Woche" (R9)
    fixed: date | None = None  # a date with a year (R7)
    day_month: tuple[int, int] | None = None  # a date without a year (R6)
    month_end: int | None = None  # "Ende des Monats": 0 this month, 1 next month (R9)
    minutes: int = 0  # elapsed part of a duration (R4)
    days: int = 0  # calendar part of a duration (R4)
    months: int = 0
    has_duration: bool = False
    fallback: date | None = None  # the date dateparser found in what the rules left over

    def set(self, slot: str, value: object) -> None:
        """Fill ``slot`` once; the same value twice is fine, a different one is a conflict."""
        current = getattr(self, slot)
        if current is not None and current != value:
            msg.fail(msg.CONFLICT, text=msg.quote(self.original))
        setattr(self, slot, value)

    def take(self, pattern: re.Pattern[str]) -> list[re.Match[str]]:
        """All matches of ``pattern``, blanked out of the working text."""
        matches = list(pattern.finditer(self.text))
        for match in reversed(matches):
            start, end = match.span()
            self.text = self.text[:start] + " " * (end - start) + self.text[end:]
        return matches

    def date_kinds(self) -> list[str]:
        """Which kinds of date were given; more than one (other than a weekday) conflicts."""
        kinds = {
            "day_offset": self.day_offset is not None,
            "fixed": self.fixed is not None,
            "day_month": self.day_month is not None,
            "month_end": self.month_end is not None,
            "week_offset": self.week_offset is not None,
            "calendar_duration": self.has_duration,
            "fallback": self.fallback is not None,
        }
        return [kind for kind, present in kinds.items() if present]

    @property
    def has_time(self) -> bool:
        return self.clock is not None or self.part is not None
