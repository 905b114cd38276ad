"""Pure parts of networking: topic folding, size classes, the "wer kennt sich aus" ranking."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from bot.networking import places
from bot.networking.ranking import Candidate, Strength, rank
from bot.networking.topics import CURATED, canonical, parse_tags


def test_tags_fold_synonyms_spelling_and_case() -> None:
    assert canonical("Senioren-Wohnen") == ("Wohnen im Alter", "synonym")
    assert canonical("mobilitaet") == ("Mobilität", "curated")
    assert canonical("MOBILITÄT") == ("Mobilität", "curated")
    assert canonical("Quartiersentwiklung") == ("Quartiersentwicklung", "synonym")
    assert canonical("  Dorf  kino ") == ("Dorf kino", "free")
    assert parse_tags("Pflege, pflege; ÖPNV, Mobilität") == ["Pflege", "Mobilität"]


def test_size_classes_use_the_usual_german_bounds() -> None:
    assert [places.size_class(n) for n in (4_999, 5_000, 19_999, 20_000, 99_999, 100_000)] == [
        "Landgemeinde",
        "Kleinstadt",
        "Kleinstadt",
        "Mittelstadt",
        "Mittelstadt",
        "Großstadt",
    ]
    assert places.parse_size("35.000") == "Mittelstadt"
    assert places.parse_size("grossstadt") == "Großstadt"
    assert places.parse_size("riesig") is None


def test_places_come_from_the_shipped_data() -> None:
    assert places.lookup("Hansestadt Lübeck").size == "Großstadt"
    assert places.lookup("Bad Belzig").size == "Kleinstadt"
    assert places.lookup("Landeshauptstadt München").size == "Großstadt"  # "Munich" there
    assert places.lookup("Neustadt").ambiguous  # namesakes of different sizes: never guess
    assert places.lookup("Annastadt").size is None


def _c(pid: int, topics: tuple[str, ...] = (), vorhaben: str = "") -> Candidate:
    return Candidate(pid, f"Person {pid}", None, topics, vorhaben)


def test_exact_beats_synonym_beats_vorhaben() -> None:
    people = [
        _c(1, vorhaben="Ein Bürgerbus für mehr Mobilität"),
        _c(2, ("Mobilität",)),
        _c(3, ("Pflege",)),
        _c(4, ("ÖPNV",)),  # as typed (stored folded, but the ranking must not rely on it)
    ]
    found = rank("ÖPNV", people)
    assert [(m.candidate.person_id, m.strength) for m in found] == [
        (4, Strength.EXACT),
        (2, Strength.SYNONYM),
        (1, Strength.VORHABEN),
    ]


topic = st.sampled_from([*CURATED, "ÖPNV", "Senioren-Wohnen", "Dorfkino", "Jugend"])
candidates = st.lists(
    st.builds(
        _c,
        st.integers(1, 10_000),
        st.lists(topic, max_size=4).map(tuple),
        st.sampled_from(["", "Mobilität auf dem Land", "Wohnen im Alter stärken", "Leerstand"]),
    ),
    max_size=15,
    unique_by=lambda c: c.person_id,
)


@given(query=topic, people=candidates)
def test_ranking_is_sorted_and_order_independent(query: str, people: list[Candidate]) -> None:
    found = rank(query, people, limit=100)
    strengths = [m.strength for m in found]
    assert strengths == sorted(strengths, reverse=True)
    assert rank(query, list(reversed(people)), limit=100) == found
    assert len({m.candidate.person_id for m in found}) == len(found)


@given(query=topic, people=candidates)
def test_someone_with_the_tag_is_always_found_first(query: str, people: list[Candidate]) -> None:
    tagged = _c(99_999, (query,))
    found = rank(query, [*people, tagged], limit=100)
    assert found[0].strength is Strength.EXACT
    assert tagged in [m.candidate for m in found]
