"""Recurrence phrases beyond "täglich" and "jeden Montag": which days, read into a :class:`Pattern`.

"werktags", "jeden zweiten Montag", "jeden ersten Montag im Monat", "Montag und Donnerstag"
(and the English forms). The time of day after the pattern is read by
:func:`bot.dates.parse_time_of_day`; :mod:`bot.scheduling.recurrence` turns the pattern into an
RFC 5545 rule (dateutil.rrule) and computes the occurrences in local time.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from bot.dates import messages as msg
from bot.dates.extract import _alt
from bot.dates.lexicon import WEEKDAYS
from bot.dates.normalise import normalise

WEEKLY, MONTHLY = "WEEKLY", "MONTHLY"
WORKDAYS = (0, 1, 2, 3, 4)


@dataclass(frozen=True)
class Pattern:
    freq: str  # WEEKLY or MONTHLY
    days: tuple[int, ...]  # weekdays, 0 = Monday
    rest: str  # what follows: the time of day ("9 uhr"), maybe empty
    interval: int = 1  # every n-th week
    ordinal: int | None = None  # MONTHLY: the 1st..4th, or -1 the last weekday of the month


# Weekday names, also as adverbs ("montags") and plurals ("mondays").
_DAY = rf"(?:{_alt(WEEKDAYS)})s?"
_ORDINALS = {
    "ersten": 1, "zweiten": 2, "dritten": 3, "vierten": 4, "letzten": -1,
    "1.": 1, "2.": 2, "3.": 3, "4.": 4,
    "first": 1, "second": 2, "third": 3, "fourth": 4, "last": -1, "other": 2,
    "1st": 1, "2nd": 2, "3rd": 3, "4th": 4,
}  # fmt: skip
_ORD = rf"(?P<ord>{_alt(_ORDINALS)})(?!\w)"
_REST = r"(?P<rest>(?:\s.*)?)$"

_WORKDAYS_RE = re.compile(
    r"^(?:werktags|jeden\s+werktag|an\s+werktagen|montags?\s+bis\s+freitags?"
    r"|(?:every|each)\s+(?:weekday|working\s+day|workday)|(?:on\s+)?weekdays"
    r"|monday\s+(?:to|through)\s+friday)" + _REST
)
_MONTHLY_RE = re.compile(
    rf"^(?:(?:jeden|jede|am|every|on|each)\s+)?(?:the\s+)?{_ORD}\s+(?P<day>{_DAY})\s+"
    rf"(?:im\s+monat|jedes\s+monats|des\s+monats|(?:of|in)\s+(?:the|every|each)\s+month)" + _REST
)
_NTH_WEEK_RE = re.compile(rf"^(?:jeden|jede|alle|every)\s+{_ORD}\s+(?P<day>{_DAY})(?!\w)" + _REST)
_SEVERAL_RE = re.compile(
    rf"^(?:(?:jeden|jede|every|on)\s+)?(?P<days>{_DAY}(?:\s*(?:,|und|and|&)\s*{_DAY})+)(?!\w)"
    + _REST
)
_DAY_RE = re.compile(rf"\b{_DAY}\b")


def _weekday(word: str) -> int:
    return WEEKDAYS[word] if word in WEEKDAYS else WEEKDAYS[word[:-1]]


def recurring_pattern(text: str) -> Pattern | None:
    """The pattern ``text`` starts with, or None when it names none of these forms."""
    phrase = normalise(text)
    if m := _WORKDAYS_RE.match(phrase):
        return Pattern(WEEKLY, WORKDAYS, m["rest"])
    if (m := _MONTHLY_RE.match(phrase)) and m["ord"] != "other":
        return Pattern(MONTHLY, (_weekday(m["day"]),), m["rest"], ordinal=_ORDINALS[m["ord"]])
    if m := _NTH_WEEK_RE.match(phrase):
        if _ORDINALS[m["ord"]] < 2:  # "jeden ersten Montag": of the month? Refuse, not guess.
            msg.fail(msg.RECURRING_FORMS)
        return Pattern(WEEKLY, (_weekday(m["day"]),), m["rest"], interval=_ORDINALS[m["ord"]])
    if m := _SEVERAL_RE.match(phrase):
        days = tuple(sorted({_weekday(d) for d in _DAY_RE.findall(m["days"])}))
        if len(days) >= 2:
            return Pattern(WEEKLY, days, m["rest"])
    return None
