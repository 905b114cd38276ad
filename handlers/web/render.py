"""Templates (Jinja2, autoescaped) with the chat's gettext catalogues and Babel formats.

The German text in templates is the message id, as in the Python code: ``{{ _("Plätze") }}``;
tests/web/test_web_i18n.py extracts them and checks that each has an English translation.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from babel.dates import format_date
from babel.numbers import format_decimal
from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from bot.i18n import babel_locale, format_when, translator

TEMPLATES = Path(__file__).parent / "templates"
STATIC = Path(__file__).parent / "static"


def environment() -> Environment:
    return Environment(
        loader=FileSystemLoader(TEMPLATES),
        autoescape=select_autoescape(default=True, default_for_string=True),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        auto_reload=False,
    )


class Formats:
    """Translation and formatting for one page in one language (the reader's)."""

    def __init__(self, language: str, tz: ZoneInfo) -> None:
        self.language = language
        self.tz = tz
        self._translate = translator(language)

    def gettext(self, msgid: str, **params: object) -> str:
        text = self._translate(msgid)
        return text.format(**params) if params else text

    def when(self, moment: datetime | None) -> str:
        return format_when(moment.astimezone(self.tz), self.language) if moment else "–"

    def day(self, moment: datetime | None) -> str:
        if moment is None:
            return "–"
        return format_date(
            moment.astimezone(self.tz).date(), "medium", locale=babel_locale(self.language)
        )

    def number(self, value: int | float) -> str:
        if isinstance(value, int) and -1000 < value < 1000:
            return str(value)  # no grouping below 1000 in German or English: skip Babel
        return str(format_decimal(value, locale=babel_locale(self.language)))

    def globals(self) -> dict[str, Callable[..., Any] | str]:
        return {
            "_": self.gettext,
            "when": self.when,
            "day": self.day,
            "number": self.number,
            "lang": self.language,
        }


DEFAULTS: dict[str, Any] = {"viewer": None, "flash": None, "csrf": "", "active": ""}


def render(env: Environment, name: str, formats: Formats, **context: Any) -> str:
    return env.get_template(name).render(**formats.globals(), **{**DEFAULTS, **context})
