"""The phrase table for bot.dates: shared by tests/test_dates_table.py and bench/bench_dates.py.

Each case is (now, text, expected). ``expected`` is the result as ISO 8601 with minutes and the
UTC offset (so that the offset on DST nights is checked, not just the instant), or the name of
the error message in bot.dates.messages when parse_when must refuse.
"""

from __future__ import annotations

from datetime import datetime
from typing import NamedTuple
from zoneinfo import ZoneInfo

BERLIN = ZoneInfo("Europe/Berlin")

NOWS: dict[str, datetime] = {
    "wed": datetime(2026, 11, 25, 12, 0, tzinfo=BERLIN),  # the examples
    "spring_eve": datetime(2027, 3, 27, 22, 0, tzinfo=BERLIN),  # the night clocks go forward
    "spring_night": datetime(2027, 3, 28, 1, 30, tzinfo=BERLIN),  # 30 minutes before the gap
    "autumn_eve": datetime(2027, 10, 30, 22, 0, tzinfo=BERLIN),  # the night clocks go back
    "autumn_night": datetime(2027, 10, 31, 2, 45, fold=1, tzinfo=BERLIN),  # second 02:45 (CET)
    "nye": datetime(2026, 12, 31, 23, 30, tzinfo=BERLIN),  # New Year's Eve, a Thursday
    "mon": datetime(2027, 1, 4, 8, 0, tzinfo=BERLIN),
    "fri": datetime(2027, 1, 8, 17, 0, tzinfo=BERLIN),
    "sun": datetime(2027, 1, 10, 18, 0, tzinfo=BERLIN),
    "month_end": datetime(2027, 1, 31, 10, 0, tzinfo=BERLIN),  # a Sunday, last of the month
    "oct": datetime(2027, 10, 8, 10, 0, tzinfo=BERLIN),  # issue 15 #3: a Friday morning
}


class Case(NamedTuple):
    now: str
    text: str
    expected: str  # "YYYY-MM-DDTHH:MM+HH:MM" or an error name such as "PAST"


def _cases(now: str, rows: list[tuple[str, str]]) -> list[Case]:
    return [Case(now, text, expected) for text, expected in rows]


W = "2026-11-"
D = "2026-12-"
CET = "+01:00"

