"""The weekly release rule: from everything released, nobody can compute any combination of
individuals' values that concerns fewer than k people.

The property tests check `bot.release.rule` against a brute-force oracle that shares nothing
with it: for every group of 1 to k - 1 people that some cells cover, it takes all the cells
within the group and asks, with plain rational Gaussian elimination, whether some nonzero
combination of the rows lives on those cells alone.
"""

from __future__ import annotations

import random
import time
from collections.abc import Hashable, Sequence
from fractions import Fraction

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.release.rule import (
    EMPTY,
    ISOLATES,
    TOO_FEW,
    Atom,
    Decision,
    Row,
    decide,
    decide_for_readers,
    violation,
)

# ---------------------------------------------------------------- the oracle


def rank(matrix: Sequence[Sequence[Fraction]]) -> int:
    rows = [list(row) for row in matrix]
    found = 0
    width = len(rows[0]) if rows else 0
    for column in range(width):
        pivot = next((i for i in range(found, len(rows)) if rows[i][column] != 0), None)
        if pivot is None:
            continue
        rows[found], rows[pivot] = rows[pivot], rows[found]
        for i in range(len(rows)):
            if i != found and rows[i][column] != 0:
                factor = rows[i][column] / rows[found][column]
                rows[i] = [a - factor * b for a, b in zip(rows[i], rows[found], strict=True)]
        found += 1
    return found


def carries(atoms: Sequence[Atom], rows: Sequence[Row], chosen: frozenset[Hashable]) -> bool:
    """Whether some nonzero combination of the rows is zero on every cell outside `chosen`."""
    cells = sorted((atom.key for atom in atoms if atom.people), key=repr)
    matrix = [[Fraction(int(cell in row.atoms)) for cell in cells] for row in rows]
    if not matrix:
        return False
    rest = [i for i, cell in enumerate(cells) if cell not in chosen]
    # The row space meets span(e_S) iff forgetting the columns of S loses rank.
    return rank([[row[i] for i in rest] for row in matrix]) < rank(matrix)


def offending(atoms: Sequence[Atom], rows: Sequence[Row], k: int) -> list[frozenset[Hashable]]:
    """For every group of 1 to k - 1 people that some cells cover exactly: all the cells within
    the group, when a nonzero combination of the rows lives on them. (A combination living on
    fewer cells of the group lives on these too.)"""
    people = {atom.key: frozenset(atom.people) for atom in atoms if atom.people}
    keys = sorted(people, key=repr)
    groups: set[frozenset[Hashable]] = set()

    def grow(start: int, covered: frozenset[Hashable]) -> None:
        for i in range(start, len(keys)):
            bigger = covered | people[keys[i]]
            if bigger != covered and len(bigger) < k:
                groups.add(bigger)
                grow(i + 1, bigger)

    grow(0, frozenset())
    found = []
    for group in sorted(groups, key=lambda g: (len(g), sorted(map(repr, g)))):
        within = frozenset(key for key, members in people.items() if members <= group)
        if carries(atoms, rows, within):
            found.append(within)
    return found


def oracle_violates(atoms: Sequence[Atom], rows: Sequence[Row], k: int) -> bool:
    return bool(offending(atoms, rows, k))


def people_of(atoms: Sequence[Atom], keys: frozenset[Hashable]) -> frozenset[Hashable]:
    return frozenset().union(*(atom.people for atom in atoms if atom.key in keys))


def filled(atoms: Sequence[Atom], row: Row) -> bool:
    return bool(people_of(atoms, row.atoms))


