"""The last resort: dateparser, for date phrases the rules do not know ("in a fortnight").

Only the date is taken from dateparser: its times and offsets are unreliable around DST
changes, so the time of day and the zone are applied by :mod:`bot.dates.resolve` as for any
other date. ``REQUIRE_PARTS`` keeps it from inventing a day ("Mai" alone is not a date).
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

# Without ``languages`` dateparser tries every locale it has (up to ~1 s per call).
LANGUAGES = ["de", "en"]


def settings(local_now: datetime, tz: str) -> dict[str, Any]:
    return {
        "PREFER_DATES_FROM": "future",
        "RELATIVE_BASE": local_now.replace(tzinfo=None),
        "TIMEZONE": tz,
        "RETURN_AS_TIMEZONE_AWARE": False,
        "DATE_ORDER": "DMY",
        "REQUIRE_PARTS": ["day", "month"],
    }


def fallback_date(phrase: str, local_now: datetime, tz: str) -> date | None:
    import dateparser  # imported late: it costs ~0.5 s and most phrases never need it

    try:
        found = dateparser.parse(phrase, languages=LANGUAGES, settings=settings(local_now, tz))
    except Exception:  # dateparser on arbitrary text: any failure means "not a date"
        return None
    return found.date() if found is not None else None
