"""Step 1 of the pipeline: turn what people type into one predictable spelling.

After this step the text is NFKC-normalised, lower case, single-spaced, free of control
characters and quotes, and a few German habits are rewritten so that the rules stay simple:
umlauts typed as ``ae``/``ue``, compounds such as ``Freitagabend``, and ``morgen`` meaning
"morning" after a day ("heute morgen", "Dienstag morgen").
"""

from __future__ import annotations

import re
import unicodedata

from bot.dates.lexicon import WEEKDAYS

# Umlaut-free spellings of the words the rules know. A fixed list rather than a blanket
# "ue" -> "ü", which would break words such as "neue" or "Quelle".
_SPELLINGS = {
    "naechste": "nächste", "naechsten": "nächsten", "naechster": "nächster",
    "nachste": "nächste", "nachsten": "nächsten", "nachster": "nächster",
    "uebermorgen": "übermorgen", "ubermorgen": "übermorgen",
    "uebernaechste": "übernächste", "uebernaechsten": "übernächsten",
    "maerz": "märz", "marz": "märz", "jaenner": "jänner",
    "frueh": "früh", "fruh": "früh",
    "fuenf": "fünf", "funf": "fünf", "zwoelf": "zwölf", "zwolf": "zwölf",
    "spaetestens": "spätestens", "spatestens": "spätestens",
}  # fmt: skip
_SPELLING_RE = re.compile(r"\b(" + "|".join(_SPELLINGS) + r")\b")

_DAYS = "|".join(sorted((w for w in WEEKDAYS if len(w) > 3), key=len, reverse=True))
# "Freitagabend", "Montagmorgen", "Sonntagfrüh" -> "freitag abends" etc.
_COMPOUND_RE = re.compile(
    rf"\b({_DAYS}|heute|morgen)(morgen|vormittag|nachmittag|mittag|abend|früh)s?\b"
)
# "heute morgen", "Dienstag Morgen", "morgen morgen": the second "morgen" is the morning.
_MORNING_RE = re.compile(rf"\b({_DAYS}|heute|übermorgen|morgen)(\s+am)?\s+morgen\b")
_QUOTES_RE = re.compile(r"[\"'„“”‚‘’«»`]")
# A final full stop is punctuation unless it ends a day-month date ("am 12.03.").
_DAY_MONTH_END_RE = re.compile(r"(?<![\d.])\d{1,2}\.\d{1,2}\.$")


def _compound(match: re.Match[str]) -> str:
    day, part = match.group(1), match.group(2)
    # Rewrite to the adverb form so that "morgen" is never read as "tomorrow" again.
    return f"{day} {'morgens' if part == 'morgen' else part}"


def normalise(text: str) -> str:
    text = unicodedata.normalize("NFKC", text)
    # Control and format characters (tabs, zero-width spaces, BOMs) become plain spaces.
    text = "".join(ch if ch.isprintable() else " " for ch in text).lower()
    text = _QUOTES_RE.sub(" ", text)
    text = " ".join(text.split())
    text = _SPELLING_RE.sub(lambda m: _SPELLINGS[m.group(1)], text)
    text = _COMPOUND_RE.sub(_compound, text)
    text = _MORNING_RE.sub(lambda m: f"{m.group(1)} morgens", text)
    text = text.rstrip("!?;: ")
    if text.endswith(".") and not _DAY_MONTH_END_RE.search(text):
        text = text.rstrip(". ")
    return text