def check_against_oracle(atoms: list[Atom], rows: list[Row], k: int) -> Decision:
    decision = decide(atoms, rows, k)
    by_key = {row.key: row for row in rows}
    assert set(decision.released) | set(decision.withheld) == set(by_key)
    assert not set(decision.released) & set(decision.withheld)
    assert list(decision.released) == [row.key for row in rows if row.key in decision.released]

    released = [by_key[key] for key in decision.released]
    assert not oracle_violates(atoms, released, k)

    # Greedy maximality: each withheld row breaks the rule next to the rows kept before it.
    for position, row in enumerate(rows):
        if row.key not in decision.withheld:
            continue
        reason = decision.withheld[row.key]
        if not filled(atoms, row):
            assert reason == EMPTY
            continue
        assert reason in (TOO_FEW, ISOLATES)
        assert (reason == TOO_FEW) == (len(people_of(atoms, row.atoms)) < k)
        before = [r for r in rows[:position] if r.key in decision.released]
        assert oracle_violates(atoms, before + [row], k)
    return decision


# ---------------------------------------------------------------- builders for hand examples


def crowd(name: str, size: int) -> frozenset[str]:
    return frozenset(f"{name}{i}" for i in range(size))


def atom(key: Hashable, people: frozenset[str]) -> Atom:
    return Atom(key, people)


def row(key: Hashable, *atom_keys: Hashable) -> Row:
    return Row(key, frozenset(atom_keys))


# ---------------------------------------------------------------- hand examples


def test_the_organisation_alone_with_exactly_k_people_is_released() -> None:
    atoms = [atom("sales", crowd("s", 2)), atom("eng", crowd("e", 3))]
    decision = decide(atoms, [row("org", "sales", "eng")], 5)
    assert decision.released == ("org",)
    assert decision.withheld == {}
    assert decision.allows("org")


def test_a_team_of_two_is_withheld_and_so_is_its_sibling_that_would_subtract_to_it() -> None:
    atoms = [atom("a", crowd("a", 2)), atom("b", crowd("b", 5))]
    rows = [row("org", "a", "b"), row("team a", "a"), row("team b", "b")]
    decision = check_against_oracle(atoms, rows, 3)
    assert decision.released == ("org",)
    assert decision.withheld == {"team a": TOO_FEW, "team b": ISOLATES}
    assert not decision.allows("team a")


def test_a_parent_minus_its_one_shown_child_leaving_one_person_withholds_the_child() -> None:
    atoms = [atom("eng own", crowd("lead", 1)), atom("eng/api", crowd("dev", 4))]
    rows = [row("eng", "eng own", "eng/api"), row("eng/api", "eng/api")]
    decision = check_against_oracle(atoms, rows, 3)
    assert decision.released == ("eng",)
    assert decision.withheld == {"eng/api": ISOLATES}
    assert violation(atoms, rows, 3) == frozenset({"eng own"})


def test_a_level_row_exposing_one_senior_in_another_team_is_withheld_not_the_teams() -> None:
    # Team a is all seniors, so "seniors" minus team a is the one senior of team b.
    atoms = [
        atom(("a", "senior"), crowd("as", 4)),
        atom(("b", "senior"), crowd("bs", 1)),
        atom(("b", "junior"), crowd("bj", 4)),
        atom(("b", "mid"), crowd("bm", 4)),
    ]
    rows = [
        row("org", *(a.key for a in atoms)),
        row("a", ("a", "senior")),
        row("b", ("b", "senior"), ("b", "junior"), ("b", "mid")),
        row("senior", ("a", "senior"), ("b", "senior")),
        row("junior", ("b", "junior")),
        row("mid", ("b", "mid")),
    ]
    decision = check_against_oracle(atoms, rows, 3)
    assert decision.released == ("org", "a", "b", "junior")
    # With "junior" shown, "mid" would leave b's senior as b minus junior minus mid.
    assert decision.withheld == {"senior": ISOLATES, "mid": ISOLATES}
    assert violation(atoms, rows[:4], 3) == frozenset({("b", "senior")})


