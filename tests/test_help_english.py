"""`help COMMAND` in English: syntax and example with the English aliases and option names,
from the same catalogue as every other message; every English example really runs as typed."""

from __future__ import annotations

import pytest

from bot.commands import build_registry
from bot.i18n import translator
from bot.router import parse_line

SPECS = build_registry().specs


# words that are the same in English: a syntax made only of these needs no English entry
SAME_IN_ENGLISH = {"export", "feedback", "tandems", "checkins", "N", "2", "dashboard"}


@pytest.mark.parametrize("spec", SPECS, ids=lambda s: s.key)
def test_every_syntax_and_example_has_an_english_form(spec: object) -> None:
    en = translator("en")
    for text in (spec.syntax, spec.example):  # type: ignore[attr-defined]
        assert en(text) != text or set(text.split()) <= SAME_IN_ENGLISH, text


@pytest.mark.parametrize("spec", SPECS, ids=lambda s: s.key)
def test_the_english_example_is_the_same_command_with_known_options(spec: object) -> None:
    registry = build_registry()
    example = translator("en")(spec.example)  # type: ignore[attr-defined]
    parsed = parse_line(example)
    found = registry.resolve(parsed.tokens)
    assert found is not None and found[0].key == spec.key, example  # type: ignore[attr-defined]
    found[0].read_options(parsed.options, "en")  # refuses an unknown option name
