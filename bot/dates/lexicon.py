"""Word lists for :mod:`bot.dates`: weekdays, months, number words, parts of the day.

Everything is lower case and NFKC-normalised, because the parser lower-cases its input first.
Kept apart from the rules so that adding a spelling never touches a regular expression.
"""

from __future__ import annotations

from datetime import time

WEEKDAYS: dict[str, int] = {
    # German, with the two-letter abbreviations used in calendars ("Di 14 Uhr").
    "montag": 0, "mo": 0,
    "dienstag": 1, "di": 1,
    "mittwoch": 2, "mi": 2,
    "donnerstag": 3, "do": 3,
    "freitag": 4, "fr": 4,
    "samstag": 5, "sonnabend": 5, "sa": 5,
    "sonntag": 6, "so": 6,
    # English
    "monday": 0, "mon": 0,
    "tuesday": 1, "tue": 1, "tues": 1,
    "wednesday": 2, "wed": 2,
    "thursday": 3, "thu": 3, "thur": 3, "thurs": 3,
    "friday": 4, "fri": 4,
    "saturday": 5, "sat": 5,
    "sunday": 6, "sun": 6,
}  # fmt: skip

MONTHS: dict[str, int] = {
    "januar": 1, "jänner": 1, "january": 1, "jan": 1,
    "februar": 2, "february": 2, "feb": 2,
    "märz": 3, "march": 3, "mär": 3, "mar": 3,
    "april": 4, "apr": 4,
    "mai": 5, "may": 5,
    "juni": 6, "june": 6, "jun": 6,
    "juli": 7, "july": 7, "jul": 7,
    "august": 8, "aug": 8,
    "september": 9, "sept": 9, "sep": 9,
    "oktober": 10, "october": 10, "okt": 10, "oct": 10,
    "november": 11, "nov": 11,
    "dezember": 12, "december": 12, "dez": 12, "dec": 12,
}  # fmt: skip

# R4: number words in durations. German inflections of "ein" all mean one.
NUMBER_WORDS: dict[str, int] = {
    "ein": 1, "eine": 1, "einer": 1, "einem": 1, "einen": 1, "eins": 1,
    "zwei": 2, "drei": 3, "vier": 4, "fünf": 5, "sechs": 6, "sieben": 7,
    "acht": 8, "neun": 9, "zehn": 10, "elf": 11, "zwölf": 12,
    "a": 1, "an": 1, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5,
    "six": 6, "seven": 7, "eight": 8, "nine": 9, "ten": 10, "eleven": 11, "twelve": 12,
}  # fmt: skip

# Duration units -> (unit, multiplier). Minutes and hours are elapsed time; days, weeks and
# months are calendar steps (R4), so they are kept apart by unit name.
UNITS: dict[str, tuple[str, int]] = {
    "minute": ("minutes", 1), "minuten": ("minutes", 1), "min": ("minutes", 1),
    "mins": ("minutes", 1), "minutes": ("minutes", 1),
    "stunde": ("minutes", 60), "stunden": ("minutes", 60), "std": ("minutes", 60),
    "h": ("minutes", 60), "hour": ("minutes", 60), "hours": ("minutes", 60),
    "hr": ("minutes", 60), "hrs": ("minutes", 60),
    "tag": ("days", 1), "tage": ("days", 1), "tagen": ("days", 1),
    "day": ("days", 1), "days": ("days", 1),
    "woche": ("days", 7), "wochen": ("days", 7), "week": ("days", 7), "weeks": ("days", 7),
    "fortnight": ("days", 14), "fortnights": ("days", 14),
    "monat": ("months", 1), "monate": ("months", 1), "monaten": ("months", 1),
    "month": ("months", 1), "months": ("months", 1),
    # Years are not in the list; twelve calendar months is the only sensible reading.
    "jahr": ("months", 12), "jahre": ("months", 12), "jahren": ("months", 12),
    "year": ("months", 12), "years": ("months", 12),
}  # fmt: skip

# R3: parts of the day. The canonical names are what the normaliser rewrites phrases to.
MORNING, NOON, AFTERNOON, EVENING = "morning", "noon", "afternoon", "evening"
PART_OF_DAY_TIME: dict[str, time] = {
    MORNING: time(9, 0),
    NOON: time(12, 0),
    AFTERNOON: time(15, 0),
    EVENING: time(19, 0),
}
PART_OF_DAY_WORDS: dict[str, str] = {
    "morgens": MORNING, "früh": MORNING, "morning": MORNING, "early": MORNING,
    "mittags": NOON, "mittag": NOON, "noon": NOON, "midday": NOON,
    "nachmittags": AFTERNOON, "nachmittag": AFTERNOON, "afternoon": AFTERNOON,
    "abends": EVENING, "abend": EVENING, "evening": EVENING,
}  # fmt: skip

# Words that carry no meaning of their own once the rules have taken what they need.
FILLER: frozenset[str] = frozenset(
    {
        "am", "um", "at", "on", "the", "of", "den", "dem", "der", "zum", "ab", "gegen",
        "ca", "ca.", "circa", "bis", "by", "until", "till", "spätestens", "bitte", "please",
        "in", "this", "diesen", "dieser", "diesem", "kommenden", "kommender", "kommende",
        "coming", ",", "-", "–",
    }
)  # fmt: skip
