"""The templates' German texts are message ids like the code's: each has an English
translation with the same placeholders (tests/test_i18n.py covers the Python files)."""

from __future__ import annotations

import re

from jinja2.ext import babel_extract

from bot.i18n import translator
from handlers.web.render import TEMPLATES

_PLACEHOLDER = re.compile(r"\{(\w*)\}")


def template_messages() -> set[str]:
    found: set[str] = set()
    for path in sorted(TEMPLATES.glob("*.html")):
        with path.open("rb") as handle:
            for _line, _func, message, _comments in babel_extract(handle, ("_",), [], {}):
                # with keyword arguments the message comes as (msgid, None, …)
                first = message[0] if isinstance(message, tuple) else message
                if isinstance(first, str) and first:
                    found.add(first)
    return found


def test_templates_are_translated() -> None:
    messages = template_messages()
    assert len(messages) > 30  # the extraction itself works
    en = translator("en")
    missing = sorted(m for m in messages if en(m) == m)
    assert missing == [], "untranslated:\n" + "\n".join(missing)
    for message in messages:
        assert set(_PLACEHOLDER.findall(en(message))) == set(_PLACEHOLDER.findall(message))
