"""The curated topic list and the folding of free tags onto it (synonyms, spelling, umlauts).

The list follows the programme's themes (age-friendly, demography-proof municipality) and the
topics municipalities in the former "Netzwerk demografiefeste Kommune" worked on. Tags not on
the list stay as typed: expertise is free, the list only suggests and folds.
"""

from __future__ import annotations

import difflib
import re
from functools import lru_cache
from typing import Literal

from bot.router import fold

CURATED: tuple[str, ...] = (
    "Pflege",
    "Wohnen im Alter",
    "Mobilität",
    "Fachkräfte",
    "Ehrenamt",
    "Quartiersentwicklung",
    "Digitalisierung",
    "Gesundheit",
    "Bildung",
    "Zuwanderung",
    "Einsamkeit",
    "Nahversorgung",
    "Barrierefreiheit",
    "Kinder und Familie",
    "Klimaanpassung",
    "Bürgerbeteiligung",
    "Generationendialog",
    "Demografiemonitoring",
    "Ländlicher Raum",
    "Innenstadt",
)

# Other words people use for a curated topic (folded on use, so umlauts and case do not matter).
SYNONYMS: dict[str, tuple[str, ...]] = {
    "Pflege": ("Altenpflege", "Pflegeinfrastruktur", "Pflegeplanung", "Kurzzeitpflege"),
    "Wohnen im Alter": (
        "Senioren-Wohnen",
        "Seniorenwohnen",
        "altersgerechtes Wohnen",
        "Wohnen",
        "betreutes Wohnen",
        "Wohnraum",
    ),
    "Mobilität": ("ÖPNV", "Verkehr", "Nahverkehr", "Bürgerbus", "Radverkehr", "Mobility"),
    "Fachkräfte": ("Fachkräftemangel", "Fachkräftesicherung", "Arbeitsmarkt"),
    "Ehrenamt": ("Engagement", "bürgerschaftliches Engagement", "Freiwillige", "Volunteering"),
    "Quartiersentwicklung": ("Quartier", "Quartiersmanagement", "Stadtteilentwicklung"),
    "Digitalisierung": ("digitale Teilhabe", "Smart City", "E-Government", "Digitales"),
    "Gesundheit": ("Gesundheitsversorgung", "Prävention", "ärztliche Versorgung", "Health"),
    "Bildung": ("lebenslanges Lernen", "Schule", "Weiterbildung", "Education"),
    "Zuwanderung": ("Integration", "Migration", "Geflüchtete", "Migration und Integration"),
    "Einsamkeit": ("soziale Isolation", "Vereinsamung", "Loneliness"),
    "Nahversorgung": ("Einzelhandel", "Dorfladen", "Versorgung"),
    "Barrierefreiheit": ("barrierefrei", "Inklusion", "Accessibility"),
    "Kinder und Familie": ("Familie", "Familienfreundlichkeit", "Kinderbetreuung", "Jugend"),
    "Klimaanpassung": ("Hitzeschutz", "Hitzeaktionsplan", "Klimafolgenanpassung"),
    "Bürgerbeteiligung": ("Beteiligung", "Partizipation", "Teilhabe"),
    "Generationendialog": ("Generationen", "Mehrgenerationen", "Jung und Alt"),
    "Demografiemonitoring": ("Bevölkerungsprognose", "Sozialmonitoring", "Monitoring"),
    "Ländlicher Raum": ("Land", "Dorfentwicklung", "ländliche Räume"),
    "Innenstadt": ("Innenstadtentwicklung", "Ortskern", "Leerstand"),
}

MAX_TAG_LENGTH = 60
Kind = Literal["curated", "synonym", "free"]


def fold_key(text: str) -> str:
    """The comparison key: folded (case, umlauts, ß) with all but letters and digits removed,
    so that "Senioren-Wohnen", "senioren wohnen" and "SeniorenWohnen" are one tag."""
    return re.sub(r"[^0-9a-z]", "", fold(text))


# Tags repeat across people, and folding is the ranking's main cost. Free text (a Vorhaben)
# goes through fold_key uncached: no one's text stays in memory after "vergessen".
key = lru_cache(maxsize=4096)(fold_key)


_CANONICAL: dict[str, str] = {key(topic): topic for topic in CURATED}
_BY_SYNONYM: dict[str, str] = {
    key(word): topic for topic, words in SYNONYMS.items() for word in words
}


@lru_cache(maxsize=4096)  # pure, and called for every tag of every candidate in a ranking
def canonical(tag: str) -> tuple[str, Kind]:
    """The tag as stored: a curated topic (directly, by synonym or by a near spelling), or the
    free tag as typed (trimmed)."""
    text = " ".join(tag.split())[:MAX_TAG_LENGTH]
    folded = key(text)
    if folded in _CANONICAL:
        return _CANONICAL[folded], "curated"
    if folded in _BY_SYNONYM:
        return _BY_SYNONYM[folded], "synonym"
    # A typo of a curated topic ("Mobilitat", "Quartiersentwiklung"); long words only, so that
    # short tags are never bent onto a topic they do not mean.
    if len(folded) >= 6:
        near = difflib.get_close_matches(folded, list(_CANONICAL), n=1, cutoff=0.85)
        if near:
            return _CANONICAL[near[0]], "synonym"
    return text, "free"


def parse_tags(text: str) -> list[str]:
    """'Pflege, Senioren-Wohnen; ÖPNV' → canonical tags, first occurrence kept, order kept."""
    seen: dict[str, str] = {}
    for part in re.split(r"[,;\n]", text):
        if not part.strip():
            continue
        tag, _kind = canonical(part)
        seen.setdefault(key(tag), tag)
    return list(seen.values())


def suggestions(prefix: str = "", limit: int = 20) -> list[str]:
    """Curated topics, those starting with ``prefix`` first (for hints and Slack menus)."""
    folded = key(prefix)
    starting = [t for t in CURATED if key(t).startswith(folded)]
    return (starting + [t for t in CURATED if t not in starting])[:limit]


def close_to(tag: str, limit: int = 3) -> list[str]:
    """Curated topics a free tag might mean, offered (never applied) after saving it."""
    folded = key(tag)
    if not folded:
        return []
    near = difflib.get_close_matches(folded, list(_CANONICAL), n=limit, cutoff=0.6)
    near += [k for k in _CANONICAL if len(folded) >= 4 and folded in k and k not in near]
    return [_CANONICAL[k] for k in near[:limit]]


def words_for(topic: str) -> tuple[str, ...]:
    """The topic and its synonyms, for finding it in free text (a Vorhaben's title and goal)."""
    return (topic, *SYNONYMS.get(topic, ()))
