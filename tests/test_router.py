from __future__ import annotations

import pytest

from bot.commands import build_registry
from bot.errors import UserFacingError
from bot.router import MAX_COMMAND_LENGTH, clean, fold, parse_line, strip_prefix


@pytest.mark.parametrize(
    ("line", "words", "options"),
    [
        (
            'jahrgang anlegen "Stadtlabor 2026/27" plaetze=20',
            ["jahrgang", "anlegen", "Stadtlabor 2026/27"],
            {"plaetze": "20"},
        ),
        (
            "jahrgang anlegen „Stadtlabor 2026/27“ moderiert",
            ["jahrgang", "anlegen", "Stadtlabor 2026/27", "moderiert"],
            {},
        ),
        (
            'treffen anlegen titel="Auftakt Hamburg" von="12.11.2026 10 Uhr"',
            ["treffen", "anlegen"],
            {"titel": "Auftakt Hamburg", "von": "12.11.2026 10 Uhr"},
        ),
        ("x »A B« k=„v w“", ["x", "A B"], {"k": "v w"}),
        ('x "a=b"', ["x", "a=b"], {}),
        (
            "anmelden email=anna@musterstadt.de Plätze=3",
            ["anmelden"],
            {"email": "anna@musterstadt.de", "plaetze": "3"},
        ),
        ("  viele    Leerzeichen  ", ["viele", "Leerzeichen"], {}),
        ('leer ""', ["leer", ""], {}),
    ],
)
def test_parse_line_quotes_and_options(
    line: str, words: list[str], options: dict[str, str]
) -> None:
    parsed = parse_line(line)
    assert parsed.words == words
    assert parsed.options == options


def test_unbalanced_quote_is_a_user_error() -> None:
    with pytest.raises(UserFacingError, match="Anführungszeichen"):
        parse_line('umfrage "Frage ohne Ende sofort')


def test_overlong_line_is_refused_with_limit() -> None:
    with pytest.raises(UserFacingError) as info:
        parse_line("x" * (MAX_COMMAND_LENGTH + 1))
    assert str(MAX_COMMAND_LENGTH) in str(info.value)


@pytest.mark.parametrize(
    ("text", "rest", "had"),
    [
        ("/stadtlabor hilfe", "hilfe", True),
        ("!stadtlabor hilfe", "hilfe", True),
        ("!Stadtlabor HILFE", "HILFE", True),
        ("hilfe", "hilfe", False),
        ("/stadtlaborx hilfe", "/stadtlaborx hilfe", False),
        ("!stadtlabor", "", True),
    ],
)
def test_prefixes(text: str, rest: str, had: bool) -> None:
    assert strip_prefix(text) == (rest, had)


def test_fold_spells_out_umlauts() -> None:
    assert fold("LÖSCHEN") == fold("loeschen") == "loeschen"
    assert fold("schließen") == "schliessen"
    assert fold("Bestätigen") == "bestaetigen"


def test_clean_removes_control_characters_but_keeps_newlines() -> None:
    assert clean("a\x00b\x1b[31mc\r\nd\u202e") == "ab[31mc\nd"


def test_registry_resolves_aliases_case_and_umlauts() -> None:
    registry = build_registry()
    for line in ("HILFE", "help", "Hilfe anmelden", "SPRACHE en", "language de"):
        found = registry.resolve(parse_line(line).tokens)
        assert found is not None, line
    assert registry.suggest("hilf") == "hilfe"
    assert registry.suggest("xyzzy-nothing") is None


def test_quoted_words_are_never_command_words() -> None:
    registry = build_registry()
    assert registry.resolve(parse_line('"hilfe"').tokens) is None


@pytest.mark.parametrize(
    "emoji", ["🤷\u200d♀️", "👨\u200d👩\u200d👧", "🏳️\u200d🌈", "🧑🏽\u200d💻", "❤️\u200d🔥"]
)
def test_zero_width_joiner_is_kept_inside_emoji(emoji: str) -> None:
    """ "🤷‍♀️" used to become "🤷♀️" (two emoji): the joiner was stripped with the controls."""
    assert clean(f"Stimmung: {emoji}!") == f"Stimmung: {emoji}!"


def test_stray_zero_width_joiner_is_still_dropped() -> None:
    assert clean("Ham\u200dburg \u200d🤷 x\u200d") == "Hamburg 🤷 x"


@pytest.mark.parametrize(
    ("line", "word"),
    [
        (r'x "A\B"', "A\\B"),
        (r'x "Kim \"KK\" Lee"', 'Kim "KK" Lee'),
        (r'x "C:\temp\" y', "C:\\temp\\"),
    ],
)
def test_backslash_in_quotes(line: str, word: str) -> None:
    """A backslash stays; before a quote it keeps the quote in the text."""
    assert parse_line(line).words[1] == word
