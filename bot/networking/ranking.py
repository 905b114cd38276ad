"""Who knows about a topic: a pure ranking of profiles against what was asked.

A match is, best first: the exact tag (as typed, folded), a synonym (the same curated topic
under another word), or the topic named in someone's Vorhaben. Ties go to current members before
alumni, then by name, so the answer does not depend on the order the database returns rows in.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum

from bot.networking.topics import canonical, fold_key, key, words_for


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
    alumnus: bool = False  # found by bot.networking.alumni, not a member of the cohort
    alumni_year: int | None = None  # the year their cohort closed (None: imported contact)


@dataclass(frozen=True)
class Match:
    candidate: Candidate
    strength: Strength
    topic: str  # the tag that matched, or the topic found in the Vorhaben


@dataclass(frozen=True)
class _Query:
    """What is asked, folded once per ranking rather than once per candidate."""

    asked: str
    topic: str
    topic_key: str
    words: frozenset[str]  # the topic's words to look for in a Vorhaben

    @classmethod
    def of(cls, query: str) -> _Query:
        topic, _kind = canonical(query)
        words = {key(word) for word in (query, *words_for(topic))}
        # Short words ("Land") would be found inside longer ones ("Landkreis"): five letters+.
        return cls(key(query), topic, key(topic), frozenset(w for w in words if len(w) >= 5))


def query_keys(query: str) -> tuple[str, str]:
    """The folded keys a question is looked up by: as asked, and its curated topic."""
    asked = _Query.of(query)
    return asked.asked, asked.topic_key


def match_of(query: str, candidate: Candidate) -> Match | None:
    return _match(_Query.of(query), candidate)


def _match(query: _Query, candidate: Candidate) -> Match | None:
    if not query.asked:
        return None
    keys = [key(tag) for tag in candidate.topics]
    for tag, tag_key in zip(candidate.topics, keys, strict=True):
        if tag_key == query.asked:
            return Match(candidate, Strength.EXACT, tag)
    for tag in candidate.topics:
        if key(canonical(tag)[0]) == query.topic_key:
            return Match(candidate, Strength.SYNONYM, tag)
    text = fold_key(candidate.vorhaben) if candidate.vorhaben else ""
    if text and any(word in text for word in query.words):
        return Match(candidate, Strength.VORHABEN, query.topic)
    return None


def rank(query: str, candidates: list[Candidate], *, limit: int = 10) -> list[Match]:
    """The best ``limit`` matches, strongest first, then by name and id."""
    asked = _Query.of(query)
    found = [m for c in candidates if (m := _match(asked, c)) is not None]
    found.sort(key=_order)
    return found[:limit]


def _order(m: Match) -> tuple[int, bool, str, int]:
    return (
        -m.strength,
        m.candidate.alumnus,
        fold_key(m.candidate.name),
        m.candidate.person_id,
    )


def merge(members: list[Match], alumni: list[Match], *, limit: int = 10) -> list[Match]:
    """Members and alumni in one list: strongest first, members before alumni at equal
    strength, then by name."""
    return sorted([*members, *alumni], key=_order)[:limit]
