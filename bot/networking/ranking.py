"""Who knows about a topic: a pure ranking of profiles against what was asked.

A match is, best first: the exact tag (as typed, folded), a synonym (the same curated topic
under another word), or the topic named in someone's Vorhaben. Ties go by name, so the answer
does not depend on the order the database returns rows in.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum

from bot.networking.topics import canonical, key, words_for


class Strength(IntEnum):
    VORHABEN = 1
    SYNONYM = 2
    EXACT = 3


@dataclass(frozen=True)
class Candidate:
    person_id: int
    name: str
    municipality: str | None
    topics: tuple[str, ...]
    vorhaben: str  # title and goal, as one text


@dataclass(frozen=True)
class Match:
    candidate: Candidate
    strength: Strength
    topic: str  # the tag that matched, or the topic found in the Vorhaben


def match_of(query: str, candidate: Candidate) -> Match | None:
    asked = key(query)
    if not asked:
        return None
    topic, _kind = canonical(query)
    for tag in candidate.topics:
        if key(tag) == asked:
            return Match(candidate, Strength.EXACT, tag)
    for tag in candidate.topics:
        if key(canonical(tag)[0]) == key(topic):
            return Match(candidate, Strength.SYNONYM, tag)
    text = key(candidate.vorhaben)
    # Short words ("Land") would be found inside longer ones ("Landkreis"): five letters at least.
    words = {key(word) for word in (query, *words_for(topic))}
    if text and any(len(word) >= 5 and word in text for word in words):
        return Match(candidate, Strength.VORHABEN, topic)
    return None


def rank(query: str, candidates: list[Candidate], *, limit: int = 10) -> list[Match]:
    """The best ``limit`` matches, strongest first, then by name and id."""
    found = [m for c in candidates if (m := match_of(query, c)) is not None]
    found.sort(key=lambda m: (-m.strength, key(m.candidate.name), m.candidate.person_id))
    return found[:limit]