def test_a_reporter_who_logged_three_categories_counts_once_so_rows_isolating_him_go() -> None:
    # Ann is the only one in team t to log checking, prompting and cleanup: three cells, one
    # person. Counting cell sizes (3 >= k) instead of people (1) would let "team t minus
    # drafting" through.
    ann = frozenset({"ann"})
    cells: dict[tuple[str, str], frozenset[str]] = {
        ("drafting", "t"): frozenset({"bob", "cy", "dan"}),
        ("checking", "t"): ann,
        ("prompting", "t"): ann,
        ("cleanup", "t"): ann,
        ("checking", "u"): crowd("u", 3),
        ("prompting", "u"): crowd("u", 3),
        ("cleanup", "u"): crowd("u", 3),
    }
    atoms = [atom(key, members) for key, members in cells.items()]
    keys = list(cells)
    rows = [
        row("org", *keys),
        row("t", *(key for key in keys if key[1] == "t")),
        row("u", *(key for key in keys if key[1] == "u")),
        *(
            row(c, *(key for key in keys if key[0] == c))
            for c in ("drafting", "checking", "prompting", "cleanup")
        ),
    ]
    decision = check_against_oracle(atoms, rows, 3)
    assert decision.released == ("org", "t", "u", "checking", "prompting")
    assert decision.withheld == {"drafting": ISOLATES, "cleanup": ISOLATES}

    witness = violation(atoms, rows[:4], 3)
    assert witness == frozenset({("checking", "t"), ("prompting", "t"), ("cleanup", "t")})
    assert people_of(atoms, witness) == ann
    assert sum(len(a.people) for a in atoms if a.key in witness) >= 3


def test_k_three_releases_a_team_of_four_that_k_five_withholds() -> None:
    atoms = [atom("a", crowd("a", 4)), atom("b", crowd("b", 6))]
    rows = [row("org", "a", "b"), row("a", "a"), row("b", "b")]
    assert decide(atoms, rows, 3).released == ("org", "a", "b")
    # Under k = 5, b would also give away a as org minus b.
    assert decide(atoms, rows, 5) == Decision(("org",), {"a": TOO_FEW, "b": ISOLATES})
    assert violation(atoms, rows, 3) is None
    assert violation(atoms, rows, 5) == frozenset({"a"})


def test_empty_rows_are_withheld_as_empty() -> None:
    atoms = [atom("a", crowd("a", 5)), atom("nobody", frozenset())]
    rows = [row("no cells"), row("only an empty cell", "nobody"), row("a", "a", "nobody")]
    decision = decide(atoms, rows, 3)
    assert decision.released == ("a",)
    assert decision.withheld == {"no cells": EMPTY, "only an empty cell": EMPTY}


def test_a_row_spanned_by_released_rows_is_kept_even_a_duplicate() -> None:
    # Sales is org minus eng; a second copy of the org row adds nothing either. No special
    # treatment of duplicates (rows or cells with the same people) is needed.
    atoms = [atom("sales", crowd("s", 3)), atom("eng", crowd("e", 3)), atom("ops", crowd("s", 3))]
    rows = [
        row("org", "sales", "eng", "ops"),
        row("eng", "eng"),
        row("sales+ops", "sales", "ops"),
        row("org again", "sales", "eng", "ops"),
    ]
    decision = check_against_oracle(atoms, rows, 3)
    assert decision.released == ("org", "eng", "sales+ops", "org again")


def test_of_two_rows_that_only_together_isolate_someone_the_first_given_wins() -> None:
    atoms = [atom("a", crowd("a", 3)), atom("b", crowd("b", 1)), atom("c", crowd("c", 3))]
    first, second = row("a+b", "a", "b"), row("a", "a")
    assert decide(atoms, [first, second], 3).released == ("a+b",)
    assert decide(atoms, [second, first], 3).released == ("a",)


