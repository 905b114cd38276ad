"""Tandem matching (pure): everyone placed, never the same pair twice, host people spread."""

from __future__ import annotations

from collections import Counter

from hypothesis import given, settings
from hypothesis import strategies as st

from bot.networking.matching import Member, Tandems, pair_up, pairs_of

TOPICS = ["pflege", "mobilitaet", "wohnenimalter", "ehrenamt", "bildung"]
SIZES = ["Landgemeinde", "Kleinstadt", "Mittelstadt", "Grossstadt", None]


@st.composite
def cohorts(draw: st.DrawFn, min_size: int = 2, max_size: int = 24) -> list[Member]:
    n = draw(st.integers(min_size, max_size))
    hosts = draw(st.integers(0, n // 2))  # a host city sends at most one per tandem
    return [
        Member(
            i,
            frozenset(draw(st.sets(st.sampled_from(TOPICS), max_size=3))),
            frozenset(draw(st.sets(st.sampled_from(TOPICS), max_size=1))),
            draw(st.sampled_from(SIZES)),
            i < hosts,
        )
        for i in range(n)
    ]


def _check_shape(members: list[Member], result: Tandems) -> None:
    placed = Counter(pid for group in result.groups for pid in group)
    assert all(count == 1 for count in placed.values())  # nobody twice
    assert set(placed) | set(result.unplaced) == {m.person_id for m in members}
    assert all(2 <= len(group) <= 3 for group in result.groups)


@given(cohorts())
def test_everyone_is_placed_with_at_most_one_triple(members: list[Member]) -> None:
    result = pair_up(members, set())
    _check_shape(members, result)
    assert result.unplaced == []
    assert sum(len(g) == 3 for g in result.groups) == len(members) % 2


@given(cohorts())
def test_host_people_are_spread_over_the_tandems(members: list[Member]) -> None:
    hosts = {m.person_id for m in members if m.is_host}
    result = pair_up(members, set())
    assert all(len(hosts & set(group)) <= 1 for group in result.groups)


@settings(max_examples=50)
@given(cohorts(min_size=4), st.integers(2, 4))
def test_no_pair_meets_twice_over_several_rounds(members: list[Member], rounds: int) -> None:
    history: set[frozenset[int]] = set()
    for _ in range(rounds):
        result = pair_up(members, history)
        _check_shape(members, result)
        new = pairs_of(result.groups)
        assert not new & history
        history |= new


def test_fit_prefers_shared_and_complementary_topics_and_other_sizes() -> None:
    members = [
        Member(1, frozenset({"pflege"}), size_class="Kleinstadt"),
        Member(2, frozenset({"bildung"}), size_class="Kleinstadt"),
        Member(3, frozenset({"ehrenamt"}), frozenset({"pflege"}), "Grossstadt"),
        Member(4, frozenset({"bildung"}), size_class="Grossstadt"),
    ]
    assert pair_up(members, set()).groups == [(1, 3), (2, 4)]
    # once 1 and 3 have met: different size classes decide
    assert pair_up(members, {frozenset((1, 3))}).groups == [(1, 4), (2, 3)]


def test_someone_without_a_new_partner_is_reported_not_repeated() -> None:
    members = [Member(1), Member(2)]
    result = pair_up(members, {frozenset((1, 2))})
    assert result.groups == [] and result.unplaced == [1, 2]


@settings(max_examples=10, deadline=None)
@given(cohorts(min_size=61, max_size=90))
def test_large_groups_on_the_sparse_graph_keep_the_promises(members: list[Member]) -> None:
    hosts = {m.person_id for m in members if m.is_host}
    history: set[frozenset[int]] = set()
    for _ in range(2):
        result = pair_up(members, history)
        _check_shape(members, result)
        assert result.unplaced == []
        assert all(len(hosts & set(group)) <= 1 for group in result.groups)
        assert not pairs_of(result.groups) & history
        history |= pairs_of(result.groups)
