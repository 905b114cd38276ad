"""One parser for ``/stadtlabor …`` (Slack), ``!stadtlabor …`` (Matrix) and console lines.

Quoted arguments (``"…"``, ``„…“``, ``“…”``, ``»…«``) and ``key=value`` pairs parse the same
everywhere; command words are case-insensitive and accept both spellings of umlauts and ß.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field

from bot.errors import UserFacingError
from bot.i18n import N_

MAX_COMMAND_LENGTH = 16_000
PREFIXES = ("/stadtlabor", "!stadtlabor")
# opening quote → closing quotes accepted for it (typographic quotes are often mismatched)
_QUOTES = {'"': '"“”', "„": '“”"', "“": '”“"', "”": '”"', "»": "«", "«": "»"}
_ESCAPED = re.compile(r'\\(["“”»«„])')
_KEY = re.compile(r"^[A-Za-zÄÖÜäöüß][\wÄÖÜäöüß-]*$")
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f\u200b\u200c\u200e\u200f\u202a-\u202e\u2066-\u2069]")
# The zero-width joiner builds emoji sequences ("🤷‍♀️", "👨‍👩‍👧"): kept between two emoji
# (a variation selector or skin tone may end the first), dropped everywhere else.
_EMOJI = (
    "\u00a9\u00ae\u203c\u2049\u2122\u2139\u2194-\u2bff\u3030\u303d\u3297\u3299\U0001f000-\U0001faff"
)
_STRAY_ZWJ = re.compile(f"(?<![{_EMOJI}\ufe0f\U0001f3fb-\U0001f3ff])\u200d|\u200d(?![{_EMOJI}])")


def fold(word: str) -> str:
    """Lower-case and spell umlauts/ß out, so that 'Löschen' == 'loeschen'."""
    word = unicodedata.normalize("NFC", word).casefold()
    for src, dst in (("ä", "ae"), ("ö", "oe"), ("ü", "ue"), ("ß", "ss")):
        word = word.replace(src, dst)
    return word


@dataclass(frozen=True)
class Token:
    text: str
    quoted: bool


@dataclass
class ParsedLine:
    """Tokens of a command line: positional tokens, ``key=value`` options and bare flags."""

    tokens: list[Token]
    options: dict[str, str] = field(default_factory=dict)

    @property
    def words(self) -> list[str]:
        return [t.text for t in self.tokens]


def clean(text: str) -> str:
    """Normalise Unicode and drop control characters (kept: newline and tab)."""
    text = unicodedata.normalize("NFC", text)
    text = _STRAY_ZWJ.sub("", text)
    return _CONTROL.sub("", text.replace("\r\n", "\n").replace("\r", "\n"))


def shorten(text: str, limit: int = 60) -> str:
    """What the person typed, for quoting it back: one line, at most ``limit`` characters."""
    line = " ".join(text.split())
    return line if len(line) <= limit else line[:limit].rstrip() + "…"


# The word that confirms a destructive command typed again ("vergessen ja", "… entfernen @x ja").
CONFIRM_WORDS = frozenset({"ja", "yes", "bestaetigt", "bestaetigen", "confirm"})


def confirmed(args: list[str]) -> bool:
    """True when the last argument confirms the command."""
    return bool(args) and fold(args[-1]) in CONFIRM_WORDS


def strip_prefix(text: str) -> tuple[str, bool]:
    """Remove a leading ``/stadtlabor`` or ``!stadtlabor``; say whether one was there."""
    stripped = text.lstrip()
    lowered = stripped.casefold()
    for prefix in PREFIXES:
        if (
            lowered == prefix
            or lowered.startswith(prefix + " ")
            or lowered.startswith(prefix + "\n")
        ):
            return stripped[len(prefix) :].strip(), True
    return text.strip(), False


def tokenize(text: str) -> list[tuple[str, int | None]]:
    """Split on whitespace; quotes group words and may start mid-token (``titel="A B"``).

    Each token comes with the offset of its first quoted character (``None``: unquoted), so
    that ``"a=b"`` stays a word while ``titel="a=b"`` is an option.
    """
    tokens: list[tuple[str, int | None]] = []
    current: list[str] = []
    quoted: int | None = None
    in_token = False
    i = 0
    while i < len(text):
        ch = text[i]
        if ch in _QUOTES:
            closers = _QUOTES[ch]
            # a backslash keeps a quote inside the text ("Kim \"KK\" Lee"); any other
            # backslash is an ordinary character ("A\B")
            end = next(
                (j for j in range(i + 1, len(text)) if text[j] in closers and text[j - 1] != "\\"),
                -1,
            )
            if end == -1:  # 'C:\temp\" …': the backslash ends the text, the quote closes it
                end = next((j for j in range(i + 1, len(text)) if text[j] in closers), -1)
            if end == -1:
                raise UserFacingError(
                    N_(
                        "Ein Anführungszeichen wurde nicht geschlossen. Setzen Sie Text mit "
                        'Leerzeichen in Anführungszeichen, z. B. titel="Auftakt in Hamburg".'
                    )
                )
            if quoted is None:
                quoted = len("".join(current))
            inner = text[i + 1 : end]
            current.append(inner if inner.endswith("\\") else _ESCAPED.sub(r"\1", inner))
            in_token = True
            i = end + 1
            continue
        if ch.isspace():
            if in_token:
                tokens.append(("".join(current), quoted))
            current, quoted, in_token = [], None, False
        else:
            current.append(ch)
            in_token = True
        i += 1
    if in_token:
        tokens.append(("".join(current), quoted))
    return tokens


def parse_line(text: str) -> ParsedLine:
    """Tokens → positional words and ``key=value`` options (keys folded: ``plätze``→``plaetze``)."""
    if len(text) > MAX_COMMAND_LENGTH:
        raise UserFacingError(
            N_(
                "Ihre Nachricht ist zu lang ({length} Zeichen); höchstens {limit} Zeichen sind "
                "möglich. Bitte kürzen Sie den Text oder teilen Sie ihn auf mehrere "
                "Nachrichten auf."
            ),
            length=len(text),
            limit=MAX_COMMAND_LENGTH,
        )
    parsed = ParsedLine(tokens=[])
    for raw, quote_at in tokenize(text):
        key, sep, value = raw.partition("=")
        unquoted_key = quote_at is None or quote_at > len(key)
        if sep and unquoted_key and _KEY.match(key):
            parsed.options[fold(key).replace("_", "-")] = value
        else:
            parsed.tokens.append(Token(raw, quote_at is not None))
    return parsed