def test_invalid_input_is_refused() -> None:
    atoms = [atom("a", crowd("a", 5))]
    with pytest.raises(ValueError, match="at least 3"):
        decide(atoms, [row("a", "a")], 2)
    with pytest.raises(ValueError, match="duplicate atom"):
        decide(atoms + [atom("a", crowd("x", 5))], [], 3)
    with pytest.raises(ValueError, match="duplicate row"):
        decide(atoms, [row("a", "a"), row("a", "a")], 3)
    with pytest.raises(ValueError, match="unknown atom"):
        decide(atoms, [row("a", "a", "z")], 3)
    with pytest.raises(ValueError, match="unknown atom"):
        violation(atoms, [row("a", "z")], 3)


def test_cell_keys_of_mixed_types_are_fine() -> None:
    atoms = [atom(1, crowd("a", 2)), atom("x", crowd("b", 3)), atom(("t", "l"), crowd("c", 3))]
    rows = [row("org", 1, "x", ("t", "l")), row("x", "x"), row("t", ("t", "l"))]
    decision = check_against_oracle(atoms, rows, 3)
    assert decision.released == ("org", "x")


# ---------------------------------------------------------------- the oracle itself


def test_the_oracle_sees_a_remainder_and_a_bridge_and_passes_what_is_safe() -> None:
    atoms = [atom("own", crowd("o", 1)), atom("child", crowd("c", 4))]
    assert offending(atoms, [row("p", "own", "child"), row("c", "child")], 3) == [
        frozenset({"own"})
    ]
    assert offending(atoms, [row("p", "own", "child")], 3) == []
    # A cut of one edge in the team × level graph: one person in b's seniors.
    cells = [atom("as", crowd("x", 4)), atom("bs", crowd("y", 1)), atom("bj", crowd("z", 4))]
    rows = [row("a", "as"), row("b", "bs", "bj"), row("senior", "as", "bs")]
    assert frozenset({"bs"}) in offending(cells, rows, 3)


def test_the_oracle_would_catch_a_rule_that_only_looks_at_each_row_alone() -> None:
    atoms = [atom("own", crowd("o", 1)), atom("child", crowd("c", 4))]
    rows = [row("p", "own", "child"), row("c", "child")]
    naive = [r for r in rows if len(people_of(atoms, r.atoms)) >= 3]
    assert naive == rows and oracle_violates(atoms, naive, 3)
    assert not oracle_violates(atoms, [rows[0]], 3)


# ---------------------------------------------------------------- properties


@st.composite
def weeks(draw: st.DrawFn) -> tuple[list[Atom], list[Row], int]:
    """Arbitrary small weeks: cells share people freely, rows are any sets of cells."""
    k = draw(st.integers(3, 5))
    size = draw(st.integers(1, 7))
    atoms = [Atom(f"c{i}", draw(st.frozensets(st.integers(0, 7), max_size=5))) for i in range(size)]
    keys = [a.key for a in atoms]
    rows = [
        Row(f"r{j}", draw(st.frozensets(st.sampled_from(keys), max_size=size)))
        for j in range(draw(st.integers(0, 6)))
    ]
    return atoms, rows, k


@st.composite
def teams_by_levels(draw: st.DrawFn) -> tuple[list[Atom], list[Row], int]:
    """The product's shape, small: a team tree crossed with levels, distinct people per cell."""
    k = draw(st.integers(3, 5))
    teams = draw(st.sampled_from([["a", "b"], ["a", "a/x", "b"], ["a", "a/x", "a/y"]]))
    levels = draw(st.sampled_from([["l1"], ["l1", "l2"]]))
    keys = [(t, level) for t in teams for level in levels]
    atoms = [Atom(key, crowd(f"{key[0]}:{key[1]}:", draw(st.integers(0, 6)))) for key in keys]
    rows = [Row("org", frozenset(keys))]
    rows += [
        Row(t, frozenset(key for key in keys if key[0] == t or key[0].startswith(t + "/")))
        for t in teams
    ]
    if len(levels) > 1:
        rows += [Row(level, frozenset(key for key in keys if key[1] == level)) for level in levels]
    return atoms, rows, k