CASES: list[Case] = [
    # --- The examples (now = Wednesday 2026-11-25 12:00) ---
    *_cases("wed", [
        ("morgen 9 Uhr", W + "26T09:00" + CET),
        ("nächsten Dienstag um 14 Uhr", D + "01T14:00" + CET),
        ("14 Uhr", W + "25T14:00" + CET),
        ("um 11 Uhr", W + "26T11:00" + CET),
        ("12.03.2027 14:30", "2027-03-12T14:30" + CET),
        ("3. März", "2027-03-03T09:00" + CET),
        ("in 2 Stunden", W + "25T14:00" + CET),
        ("heute Abend", W + "25T19:00" + CET),
        ("Friday 3pm", W + "27T15:00" + CET),
        ("31.02.2027", "IMPOSSIBLE_DATE"),
        # R1 explicit times
        ("um 14 Uhr", W + "25T14:00" + CET),
        ("14:30", W + "25T14:30" + CET),
        ("14.30 Uhr", W + "25T14:30" + CET),
        ("14:30 Uhr", W + "25T14:30" + CET),
        ("9 Uhr morgens", W + "26T09:00" + CET),
        ("14h", W + "25T14:00" + CET),
        ("2pm", W + "25T14:00" + CET),
        ("9am", W + "26T09:00" + CET),
        ("2:30 pm", W + "25T14:30" + CET),
        ("morgen 14:30 Uhr", W + "26T14:30" + CET),
        ("morgen um 9", W + "26T09:00" + CET),
        ("morgen 7.45 Uhr", W + "26T07:45" + CET),
        ("8 Uhr abends", W + "25T20:00" + CET),
        ("3 Uhr nachmittags", W + "25T15:00" + CET),
        ("12am", W + "26T00:00" + CET),
        ("12pm", W + "26T12:00" + CET),  # noon is now, not ahead: tomorrow
        ("Freitag 10:00", W + "27T10:00" + CET),
        ("morgen 9:00", W + "26T09:00" + CET),
        # R2 a date without a time
        ("morgen", W + "26T09:00" + CET),
        ("Freitag", W + "27T09:00" + CET),
        ("15.12.2026", D + "15T09:00" + CET),
        ("übermorgen", W + "27T09:00" + CET),
        # R3 parts of the day
        ("morgen früh", W + "26T09:00" + CET),
        ("morgen Abend", W + "26T19:00" + CET),
        ("morgen mittag", W + "26T12:00" + CET),
        ("morgen Nachmittag", W + "26T15:00" + CET),
        ("tonight", W + "25T19:00" + CET),
        ("Freitagabend", W + "27T19:00" + CET),
        ("Montagmorgen", W + "30T09:00" + CET),
        ("Dienstag morgens", D + "01T09:00" + CET),
        ("tomorrow morning", W + "26T09:00" + CET),
        ("tomorrow evening", W + "26T19:00" + CET),
        ("friday afternoon", W + "27T15:00" + CET),
        ("tomorrow at noon", W + "26T12:00" + CET),
        ("abends", W + "25T19:00" + CET),
        ("heute Nachmittag", W + "25T15:00" + CET),
        ("heute abend um 8", W + "25T20:00" + CET),
        ("morgen früh um 7", W + "26T07:00" + CET),
        ("heute morgen", "PAST"),
        # R4 durations
        ("in 3 Stunden", W + "25T15:00" + CET),
        ("in 90 Minuten", W + "25T13:30" + CET),
        ("in einer Stunde", W + "25T13:00" + CET),
        ("in zwei Stunden", W + "25T14:00" + CET),
        ("in zwölf Stunden", W + "26T00:00" + CET),
        ("in zehn Minuten", W + "25T12:10" + CET),
        ("in einer halben Stunde", W + "25T12:30" + CET),
        ("in 3 Tagen", W + "28T12:00" + CET),
        ("in elf Tagen", D + "06T12:00" + CET),
        ("in einer Woche", D + "02T12:00" + CET),
        ("in zwei Wochen", D + "09T12:00" + CET),
        ("in einem Monat", D + "25T12:00" + CET),
        ("in 3 Monaten", "2027-02-25T12:00" + CET),
        ("in sechs Monaten", "2027-05-25T12:00+02:00"),  # local time kept across DST
        ("in 3 Tagen um 14 Uhr", W + "28T14:00" + CET),
        ("in an hour", W + "25T13:00" + CET),
        ("in 45 minutes", W + "25T12:45" + CET),
        ("in two days", W + "27T12:00" + CET),
        ("in a week", D + "02T12:00" + CET),
        ("in twelve hours", W + "26T00:00" + CET),
        ("3 hours from now", W + "25T15:00" + CET),
        # R5 every weekday, from a Wednesday
        ("Montag", W + "30T09:00" + CET),
        ("am Dienstag", D + "01T09:00" + CET),
        ("Mittwoch", D + "02T09:00" + CET),
        ("Mittwoch 15 Uhr", W + "25T15:00" + CET),
        ("Mittwoch 11 Uhr", D + "02T11:00" + CET),
        ("Donnerstag", W + "26T09:00" + CET),
        ("am Freitag um 10 Uhr", W + "27T10:00" + CET),
        ("Samstag", W + "28T09:00" + CET),
        ("Sonnabend", W + "28T09:00" + CET),
        ("Sonntag 18 Uhr", W + "29T18:00" + CET),
        ("kommenden Montag", W + "30T09:00" + CET),
        ("Di 14 Uhr", D + "01T14:00" + CET),
        ("Monday", W + "30T09:00" + CET),
        ("next Monday", W + "30T09:00" + CET),
        ("Tuesday 10am", D + "01T10:00" + CET),
        ("Wednesday", D + "02T09:00" + CET),
        ("wednesday 3pm", W + "25T15:00" + CET),
        ("Thursday", W + "26T09:00" + CET),
        ("Saturday 11:00", W + "28T11:00" + CET),
        ("Sunday", W + "29T09:00" + CET),
        # R6 day and month without a year
        ("25.12.", D + "25T09:00" + CET),
        ("24.11.", "DAY_MONTH_PASSED"),  # yesterday: a forgotten year, not next November
        ("25.11. 14 Uhr", W + "25T14:00" + CET),
        ("1. Januar", "2027-01-01T09:00" + CET),
        ("29.02.", "2028-02-29T09:00" + CET),
        ("15. Mai", "2027-05-15T09:00+02:00"),
        ("30. November", W + "30T09:00" + CET),
        # R7 numeric dates are day-first; ISO; English month names
        ("12.3.27", "2027-03-12T09:00" + CET),
        ("12.03.", "2027-03-12T09:00" + CET),
        ("2027-03-12", "2027-03-12T09:00" + CET),
        ("2027-03-12 14:30", "2027-03-12T14:30" + CET),
        ("12.03.2027 14.30 Uhr", "2027-03-12T14:30" + CET),
        ("1.12.2026 14 Uhr", D + "01T14:00" + CET),
        ("am 3. März um 14 Uhr", "2027-03-03T14:00" + CET),
        ("March 12", "2027-03-12T09:00" + CET),
        ("12 March 2027", "2027-03-12T09:00" + CET),
        ("Dec 25", D + "25T09:00" + CET),
        ("December 25, 2026 at 6pm", D + "25T18:00" + CET),
        ("1st of December", D + "01T09:00" + CET),
        ("Dienstag, 1. Dezember 2026, 14:00 Uhr", D + "01T14:00" + CET),
        ("Tuesday, 1 December 2026, 14:00", D + "01T14:00" + CET),
        # R8 a time alone
        ("16:15", W + "25T16:15" + CET),
        ("11:59", W + "26T11:59" + CET),
        ("heute 18 Uhr", W + "25T18:00" + CET),
        ("today 5pm", W + "25T17:00" + CET),
        ("heute 8 Uhr", "PAST"),
        ("today 9am", "PAST"),
        # R9 relative words
        ("tomorrow", W + "26T09:00" + CET),
        ("übermorgen 10 Uhr", W + "27T10:00" + CET),
        ("the day after tomorrow", W + "27T09:00" + CET),
        ("nächste Woche", W + "30T09:00" + CET),
        ("next week", W + "30T09:00" + CET),
        ("nächste Woche Dienstag", D + "01T09:00" + CET),
        ("Ende des Monats", W + "30T09:00" + CET),
        ("end of the month", W + "30T09:00" + CET),
        ("Ende des Monats 17 Uhr", W + "30T17:00" + CET),
        ("heute", "PAST"),  # 09:00 today has passed at noon
        # R10 errors: never a guess
        ("30. Februar", "IMPOSSIBLE_DATE"),
        ("31.04.", "IMPOSSIBLE_DATE"),
        ("25:00", "IMPOSSIBLE_TIME"),
        ("24:00", "IMPOSSIBLE_TIME"),
        ("13pm", "IMPOSSIBLE_TIME"),
        ("", "EMPTY"),
        ("   ", "EMPTY"),
        ("x" * 201, "TOO_LONG"),
        ("blabla", "NOT_UNDERSTOOD"),
        ("irgendwann", "NOT_UNDERSTOOD"),
        ("99999999", "NOT_UNDERSTOOD"),
        ("🙂", "NOT_UNDERSTOOD"),
        ("14 Uhr morgens", "NOT_UNDERSTOOD"),
        ("gestern", "PAST"),
        ("1.1.2020", "PAST"),
        ("letzten Freitag", "PAST"),
        ("vor 2 Stunden", "PAST"),
        ("2 hours ago", "PAST"),
        ("12.03", "AMBIGUOUS_DOTTED"),
        ("tomorrow at 3", "AMBIGUOUS_HOUR"),
        ("Freitag Montag", "CONFLICT"),
        ("14 Uhr 16 Uhr", "CONFLICT"),
        ("in 2 Stunden um 14 Uhr", "CONFLICT"),
        ("Freitag, 1.12.2026", "WEEKDAY_MISMATCH"),
        # Upper/lower case, extra spaces, spellings without umlauts, punctuation
        ("  MORGEN   9   UHR  ", W + "26T09:00" + CET),
        ("NÄCHSTEN DIENSTAG UM 14 UHR", D + "01T14:00" + CET),
        ("Heute\tAbend", W + "25T19:00" + CET),
        ("FRIDAY 3PM", W + "27T15:00" + CET),
        ("naechsten dienstag", D + "01T09:00" + CET),
        ("Morgen 9 Uhr.", W + "26T09:00" + CET),
        # More phrasings, and what is refused on purpose
        ("tomorrow 3.30pm", W + "26T15:30" + CET),
        ("in 1 Stunde und 30 Minuten", W + "25T13:30" + CET),
        ("in einem Jahr", "2027-11-25T12:00" + CET),
        ("in a fortnight", D + "09T12:00" + CET),
        ("end of next month", D + "31T09:00" + CET),
        ("Freitag nächste Woche", D + "04T09:00" + CET),
        ("12/03/2027", "2027-03-12T09:00" + CET),
        ("12-03-2027", "2027-03-12T09:00" + CET),
        ("Do, 26.11., 10 Uhr", W + "26T10:00" + CET),
        ("1-Dec-2026", D + "01T09:00" + CET),  # only the dateparser fallback knows this one
        ("Friday at 10", "AMBIGUOUS_HOUR"),  # English 12-hour clock: 10:00 or 22:00?
        ("next month", "NOT_UNDERSTOOD"),  # which day?
        ("nächsten Monat", "NOT_UNDERSTOOD"),
        ("tomorrow week", "NOT_UNDERSTOOD"),
        ("morgen Vormittag", "NOT_UNDERSTOOD"),  # not among the parts of the day
    ]),
    # --- Spring forward: 2027-03-28 02:00 CET -> 03:00 CEST ---
    *_cases("spring_eve", [
        ("morgen 9 Uhr", "2027-03-28T09:00+02:00"),
        ("2:30", "2027-03-28T03:30+02:00"),  # in the gap: moved forward by the gap
        ("morgen 2:30 Uhr", "2027-03-28T03:30+02:00"),
        ("in einem Tag", "2027-03-28T22:00+02:00"),  # calendar day: 23 real hours
        ("in 24 Stunden", "2027-03-28T23:00+02:00"),  # elapsed: wall clock shows 25 h
        ("Sonntag", "2027-03-28T09:00+02:00"),
    ]),
    *_cases("spring_night", [
        ("in 3 Stunden", "2027-03-28T05:30+02:00"),
        ("in 60 Minuten", "2027-03-28T03:30+02:00"),
        ("3 Uhr", "2027-03-28T03:00+02:00"),
        ("heute 2:30", "2027-03-28T03:30+02:00"),
        ("1 Uhr", "2027-03-29T01:00+02:00"),
    ]),
    # --- Fall back: 2027-10-31 03:00 CEST -> 02:00 CET ---
    *_cases("autumn_eve", [
        ("morgen 9 Uhr", "2027-10-31T09:00+01:00"),
        ("morgen 2:30 Uhr", "2027-10-31T02:30+02:00"),  # ambiguous: first occurrence
        ("in einem Tag", "2027-10-31T22:00+01:00"),  # calendar day: 25 real hours
        ("in 24 Stunden", "2027-10-31T21:00+01:00"),
        ("in 3 Stunden", "2027-10-31T01:00+02:00"),
        ("in 6 Stunden", "2027-10-31T03:00+01:00"),
        ("Sonntag 14 Uhr", "2027-10-31T14:00+01:00"),
    ]),
    *_cases("autumn_night", [
        ("2:30", "2027-11-01T02:30+01:00"),  # today's (first) 02:30 has passed
        ("in 1 Stunde", "2027-10-31T03:45+01:00"),
        ("heute 10 Uhr", "2027-10-31T10:00+01:00"),
    ]),
    # --- New Year's Eve, Thursday 23:30 ---
    *_cases("nye", [
        ("morgen", "2027-01-01T09:00" + CET),
        ("heute Abend", "PAST"),
        ("in 30 Minuten", "2027-01-01T00:00" + CET),
        ("1.1.", "2027-01-01T09:00" + CET),
        ("31.12.", "DAY_MONTH_PASSED"),  # today, and 09:00 has passed
        ("nächste Woche", "2027-01-04T09:00" + CET),
        ("Ende des Monats", "2027-01-31T09:00" + CET),
        ("Freitag", "2027-01-01T09:00" + CET),
        ("Donnerstag", "2027-01-07T09:00" + CET),
        ("23:45", "2026-12-31T23:45" + CET),
        ("um 0 Uhr", "2027-01-01T00:00" + CET),
        ("in einem Monat", "2027-01-31T23:30" + CET),
        ("in 2 Monaten", "2027-02-28T23:30" + CET),  # 31 February does not exist: last day
        ("12.03.", "2027-03-12T09:00" + CET),
        ("New Year's Day", "NOT_UNDERSTOOD"),
    ]),
    # --- A Monday morning, a Friday evening, a Sunday evening, the last day of a month ---
    *_cases("mon", [
        ("Montag", "2027-01-11T09:00" + CET),
        ("Montag 9 Uhr", "2027-01-04T09:00" + CET),
        ("Montag 7 Uhr", "2027-01-11T07:00" + CET),
        ("nächsten Montag 10 Uhr", "2027-01-11T10:00" + CET),  # "nächsten": never today
        ("Dienstag", "2027-01-05T09:00" + CET),
        ("heute 9 Uhr", "2027-01-04T09:00" + CET),
        ("Sunday", "2027-01-10T09:00" + CET),
        ("nächste Woche", "2027-01-11T09:00" + CET),
        ("heute", "2027-01-04T09:00" + CET),
    ]),
    *_cases("fri", [
        ("Freitag 18 Uhr", "2027-01-08T18:00" + CET),
        ("Freitag 16 Uhr", "2027-01-15T16:00" + CET),
        ("Samstag", "2027-01-09T09:00" + CET),
        ("heute Abend", "2027-01-08T19:00" + CET),
        ("Friday", "2027-01-15T09:00" + CET),
        ("Do", "2027-01-14T09:00" + CET),
    ]),
    *_cases("sun", [
        ("Sonntag", "2027-01-17T09:00" + CET),
        ("Sonntag 20 Uhr", "2027-01-10T20:00" + CET),
        ("Montag", "2027-01-11T09:00" + CET),
        ("nächste Woche", "2027-01-11T09:00" + CET),
        ("next week Friday", "2027-01-15T09:00" + CET),
        ("morgen Abend", "2027-01-11T19:00" + CET),
        ("Ende des Monats", "2027-01-31T09:00" + CET),
    ]),
    *_cases("month_end", [
        ("Ende des Monats", "2027-02-28T09:00" + CET),  # this month's end has passed
        ("Ende des Monats 18 Uhr", "2027-01-31T18:00" + CET),
        ("end of the month", "2027-02-28T09:00" + CET),
        ("in einem Monat", "2027-02-28T10:00" + CET),
        ("Monatsende", "2027-02-28T09:00" + CET),
    ]),
    # --- Issue 15 #3: a day and month that has just passed is refused, not moved a year ---
    *_cases("oct", [
        ("8.10. 9 Uhr", "DAY_MONTH_PASSED"),
        ("1.10.", "DAY_MONTH_PASSED"),
        ("1. Oktober", "DAY_MONTH_PASSED"),
        ("October 1", "DAY_MONTH_PASSED"),
        ("8.7.", "DAY_MONTH_PASSED"),  # exactly three months back: still refused
        ("heute 9 Uhr", "PAST"),
        ("8.10. 11 Uhr", "2027-10-08T11:00+02:00"),  # later today is fine
        ("9.10.", "2027-10-09T09:00+02:00"),
        ("1.7.", "2028-07-01T09:00+02:00"),  # over three months back: next year
        ("3. März", "2028-03-03T09:00" + CET),
        ("1.10.2028", "2028-10-01T09:00+02:00"),  # with the year, as the message asks
        # Issue 15 #4: clock times in words; 12-hour dial, hours 1-7 taken as the afternoon
        ("halb 3", "2027-10-08T14:30+02:00"),
        ("halb drei", "2027-10-08T14:30+02:00"),
        ("morgen halb 3", "2027-10-09T14:30+02:00"),
        ("halb 1", "2027-10-08T12:30+02:00"),
        ("halb 10", "2027-10-09T09:30+02:00"),
        ("viertel nach 9", "2027-10-09T09:15+02:00"),
        ("viertel vor 10", "2027-10-09T09:45+02:00"),
        ("dreiviertel 10", "2027-10-09T09:45+02:00"),
        ("Montag viertel nach 4", "2027-10-11T16:15+02:00"),
        ("halb 8 abends", "2027-10-08T19:30+02:00"),
        ("morgen halb 8 morgens", "2027-10-09T07:30+02:00"),
        ("halb 15 Uhr", "2027-10-08T14:30+02:00"),  # 24-hour already
        ("half past 2", "2027-10-08T14:30+02:00"),
        ("half past 2 am", "2027-10-09T02:30+02:00"),
        ("quarter past 9", "2027-10-09T09:15+02:00"),
        ("quarter to 10 pm", "2027-10-08T21:45+02:00"),
        ("the day after tomorrow early", "2027-10-10T09:00+02:00"),  # like "übermorgen früh"
        ("tomorrow early", "2027-10-09T09:00+02:00"),
        ("halb 30", "IMPOSSIBLE_TIME"),
        ("halb 3 morgens", "NOT_UNDERSTOOD"),  # 2:30 is not in the morning
        ("halb 3 16 Uhr", "CONFLICT"),
        ("Montag und Donnerstag 9 Uhr", "CONFLICT"),  # one moment only; reminders recur
    ]),
]  # fmt: skip
