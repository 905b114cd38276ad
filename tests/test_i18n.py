"""Every German source text has an English translation with the same placeholders."""

from __future__ import annotations

import re
from pathlib import Path

from babel.messages.extract import extract_from_dir

from bot.i18n import translator

ROOT = Path(__file__).resolve().parents[1]
KEYWORDS = {"_": None, "N_": None}
_PLACEHOLDER = re.compile(r"\{(\w*)\}")


def source_messages() -> set[str]:
    found: set[str] = set()
    for folder in ("bot", "handlers"):
        for _file, _line, message, _comments, _ctx in extract_from_dir(
            ROOT / folder, keywords=KEYWORDS, comment_tags=(), strip_comment_tags=True
        ):
            if isinstance(message, str) and message:
                found.add(message)
    return found


def test_english_catalogue_is_complete() -> None:
    messages = source_messages()
    assert len(messages) > 20  # the extraction itself works
    en = translator("en")
    missing = sorted(m for m in messages if en(m) == m)
    assert missing == [], "untranslated:\n" + "\n".join(missing)


def test_translations_keep_placeholders() -> None:
    en = translator("en")
    for message in source_messages():
        assert set(_PLACEHOLDER.findall(en(message))) == set(_PLACEHOLDER.findall(message)), message


def test_german_is_the_source() -> None:
    de = translator("de")
    assert all(de(m) == m for m in source_messages())