@st.composite
def hidden_work_weeks(draw: st.DrawFn) -> tuple[list[Atom], list[Row], int]:
    """The hidden-work family, medium-sized: a cell per (category, team, level), reporters who
    log one to three categories, so cells share people."""
    k = draw(st.integers(3, 5))
    teams = draw(st.sampled_from([["a", "b"], ["a", "a/x", "b"], ["a", "a/x", "b", "c"]]))
    levels, categories = ["l1", "l2"], ["checking", "prompting", "cleanup"]
    cells: dict[tuple[str, str, str], set[int]] = {
        (c, t, level): set() for c in categories for t in teams for level in levels
    }
    for person in range(draw(st.integers(3, 16))):
        team, level = draw(st.sampled_from(teams)), draw(st.sampled_from(levels))
        logged = draw(st.lists(st.sampled_from(categories), min_size=1, max_size=3, unique=True))
        for category in logged:
            cells[(category, team, level)].add(person)
    keys = list(cells)
    rows = [Row("org", frozenset(keys))]
    rows += [
        Row(t, frozenset(key for key in keys if key[1] == t or key[1].startswith(t + "/")))
        for t in teams
    ]
    rows += [Row(level, frozenset(key for key in keys if key[2] == level)) for level in levels]
    rows += [Row(c, frozenset(key for key in keys if key[0] == c)) for c in categories]
    return [Atom(key, frozenset(members)) for key, members in cells.items()], rows, k


@settings(max_examples=300, deadline=None)
@given(weeks())
def test_violation_agrees_with_the_oracle(week: tuple[list[Atom], list[Row], int]) -> None:
    atoms, rows, k = week
    witness = violation(atoms, rows, k)
    found = offending(atoms, rows, k)
    assert (witness is None) == (not found)
    if witness is not None:
        assert 1 <= len(people_of(atoms, witness)) <= k - 1
        assert carries(atoms, rows, witness)


@settings(max_examples=300, deadline=None)
@given(weeks())
def test_decide_is_safe_and_greedy_maximal(week: tuple[list[Atom], list[Row], int]) -> None:
    check_against_oracle(*week)


@settings(max_examples=60, deadline=None)
@given(teams_by_levels())
def test_decide_on_teams_by_levels(week: tuple[list[Atom], list[Row], int]) -> None:
    check_against_oracle(*week)


@settings(max_examples=40, deadline=None)
@given(hidden_work_weeks())
def test_decide_on_hidden_work(week: tuple[list[Atom], list[Row], int]) -> None:
    atoms, rows, k = week
    check_against_oracle(atoms, rows, k)
    assert (violation(atoms, rows, k) is None) == (not offending(atoms, rows, k))


@settings(max_examples=80, deadline=None)
@given(weeks(), st.randoms(use_true_random=False))
def test_the_order_of_the_atoms_changes_nothing(
    week: tuple[list[Atom], list[Row], int], rnd: random.Random
) -> None:
    atoms, rows, k = week
    shuffled = list(atoms)
    rnd.shuffle(shuffled)
    assert decide(shuffled, rows, k) == decide(atoms, rows, k)
    assert violation(shuffled, rows, k) == violation(atoms, rows, k)


def test_repeated_runs_decide_the_same() -> None:
    atoms, rows = organisation(people=1_500, seed=7)
    first = decide(atoms, rows, 5)
    assert all(decide(atoms, rows, 5) == first for _ in range(3))
    assert first.withheld  # the example is not trivial


# ---------------------------------------------------------------- the product's size

LEVELS = ("intern", "entry", "mid", "senior", "lead")


def team_tree() -> list[str]:
    """150 teams in a 3-level tree (6 × 4 × 5), by depth then path as the release wants them."""
    teams: list[str] = []
    for a in range(6):
        teams.append(f"t{a}")
        for b in range(4):
            teams.append(f"t{a}/m{b}")
            teams.extend(f"t{a}/m{b}/g{c}" for c in range(5))
    return sorted(teams, key=lambda t: (t.count("/"), t))


