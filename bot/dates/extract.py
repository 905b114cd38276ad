"""Step 2 of the pipeline: the rules. Each extractor reads one kind of phrase into the Reading.

The order matters and is the order of :func:`extract`: phrases that contain digits which would
also look like a time ("12.03.2027", "in 3 h") are taken before the clock rules run, and
whatever is left at the end must be filler words, or the fallback (dateparser) gets a try.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import date

from bot.dates import messages as msg
from bot.dates.lexicon import (
    EVENING,
    FILLER,
    MONTHS,
    NUMBER_WORDS,
    PART_OF_DAY_WORDS,
    UNITS,
    WEEKDAYS,
)
from bot.dates.reading import Reading


def _alt(words: Iterable[str]) -> str:
    """A regex alternation, longest first so that "september" wins over "sep"."""
    return "|".join(re.escape(w) for w in sorted(words, key=len, reverse=True))


_MONTH = _alt(MONTHS)
_WEEKDAY = _alt(WEEKDAYS)
_NUM = rf"\d{{1,6}}|(?:{_alt(NUMBER_WORDS)})\b"
_UNIT = rf"(?:{_alt(UNITS)})\b"
_PART = _alt(PART_OF_DAY_WORDS)
_HOUR_WORDS = {w: n for w, n in NUMBER_WORDS.items() if w in {"ein", "eins"} or n > 1}
_NO_DIGIT_BEFORE = r"(?<![\d.:/])"

# Fixed phrases for fractions of an hour, in minutes.
_SPECIAL_DURATIONS = {
    "einer halben stunde": 30, "eine halbe stunde": 30, "half an hour": 30, "a half hour": 30,
    "einer viertelstunde": 15, "eine viertelstunde": 15, "a quarter of an hour": 15,
    "a quarter hour": 15, "anderthalb stunden": 90, "eineinhalb stunden": 90,
    "an hour and a half": 90, "one and a half hours": 90,
}  # fmt: skip
_COMPONENT = rf"(?:{_alt(_SPECIAL_DURATIONS)}|(?:{_NUM})\s*{_UNIT})"
_COMPONENTS = rf"{_COMPONENT}(?:\s*(?:,|und|and)?\s*{_COMPONENT})*"
_ONE_COMPONENT = re.compile(
    rf"(?P<special>{_alt(_SPECIAL_DURATIONS)})|(?P<num>{_NUM})\s*(?P<unit>{_UNIT})"
)

_PAST = re.compile(
    rf"\b(?:gestern|vorgestern|yesterday"
    rf"|(?:letzten|letzte|letzter|letztes|vergangenen|vergangene|last)\s+"
    rf"(?:{_WEEKDAY}|woche|week|monat|month)"
    rf"|vor\s+{_COMPONENTS}|{_COMPONENTS}\s+ago)\b"
)
# "nächsten Monat", "next year": which day is meant? dateparser would pick today's day number.
_VAGUE = re.compile(
    r"\b(?:nächsten|nächster|nächstes|kommenden|kommendes|diesen|dieses|next|this)\s+"
    r"(?:monat|month|jahr|year)\b"
)
_DURATION = re.compile(
    rf"\b(?:in|within|innerhalb\s+von|innerhalb|binnen)\s+(?P<a>{_COMPONENTS})"
    rf"(?:\s+(?:from\s+now|from\s+today|ab\s+heute|ab\s+jetzt|später|later))?"
    rf"|\b(?P<b>{_COMPONENTS})\s+(?:from\s+now|from\s+today|ab\s+heute|ab\s+jetzt|später|later)\b"
)
_ISO = re.compile(
    rf"{_NO_DIGIT_BEFORE}(\d{{4}})-(\d{{1,2}})-(\d{{1,2}})"
    rf"(?:(?:t|\s+)(\d{{1,2}}):(\d{{2}})(?::\d{{2}})?)?(?![\d:])"
)
_NUMERIC_YEAR = re.compile(
    rf"{_NO_DIGIT_BEFORE}(\d{{1,2}})([./-])(\d{{1,2}})\2(\d{{4}}|\d{{2}})(?![\d:])(?!\.\d)"
)
_NUMERIC_DAY_MONTH = re.compile(
    rf"{_NO_DIGIT_BEFORE}(\d{{1,2}})(?:\.(\d{{1,2}})\.|/(\d{{1,2}}))(?![\d/])"
)
_YEAR = r"(?:\s*,?\s*(\d{4})(?![\d:.]))?"
_DAY_MONTHNAME = re.compile(
    rf"{_NO_DIGIT_BEFORE}(\d{{1,2}})(?:\.|st|nd|rd|th)?\s*(?:of\s+)?({_MONTH})\b\.?{_YEAR}"
)
_MONTHNAME_DAY = re.compile(
    rf"\b({_MONTH})\b\.?\s+(?:the\s+)?(\d{{1,2}})(?:st|nd|rd|th)?(?![\d:.]){_YEAR}"
)
_NEXT_NEXT_WEEK = re.compile(
    r"\b(?:in\s+)?(?:der\s+)?übernächste[nr]?\s+woche\b|\b(?:the\s+)?week\s+after\s+next\b"
)
_NEXT_WEEK = re.compile(
    r"\b(?:in\s+)?(?:der\s+)?(?:nächsten|nächste|nächster|kommenden|kommende)\s+woche\b"
    r"|\bnext\s+week\b"
)
_MONTH_END_NEXT = re.compile(
    r"\b(?:ende\s+(?:des\s+)?nächsten\s+monats|(?:the\s+)?end\s+of\s+next\s+month)\b"
)
_MONTH_END = re.compile(
    r"\b(?:ende\s+(?:des|dieses)\s+monats|monatsende|ende\s+monat"
    r"|(?:the\s+)?end\s+of\s+(?:the\s+|this\s+)?month)\b"
)
_DAY_WORDS = (
    (re.compile(r"\b(?:(?:the\s+)?day\s+after\s+tomorrow|übermorgen)\b"), 2),
    (re.compile(r"\b(?:morgen|tomorrow)\b"), 1),
    (re.compile(r"\b(?:heute|today)\b"), 0),
)
_TONIGHT = re.compile(r"\btonight\b")
_WEEKDAY_RE = re.compile(
    rf"\b(?:(?P<strict>nächsten|nächster|nächste|kommenden|kommender|kommende|next|coming)\s+)?"
    rf"(?P<day>{_WEEKDAY})\b\.?"
)
_CLOCK_MERIDIEM = re.compile(
    rf"{_NO_DIGIT_BEFORE}(\d{{1,2}})(?:[:.](\d{{2}}))?\s*(a\.?m|p\.?m)\b\.?"
)
_CLOCK_DOTTED_UHR = re.compile(
    rf"{_NO_DIGIT_BEFORE}(\d{{1,2}})(?:[:.](\d{{2}})\s*(?:uhr|h)|h(\d{{2}}))\b"
)
_CLOCK_COLON = re.compile(rf"{_NO_DIGIT_BEFORE}(\d{{1,2}}):(\d{{2}})(?![\d:])")
_CLOCK_UHR = re.compile(
    rf"{_NO_DIGIT_BEFORE}(\d{{1,2}})\s*(?:uhr|h)\b(?:\s+(\d{{2}})(?![\d.:])(?!\s*(?:uhr|h)\b))?"
)
_CLOCK_WORD_UHR = re.compile(rf"\b({_alt(_HOUR_WORDS)})\s+uhr\b")
_CLOCK_AFTER_WORD = re.compile(r"\b(um|at|gegen|ab)\s+(\d{1,2})(?:[:.](\d{2}))?(?![\d:/])(?!\.\d)")
# Clock times in words, spoken on a 12-hour dial: "halb 3" is 2:30, "viertel vor 10" 9:45,
# "dreiviertel 10" 9:45, "quarter past 9" 9:15. The offset is (hour step, minute) from N.
_SPOKEN_HOURS = {w: n for w, n in NUMBER_WORDS.items() if n > 1 or w in {"ein", "eins", "one"}}
_SPOKEN_KINDS = {
    "halb": (-1, 30), "half past": (0, 30),
    "viertel nach": (0, 15), "quarter past": (0, 15), "a quarter past": (0, 15),
    "viertel vor": (-1, 45), "dreiviertel": (-1, 45), "drei viertel": (-1, 45),
    "quarter to": (-1, 45), "a quarter to": (-1, 45),
}  # fmt: skip
_CLOCK_SPOKEN = re.compile(
    rf"\b(?P<kind>{_alt(_SPOKEN_KINDS)})\s+(?P<n>\d{{1,2}}|{_alt(_SPOKEN_HOURS)})(?![\d:.]\d)"
    rf"(?:\s*(?:uhr\b|(?P<mer>a\.?m|p\.?m)\b\.?))?"
)
_DOTTED = re.compile(rf"{_NO_DIGIT_BEFORE}(\d{{1,2}})\.(\d{{1,2}})(?![\d.:/])")
_PART_RE = re.compile(rf"\b({_PART})\b")
_LEFTOVER = re.compile(r"\w+|[^\w\s.,;:!?()\-–/]")
_CLOCK_WORDS = frozenset({"um", "at", "gegen", "ab"})


def _number(token: str) -> int:
    return int(token) if token.isdigit() else NUMBER_WORDS[token]


def _checked_date(year: int, month: int, day: int, shown: str) -> date:
    try:
        return date(year, month, day)
    except ValueError:
        msg.fail(msg.IMPOSSIBLE_DATE, date=shown)


def _check_day_month(day: int, month: int) -> tuple[int, int]:
    # 29 February exists (in leap years); 30 February or 31 April never does.
    try:
        date(2000, month, day)
    except ValueError:
        msg.fail(msg.IMPOSSIBLE_DATE, date=f"{day}.{month:02d}.")
    return day, month


def _year(token: str) -> int:
    return 2000 + int(token) if len(token) == 2 else int(token)


def _after_clock_word(reading: Reading, start: int) -> bool:
    before = reading.text[:start].split()
    return bool(before) and before[-1] in _CLOCK_WORDS


def _set_clock(reading: Reading, hour: int, minute: int, meridiem: str | None = None) -> None:
    if meridiem is not None:
        if not 1 <= hour <= 12 or minute > 59:
            msg.fail(msg.IMPOSSIBLE_TIME, clock=f"{hour}:{minute:02d} {meridiem}")
        hour = hour % 12 + (12 if meridiem == "pm" else 0)
    elif hour > 23 or minute > 59:
        msg.fail(msg.IMPOSSIBLE_TIME, clock=f"{hour}:{minute:02d}")
    reading.set("clock", (hour, minute))
    reading.set("meridiem", meridiem)


def _past(reading: Reading) -> None:
    if reading.take(_PAST):
        msg.fail(msg.PAST, text=msg.quote(reading.original))


def _vague(reading: Reading) -> None:
    if reading.take(_VAGUE):
        msg.fail(msg.NOT_UNDERSTOOD, text=msg.quote(reading.original))


def _durations(reading: Reading) -> None:
    for match in reading.take(_DURATION):
        if reading.has_duration:
            msg.fail(msg.CONFLICT, text=msg.quote(reading.original))
        reading.has_duration = True
        for part in _ONE_COMPONENT.finditer(match.group("a") or match.group("b")):
            if part.group("special"):
                reading.minutes += _SPECIAL_DURATIONS[part.group("special")]
                continue
            unit, factor = UNITS[part.group("unit")]
            amount = _number(part.group("num")) * factor
            setattr(reading, unit, getattr(reading, unit) + amount)


def _numeric_dates(reading: Reading) -> None:
    for m in reading.take(_ISO):
        reading.set("fixed", _checked_date(int(m[1]), int(m[2]), int(m[3]), m[0][:10]))
        if m[4] is not None:
            _set_clock(reading, int(m[4]), int(m[5]))
    for m in reading.take(_NUMERIC_YEAR):
        shown = m[0].strip()
        reading.set("fixed", _checked_date(_year(m[4]), int(m[3]), int(m[1]), shown))
    for m in _NUMERIC_DAY_MONTH.finditer(reading.text):
        if _after_clock_word(reading, m.start()):
            continue  # "um 14.30." is a time with a full stop, handled by the clock rules
        reading.text = reading.text[: m.start()] + " " * len(m[0]) + reading.text[m.end() :]
        reading.set("day_month", _check_day_month(int(m[1]), int(m[2] or m[3])))


def _month_names(reading: Reading) -> None:
    found = [(m[1], m[2], m[3]) for m in reading.take(_DAY_MONTHNAME)]
    found += [(m[2], m[1], m[3]) for m in reading.take(_MONTHNAME_DAY)]
    for day_text, month_name, year_text in found:
        day, month = int(day_text), MONTHS[month_name]
        if year_text is None:
            reading.set("day_month", _check_day_month(day, month))
        else:
            shown = f"{day}.{month:02d}.{year_text}"
            reading.set("fixed", _checked_date(int(year_text), month, day, shown))


def _relative_words(reading: Reading) -> None:
    if reading.take(_NEXT_NEXT_WEEK):
        reading.set("week_offset", 2)
    if reading.take(_NEXT_WEEK):
        reading.set("week_offset", 1)
    if reading.take(_MONTH_END_NEXT):
        reading.set("month_end", 1)
    if reading.take(_MONTH_END):
        reading.set("month_end", 0)
    _vague(reading)  # after "end of next month" has been taken
    if reading.take(_TONIGHT):
        reading.set("day_offset", 0)
        reading.set("part", EVENING)
    for pattern, offset in _DAY_WORDS:
        if reading.take(pattern):
            reading.set("day_offset", offset)
    for m in reading.take(_WEEKDAY_RE):
        reading.set("weekday", WEEKDAYS[m["day"]])
        reading.weekday_strict = reading.weekday_strict or m["strict"] is not None


def _clocks(reading: Reading) -> None:
    for m in reading.take(_CLOCK_SPOKEN):
        _spoken_clock(reading, m)
    for m in reading.take(_CLOCK_MERIDIEM):
        _set_clock(reading, int(m[1]), int(m[2] or 0), m[3].replace(".", ""))
    for m in reading.take(_CLOCK_DOTTED_UHR):
        _set_clock(reading, int(m[1]), int(m[2] or m[3]))
    for m in reading.take(_CLOCK_COLON):
        _set_clock(reading, int(m[1]), int(m[2]))
    for m in reading.take(_CLOCK_UHR):
        _set_clock(reading, int(m[1]), int(m[2] or 0))
    for m in reading.take(_CLOCK_WORD_UHR):
        _set_clock(reading, _HOUR_WORDS[m[1]], 0)
    for m in reading.take(_CLOCK_AFTER_WORD):
        hour, minute = int(m[2]), int(m[3] or 0)
        _set_clock(reading, hour, minute)
        # English uses a 12-hour clock: "at 3" could be 03:00 or 15:00 (German "um 3" is 03:00).
        reading.clock_is_bare_at = m[1] == "at" and 1 <= hour <= 11
    for m in reading.take(_DOTTED):
        _dotted(reading, m)
    for m in reading.take(_PART_RE):
        reading.set("part", PART_OF_DAY_WORDS[m[1]])


def _spoken_clock(reading: Reading, m: re.Match[str]) -> None:
    """ "halb 3" and friends. N up to 12 is a 12-hour dial (hour 0 is 12); the morning or
    afternoon comes from am/pm, a part of the day, or the office-hours rule in
    :func:`bot.dates.resolve.time_of_day`. N from 13 is already a 24-hour time ("halb 15")."""
    n = int(m["n"]) if m["n"].isdigit() else _SPOKEN_HOURS[m["n"]]
    step, minute = _SPOKEN_KINDS[" ".join(m["kind"].split())]
    if n > 24:
        msg.fail(msg.IMPOSSIBLE_TIME, clock=f"{n}:{minute:02d}")
    hour = (n + step) % 24
    if 1 <= n <= 12:
        hour = hour or 12  # "halb 1" is half past twelve
        reading.clock_spoken = m["mer"] is None
    _set_clock(reading, hour, minute, m["mer"].replace(".", "") if m["mer"] else None)


def _dotted(reading: Reading, m: re.Match[str]) -> None:
    """ "12.03" alone: a date (12 March) or a time (12:03)? Only a single reading is used."""
    first, second = int(m[1]), int(m[2])
    as_time = len(m[2]) == 2 and first <= 23 and second <= 59
    try:
        date(2000, second, first)
        as_date = True
    except ValueError:
        as_date = False
    if as_time and as_date:
        msg.fail(msg.AMBIGUOUS_DOTTED, text=msg.quote(reading.original), first=m[1], second=m[2])
    if as_time:
        _set_clock(reading, first, second)
    elif as_date:
        reading.set("day_month", (first, second))
    else:
        msg.fail(msg.NOT_UNDERSTOOD, text=msg.quote(reading.original))


def leftover(reading: Reading) -> list[str]:
    """Words no rule consumed and that are not filler."""
    return [tok for tok in _LEFTOVER.findall(reading.text) if tok not in FILLER]


def extract(reading: Reading) -> None:
    _past(reading)
    _numeric_dates(reading)
    _durations(reading)
    _month_names(reading)
    _relative_words(reading)
    _clocks(reading)
