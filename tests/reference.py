"""The reference model the confidentiality tests judge outputs by, independent of the product.

One unknown per person (per measure, where one figure sums several measures, as hidden work's
team totals do); a shown figure is the sum of the unknowns of the people the scenario's truth
says it covers. From all shown figures of a family together, a reader can work out exactly the
linear combinations in their row space. The question is whether any of those is supported on
fewer than k people: `determined_small_group` answers it with exact rational elimination.

People whom every shown figure treats alike (in exactly the same figures) always carry equal
coefficients in anything a reader can work out, so they are tested as one block; the search
then only visits blocks that some determined combination confined to small blocks can touch.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable, Sequence
from fractions import Fraction
from itertools import combinations

Unknown = Hashable  # a person, or (person, measure)


def _owner(unknown: Unknown) -> Hashable:
    return unknown[0] if isinstance(unknown, tuple) else unknown


def _rank(rows: list[list[Fraction]]) -> int:
    rows = [row[:] for row in rows if any(row)]
    rank = 0
    width = len(rows[0]) if rows else 0
    for column in range(width):
        pivot = next((r for r in range(rank, len(rows)) if rows[r][column] != 0), None)
        if pivot is None:
            continue
        rows[rank], rows[pivot] = rows[pivot], rows[rank]
        lead = rows[rank][column]
        for r in range(len(rows)):
            if r != rank and rows[r][column] != 0:
                factor = rows[r][column] / lead
                rows[r] = [a - factor * b for a, b in zip(rows[r], rows[rank])]
        rank += 1
    return rank


def determined_small_group(figures: Sequence[Iterable[Unknown]], k: int) -> frozenset[Hashable] | None:
    """The people of a combination of these figures' unknowns supported on 1 to k-1 people that
    the figures together determine, or None if there is none."""
    rows = [frozenset(figure) for figure in figures]
    rows = [row for row in rows if row]
    if not rows:
        return None
    unknowns = sorted(set().union(*rows), key=repr)
    signature: dict[tuple[bool, ...], list[Unknown]] = {}
    for unknown in unknowns:
        signature.setdefault(tuple(unknown in row for row in rows), []).append(unknown)
    blocks = list(signature.values())
    people = [frozenset(_owner(u) for u in block) for block in blocks]
    matrix = [[Fraction(int(key[r])) for key in signature] for r in range(len(rows))]

    def rank_on(columns: Iterable[int]) -> int:
        chosen = sorted(set(columns))
        return _rank([[row[c] for c in chosen] for row in matrix]) if chosen else 0

    everything = range(len(blocks))
    full = rank_on(everything)
    large = [b for b in everything if len(people[b]) >= k]
    base = rank_on(large)
    if full == base:
        return None  # every determined combination involves a block of k or more people
    # A block can be in the support of a combination that avoids every large block only if
    # adding it to the large blocks raises their rank.
    relevant = [b for b in everything if b not in large and rank_on([*large, b]) > base]
    for size in range(1, k):
        for chosen in combinations(relevant, size):
            who = frozenset().union(*(people[b] for b in chosen))
            if not 0 < len(who) < k:
                continue
            if rank_on(c for c in everything if c not in chosen) < full:
                return who
    return None