def organisation(*, people: int, seed: int, uneven: bool = True) -> tuple[list[Atom], list[Row]]:
    """The team tree × 5 levels; rows as the weekly release wants them: the organisation, team
    subtrees, then levels."""
    rnd = random.Random(seed)
    teams = team_tree()
    cells: dict[tuple[str, str], set[int]] = {(t, level): set() for t in teams for level in LEVELS}
    if uneven:
        # A few big teams, a long tail, one in ten tiny; most people at the lower levels.
        weights = [0.02 if rnd.random() < 0.1 else rnd.paretovariate(1.2) for _ in teams]
        level_weights = [0.1, 0.35, 0.3, 0.18, 0.07]
        for person in range(people):
            team = rnd.choices(teams, weights)[0]
            cells[(team, rnd.choices(LEVELS, level_weights)[0])].add(person)
    else:
        keys = list(cells)
        for person in range(people):
            cells[rnd.choice(keys)].add(person)
    atoms = [Atom(key, frozenset(members)) for key, members in cells.items()]
    rows = [Row("organisation", frozenset(cells))]
    for team in teams:
        inside = frozenset(key for key in cells if key[0] == team or key[0].startswith(team + "/"))
        rows.append(Row(team, inside))
    rows += [Row(level, frozenset(key for key in cells if key[1] == level)) for level in LEVELS]
    return atoms, rows


CATEGORIES = ("checking", "prompting", "cleanup", "rework", "review", "other")


def hidden_work(*, people: int, seed: int) -> tuple[list[Atom], list[Row]]:
    """The hidden-work family on the same teams: a cell per (category, team, level), each
    reporter logging 1 to 3 categories, so cells share people. Rows: organisation, team
    subtrees, levels, categories."""
    rnd = random.Random(seed)
    teams = team_tree()
    cells: dict[tuple[str, str, str], set[int]] = {
        (c, t, level): set() for c in CATEGORIES for t in teams for level in LEVELS
    }
    for person in range(people):
        team, level = rnd.choice(teams), rnd.choice(LEVELS)
        for category in rnd.sample(CATEGORIES, rnd.randint(1, 3)):
            cells[(category, team, level)].add(person)
    rows = [Row("organisation", frozenset(cells))]
    for team in teams:
        inside = frozenset(key for key in cells if key[1] == team or key[1].startswith(team + "/"))
        rows.append(Row(team, inside))
    rows += [Row(level, frozenset(key for key in cells if key[2] == level)) for level in LEVELS]
    rows += [Row(c, frozenset(key for key in cells if key[0] == c)) for c in CATEGORIES]
    return [Atom(key, frozenset(members)) for key, members in cells.items()], rows


@pytest.mark.bench
@pytest.mark.parametrize(
    ("shape", "people", "k", "limit"),
    [
        ("uneven", 100_000, 5, 0.5),
        ("uneven", 10_000, 5, 0.5),
        ("uniform", 2_000, 5, 5.0),
        ("uniform", 2_000, 10, 5.0),
        ("uniform", 750, 5, 5.0),
        ("hidden work", 2_000, 5, 5.0),
        ("hidden work", 3_000, 10, 5.0),
    ],
)
def test_bench_decide_at_the_product_size(shape: str, people: int, k: int, limit: float) -> None:
    worst = 0.0
    for seed in range(5):
        if shape == "hidden work":
            atoms, rows = hidden_work(people=people, seed=seed)
        else:
            atoms, rows = organisation(people=people, seed=seed, uneven=shape == "uneven")
        start = time.perf_counter()
        decision = decide(atoms, rows, k)
        worst = max(worst, time.perf_counter() - start)
    small = sum(1 for a in atoms if 0 < len(a.people) < k)
    print(
        f"\n{shape}, {people} people, {len(atoms)} cells, k={k}: worst of 5 "
        f"{worst * 1000:.1f} ms; last: {small} cells under k, "
        f"{len(decision.released)} released, {len(decision.withheld)} withheld"
    )
    assert worst < limit


