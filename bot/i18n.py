"""gettext catalogues (German source, English translation) and Babel formatting.

The catalogues are ``.po`` files read with Babel at start-up, so no compile step is needed.
Source strings are German and marked with ``_``/``N_`` so that ``pybabel extract`` finds them.
"""

from __future__ import annotations

import gettext
from collections.abc import Callable
from datetime import datetime
from functools import cache, lru_cache
from pathlib import Path
from typing import Literal

from babel.dates import format_datetime
from babel.messages.pofile import read_po

Language = Literal["de", "en"]
LANGUAGES: tuple[Language, ...] = ("de", "en")
LOCALE_DIR = Path(__file__).parent / "locale"


def N_(msgid: str) -> str:
    """Mark a string for extraction without translating it now."""
    return msgid


class _PoTranslations(gettext.NullTranslations):
    def __init__(self, messages: dict[str, str]) -> None:
        super().__init__()
        self._messages = messages

    def gettext(self, message: str) -> str:
        return self._messages.get(message) or message


@cache
def translations(language: str) -> gettext.NullTranslations:
    """The catalogue for ``language``; German (the source language) translates to itself.

    Every ``*.po`` file in the language's ``LC_MESSAGES`` folder is read (one per feature area,
    so that features can be translated independently) and merged into one catalogue.
    """
    if language == "de":
        return gettext.NullTranslations()
    messages: dict[str, str] = {}
    for path in sorted((LOCALE_DIR / language / "LC_MESSAGES").glob("*.po")):
        with path.open("rb") as handle:
            catalog = read_po(handle, locale=language)
        for m in catalog:
            usable = isinstance(m.id, str) and isinstance(m.string, str) and not m.fuzzy
            if usable and m.id and m.string:
                messages[str(m.id)] = str(m.string)
    return _PoTranslations(messages)


def translator(language: str) -> Callable[[str], str]:
    return translations(language).gettext


def babel_locale(language: str) -> str:
    return "de_DE" if language == "de" else "en_GB"


def format_when(moment: datetime, language: str) -> str:
    """A full, unambiguous date and time: 'Dienstag, 1. Dezember 2026, 14:00 Uhr'.

    The pattern names only wall-clock fields of ``moment`` (no zone), so the text is cached
    by wall-clock minute and language: Babel costs ~60 µs per call, and a page or a reminder
    fan-out formats the same few meeting times again and again."""
    return _format_wall(moment.replace(tzinfo=None, second=0, microsecond=0), language)


@lru_cache(maxsize=4096)
def _format_wall(wall: datetime, language: str) -> str:
    if language == "de":
        return format_datetime(wall, "EEEE, d. MMMM y, HH:mm 'Uhr'", locale="de_DE")
    return format_datetime(wall, "EEEE, d MMMM y, HH:mm", locale="en_GB")
