"""Tandems: pair a cohort's participants for an exchange between meetings (pure).

A maximum-weight matching (networkx, Edmonds' blossom algorithm) over everyone who may meet:
pairs that already met in this cohort have no edge (never twice). Two people of the host city
get an edge without the large SPREAD bonus, so they are paired only when nothing else places
everyone (more host people than tandems). The weight favours shared topics, complementary
ones (what one brings is the other's Vorhaben), different size classes and the round's theme.
With an odd count the one left over joins the tandem where they fit best (one triple).

Large groups (alumni, benchmarks) keep only each person's NEIGHBOURS best partners: three times
faster at 200 people and within 0.2 % of the optimum measured (docs/benchmarks.md); should that
leave anyone without a partner, the full graph is solved instead.
"""

from __future__ import annotations

import heapq
from dataclasses import dataclass, field
from itertools import combinations

import networkx as nx

Pair = frozenset[int]
# Larger than any sum of fit weights: keeping host people apart beats every topic fit.
SPREAD = 10_000
SPARSE_ABOVE = 60  # people; a cohort (at most 20) is always solved on the full graph
NEIGHBOURS = 40


@dataclass(frozen=True)
class Member:
    person_id: int
    topics: frozenset[str] = frozenset()  # canonical topic keys (topics.key)
    vorhaben_topics: frozenset[str] = frozenset()  # topic keys found in the Vorhaben
    size_class: str | None = None
    is_host: bool = False


@dataclass(frozen=True)
class Tandems:
    groups: list[tuple[int, ...]]
    unplaced: list[int] = field(default_factory=list)  # only when history leaves no partner


def weight(a: Member, b: Member, theme: str | None = None) -> int:
    """How well two people fit; 1 for any allowed pair, so that everyone is paired if possible."""
    score = 1 + 3 * len(a.topics & b.topics)
    score += 4 * (len(a.topics & b.vorhaben_topics) + len(b.topics & a.vorhaben_topics))
    if a.size_class and b.size_class and a.size_class != b.size_class:
        score += 2
    if theme:
        score += 2 * sum(theme in m.topics or theme in m.vorhaben_topics for m in (a, b))
    return score


def allowed(a: Member, b: Member, history: set[Pair]) -> bool:
    return frozenset((a.person_id, b.person_id)) not in history


def _edge(a: Member, b: Member, theme: str | None) -> int:
    return weight(a, b, theme) + (0 if a.is_host and b.is_host else SPREAD)


def pair_up(members: list[Member], history: set[Pair], theme: str | None = None) -> Tandems:
    """Tandems for ``members``; ``history`` holds every pair that already met in the cohort."""
    by_id = {m.person_id: m for m in members}
    edges = {
        (a.person_id, b.person_id): _edge(a, b, theme)
        for a, b in combinations(members, 2)
        if allowed(a, b, history)
    }
    matching = set()
    if len(members) > SPARSE_ABOVE:
        matching = _match(by_id, _best_edges(edges, NEIGHBOURS))
    if len(matching) < len(members) // 2:  # small, or the sparse graph left someone out
        matching = _match(by_id, edges)
    groups = [tuple(sorted(pair)) for pair in matching]
    placed = {pid for group in groups for pid in group}
    unplaced: list[int] = []
    for pid in sorted(set(by_id) - placed):
        best = _best_group(by_id[pid], groups, by_id, history, theme)
        if best is None:
            unplaced.append(pid)
        else:
            groups[best] = tuple(sorted((*groups[best], pid)))
    groups.sort()
    return Tandems(groups, unplaced)


def _match(by_id: dict[int, Member], edges: dict[tuple[int, int], int]) -> set[tuple[int, int]]:
    graph = nx.Graph()
    graph.add_nodes_from(by_id)
    graph.add_weighted_edges_from((a, b, w) for (a, b), w in edges.items())
    return set(nx.max_weight_matching(graph, maxcardinality=True))


def _best_edges(edges: dict[tuple[int, int], int], k: int) -> dict[tuple[int, int], int]:
    """Each person's ``k`` best-fitting partners (the union over both ends)."""
    partners: dict[int, list[tuple[int, int, tuple[int, int]]]] = {}
    for (a, b), w in edges.items():
        # Ties (common: most people share nothing) broken by a scrambled pair number, not by
        # id: keeping the lowest ids would crowd everyone onto the same few partners.
        tie = (a * 7919 + b * 104729) % 1_000_003
        partners.setdefault(a, []).append((w, tie, (a, b)))
        partners.setdefault(b, []).append((w, tie, (a, b)))
    return {
        pair: edges[pair]
        for options in partners.values()
        for _w, _tie, pair in heapq.nlargest(k, options)
    }


def _best_group(
    member: Member,
    groups: list[tuple[int, ...]],
    by_id: dict[int, Member],
    history: set[Pair],
    theme: str | None,
) -> int | None:
    """The pair this person fits best as a third (never making a group bigger than three)."""
    best: tuple[int, int] | None = None
    for index, group in enumerate(groups):
        others = [by_id[pid] for pid in group]
        if len(group) > 2 or not all(allowed(member, o, history) for o in others):
            continue
        score = sum(_edge(member, o, theme) for o in others)
        if best is None or score > best[0]:
            best = (score, index)
    return None if best is None else best[1]


def pairs_of(groups: list[tuple[int, ...]]) -> set[Pair]:
    """Every pair inside the groups (a triple holds three): what the next round must avoid."""
    return {frozenset(p) for group in groups for p in combinations(group, 2)}