# ---------------------------------------------------------------- readers who know some values


def check_readers_against_oracle(views: list[tuple[list[Atom], list[Row]]], k: int) -> Decision:
    """Safe in every view, and greedy maximal: each withheld row, beside the rows kept before it,
    breaks the rule in some view where it holds anybody (or holds nobody at all)."""
    decision = decide_for_readers(views, k)
    rows = views[0][1]
    assert set(decision.released) | set(decision.withheld) == {row.key for row in rows}
    for atoms, view_rows in views:
        by_key = {row.key: row for row in view_rows}
        assert not oracle_violates(atoms, [by_key[key] for key in decision.released], k)
    for position, row in enumerate(rows):
        if row.key not in decision.withheld:
            continue
        if not filled(views[0][0], row):
            assert decision.withheld[row.key] == EMPTY
            continue
        broken = []
        for atoms, view_rows in views:
            mine = view_rows[position]
            if not filled(atoms, mine):
                continue
            before = [r for r in view_rows[:position] if r.key in decision.released]
            broken.append(len(people_of(atoms, mine.atoms)) < k or oracle_violates(atoms, before + [mine], k))
        assert any(broken), row.key
    return decision


def knowing(atoms: list[Atom], known: frozenset[tuple[Hashable, Hashable]]) -> list[Atom]:
    """The cells as a reader who knows the values of these (cell, person) pairs sees them."""
    return [Atom(a.key, frozenset(p for p in a.people if (a.key, p) not in known)) for a in atoms]


def test_four_who_share_for_credit_do_not_leave_the_fifths_minutes_as_their_teams_total() -> None:
    sales, legal = crowd("s", 5), crowd("l", 5)
    atoms = [atom("sales", sales), atom("legal", legal)]
    rows = [row("org", "sales", "legal"), row("Sales", "sales"), row("Legal", "legal")]
    shared = frozenset(("sales", f"s{i}") for i in range(4))
    alone = decide(atoms, rows, 5)
    assert alone.released == ("org", "Sales", "Legal")
    decision = check_readers_against_oracle([(atoms, rows), (knowing(atoms, shared), rows)], 5)
    assert decision.released == ("org",)
    assert decision.withheld == {"Sales": TOO_FEW, "Legal": ISOLATES}


def test_a_row_a_reader_knows_entirely_is_judged_by_the_others_alone() -> None:
    atoms = [atom("a", crowd("a", 5)), atom("b", crowd("b", 5))]
    rows = [row("org", "a", "b"), row("A", "a")]
    everything_known = frozenset(("a", f"a{i}") for i in range(5))
    decision = check_readers_against_oracle([(atoms, rows), (knowing(atoms, everything_known), rows)], 5)
    assert decision.released == ("org", "A")


def test_readers_must_want_the_same_rows() -> None:
    atoms = [atom("a", crowd("a", 5))]
    with pytest.raises(ValueError, match="same rows"):
        decide_for_readers([(atoms, [row("org", "a")]), (atoms, [row("other", "a")])], 5)


@settings(max_examples=60, deadline=None)
@given(hidden_work_weeks(), st.data())
def test_decide_for_readers_who_know_the_reports_shared_with_them(
    week: tuple[list[Atom], list[Row], int], data: st.DataObject
) -> None:
    atoms, rows, k = week
    pairs = sorted(((a.key, p) for a in atoms for p in a.people), key=repr)
    shared = frozenset(pair for pair in pairs if data.draw(st.booleans()))
    check_readers_against_oracle([(atoms, rows), (knowing(atoms, shared), rows)], k)
