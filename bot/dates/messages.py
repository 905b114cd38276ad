"""The user-facing errors of :mod:`bot.dates`.

Each message says what was not understood and gives a phrase that works (the issue asks for
both). The German text is the gettext message id; English lives in ``locale/en/.../dates.po``.
"""

from __future__ import annotations

from typing import Any, NoReturn

from bot.errors import UserFacingError
from bot.i18n import N_

#: Longest input we try to understand. Real time phrases are < 60 characters; the cap keeps
#: regular expressions and dateparser away from pasted documents.
MAX_LENGTH = 200
#: How much of the user's text is quoted back in a message.
QUOTE_LENGTH = 60

EMPTY = N_("Bitte geben Sie einen Zeitpunkt an, zum Beispiel „morgen 14 Uhr“ oder „Freitag 9:30“.")
TOO_LONG = N_(
    "Die Zeitangabe ist zu lang (höchstens {limit} Zeichen). "
    "Bitte kürzer schreiben, zum Beispiel „morgen 14 Uhr“."
)
NOT_UNDERSTOOD = N_(
    "Ich habe „{text}“ nicht als Zeitpunkt verstanden. Beispiele, die funktionieren: "
    "„morgen 14 Uhr“, „Freitag 9:30“, „12.03.2027 10 Uhr“, „in 2 Stunden“."
)
PAST = N_(
    "„{text}“ liegt in der Vergangenheit. Bitte geben Sie einen Zeitpunkt in der Zukunft an, "
    "zum Beispiel „morgen 14 Uhr“ oder „nächsten Dienstag um 10 Uhr“."
)
IMPOSSIBLE_DATE = N_(
    "Den {date} gibt es nicht. Bitte prüfen Sie Tag und Monat, zum Beispiel „28.02.2027“."
)
IMPOSSIBLE_TIME = N_(
    "Die Uhrzeit {clock} gibt es nicht. Uhrzeiten reichen von 0:00 bis 23:59, "
    "zum Beispiel „14:30 Uhr“."
)
AMBIGUOUS_DOTTED = N_(
    "„{text}“ kann ein Datum oder eine Uhrzeit sein. Schreiben Sie „{first}.{second}.“ "
    "für ein Datum oder „{first}:{second} Uhr“ für eine Uhrzeit."
)
AMBIGUOUS_HOUR = N_(
    "Bei „{text}“ ist unklar, ob vormittags oder nachmittags gemeint ist. "
    "Schreiben Sie zum Beispiel „{hour}am“, „{hour}pm“ oder „{pm_hour}:00 Uhr“."
)
CONFLICT = N_(
    "„{text}“ enthält mehr als einen Zeitpunkt. Bitte nennen Sie genau einen, "
    "zum Beispiel „Freitag 14 Uhr“."
)
WEEKDAY_MISMATCH = N_(
    "In „{text}“ passen Wochentag und Datum nicht zusammen: der {date} ist ein anderer "
    "Wochentag. Bitte prüfen Sie beides, zum Beispiel „Dienstag, 1.12.2026“."
)
DAY_MONTH_PASSED = N_(
    "Der {date} ist schon vorbei – meinten Sie den {suggestion}? Dann bitte mit Jahr, "
    "zum Beispiel „{suggestion}“."
)
RECURRING_FORMS = N_(
    "Wiederkehrende Erinnerungen gibt es täglich oder wöchentlich („jeden Montag 9 Uhr“, "
    "„täglich 8 Uhr“), werktags („werktags 8 Uhr“), alle zwei bis vier Wochen („jeden zweiten "
    "Montag 9 Uhr“), an mehreren Wochentagen („Montag und Donnerstag 9 Uhr“) oder monatlich "
    "(„jeden ersten Montag im Monat 9 Uhr“, „jeden letzten Freitag im Monat“)."
)
TIME_OF_DAY_ONLY = N_(
    "Nach der Wiederholung verstehe ich nur eine Uhrzeit, nicht „{text}“. "
    "Zum Beispiel „jeden zweiten Montag 9 Uhr“ oder „werktags halb 9“."
)
UNDERSTOOD = N_("Verstanden: {when}")


def quote(text: str) -> str:
    """The user's text as shown in a message: one line, at most ``QUOTE_LENGTH`` characters."""
    printable = "".join(ch if ch.isprintable() else " " for ch in text[: QUOTE_LENGTH * 4])
    line = " ".join(printable.split())
    return line if len(line) <= QUOTE_LENGTH else line[: QUOTE_LENGTH - 1] + "…"


def fail(msgid: str, **params: Any) -> NoReturn:
    raise UserFacingError(msgid, **params)
