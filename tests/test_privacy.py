"""Which figures may be shown: no digest, summary or export lets a reader compute a figure for
fewer than `min_group_size` respondents, not even by subtracting one shown figure from another.

The property tests check the engine from the outside: they turn a plan into the sets of
individual respondents each shown figure covers, and ask what a reader could compute from them,
with code that shares nothing with bot/privacy.py.
"""

from __future__ import annotations

import random
from collections.abc import Mapping
from dataclasses import dataclass
from fractions import Fraction

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.privacy import (
    NO_TEAM,
    OTHER_TEAMS_LABEL,
    Disclosure,
    comments_allowed,
    may_show,
    plan_disclosure,
)

Person = tuple[str, int]
Parents = dict[str, str | None]

ENG_SALES: Parents = {"eng": None, "eng/a": "eng", "eng/b": "eng", "eng/c": "eng", "sales": None}


# ---------------------------------------------------------------- a reader's view of a plan


def subtree(parents: Mapping[str, str | None], root: str) -> set[str]:
    return {team for team in parents if root in lineage(parents, team)}


def lineage(parents: Mapping[str, str | None], team: str) -> list[str]:
    """The team and its ancestors."""
    line: list[str] = []
    current: str | None = team
    while current is not None:
        line.append(current)
        current = parents[current]
    return line


def people(respondents: Mapping[str, int], teams: set[str]) -> frozenset[Person]:
    return frozenset((team, i) for team in teams for i in range(respondents.get(team, 0)))


def displayed_groups(
    parents: Parents, respondents: Mapping[str, int], plan: Disclosure, scope: str | None = None
) -> dict[str, frozenset[Person]]:
    """Every figure the plan allows, as the set of individual respondents it is computed over."""
    groups = {team: people(respondents, subtree(parents, team)) for team in plan.shown}
    if plan.other_teams:
        folded = set().union(*(subtree(parents, team) for team in plan.other_teams))
        groups[OTHER_TEAMS_LABEL] = people(respondents, folded)
    if plan.total_shown:
        everyone = set(parents) | {NO_TEAM} if scope is None else subtree(parents, scope)
        groups["total"] = people(respondents, everyone)
    return groups


def is_laminar(groups: list[frozenset[Person]]) -> bool:
    return all(a <= b or b <= a or not a & b for a in groups for b in groups)


def atoms(groups: list[frozenset[Person]]) -> list[frozenset[Person]]:
    """People grouped by which shown figures they count in: what subtraction can tell apart."""
    by_membership: dict[frozenset[int], set[Person]] = {}
    for person in frozenset().union(*groups):
        key = frozenset(index for index, group in enumerate(groups) if person in group)
        by_membership.setdefault(key, set()).add(person)
    return [frozenset(members) for members in by_membership.values()]


class RowSpace:
    """The row space of a 0/1 matrix, by exact rational Gauss-Jordan elimination."""

    def __init__(self, rows: list[frozenset[Person]]) -> None:
        self.pivots: list[tuple[Person, dict[Person, Fraction]]] = []
        for row in rows:
            reduced = self._reduce({person: Fraction(1) for person in row})
            if reduced:
                self._add(reduced)

    def contains(self, members: frozenset[Person]) -> bool:
        return not self._reduce({person: Fraction(1) for person in members})

    def _reduce(self, vector: dict[Person, Fraction]) -> dict[Person, Fraction]:
        vector = dict(vector)
        for column, row in self.pivots:
            factor = vector.get(column)
            if factor:
                for person, value in row.items():
                    updated = vector.get(person, Fraction(0)) - factor * value
                    if updated:
                        vector[person] = updated
                    else:
                        vector.pop(person, None)
        return vector

    def _add(self, vector: dict[Person, Fraction]) -> None:
        column = min(vector)
        scale = vector[column]
        row = {person: value / scale for person, value in vector.items()}
        # Keep the basis fully reduced so one pass of `_reduce` is enough.
        for index, (other_column, other) in enumerate(self.pivots):
            factor = other.get(column)
            if factor:
                merged = {p: other.get(p, Fraction(0)) - factor * row.get(p, Fraction(0)) for p in other | row}
                self.pivots[index] = (other_column, {p: v for p, v in merged.items() if v})
        self.pivots.append((column, row))


# ---------------------------------------------------------------- random organisations


@dataclass(frozen=True)
class Case:
    parents: Parents
    respondents: dict[str, int]
    min_size: int


@st.composite
def organisations(draw: st.DrawFn) -> Case:
    """Up to 25 teams, at most 4 levels deep, with 0 to 12 respondents each."""
    # One list draw per organisation: each team draws a parent choice and a count together.
    # Small counts come up more often (0-4 twice): small teams are where suppression works.
    counts = st.integers(0, 17).map(lambda n: n if n <= 12 else n - 13)
    # Choice 0 is "top level", also drawn more often: flat organisations fold the most.
    parent_choices = st.integers(0, 29).map(lambda n: n if n < 25 else 0)
    rows = draw(st.lists(st.tuples(parent_choices, counts), min_size=1, max_size=25))
    parents: Parents = {}
    respondents: dict[str, int] = {}
    depth: dict[str, int] = {}
    for index, (choice, count) in enumerate(rows):
        choices: list[str | None] = [None, *(t for t in parents if depth[t] < 3)]
        parent = choices[choice % len(choices)]
        team = f"t{index}" if parent is None else f"{parent}/t{index}"
        parents[team] = parent
        depth[team] = 0 if parent is None else depth[parent] + 1
        respondents[team] = count
    respondents[NO_TEAM] = draw(st.sampled_from([0, 0, 0, 1, 2, 6]))
    return Case(parents, respondents, draw(st.sampled_from([3, 5, 7])))


def plan(case: Case, **options: object) -> Disclosure:
    return plan_disclosure(case.parents, case.respondents, case.min_size, **options)  # type: ignore[arg-type]


def assert_nothing_small_can_be_computed(groups: list[frozenset[Person]], min_size: int) -> None:
    assert is_laminar(groups)
    for atom in atoms(groups):
        assert len(atom) >= min_size, f"a reader can isolate {len(atom)} respondents: {sorted(atom)}"


# ---------------------------------------------------------------- hand cases


def test_team_of_four_is_not_shown() -> None:
    disclosure = plan_disclosure({"eng": None, "sales": None}, {"eng": 4, "sales": 10}, 5)
    assert "eng" not in disclosure.shown
    with pytest.raises(LookupError):
        disclosure.label("eng")


def test_team_of_four_next_to_one_other_team_leaves_only_the_total() -> None:
    # Sales alone next to the total would give away eng's four by subtraction.
    disclosure = plan_disclosure({"eng": None, "sales": None}, {"eng": 4, "sales": 10}, 5)
    assert disclosure.shown == frozenset()
    assert disclosure.other_teams == frozenset()
    assert disclosure.total_shown


def test_team_of_five_is_shown() -> None:
    disclosure = plan_disclosure({"eng": None, "sales": None}, {"eng": 5, "sales": 10}, 5)
    assert disclosure.shown == {"eng", "sales"}
    assert disclosure.label("eng") == "eng"


def test_parent_minus_children_never_isolates_a_small_child() -> None:
    # eng - eng/a - eng/b would be eng/c's four people: the smaller sibling eng/b goes.
    respondents = {"eng/a": 10, "eng/b": 6, "eng/c": 4, "sales": 20}
    disclosure = plan_disclosure(ENG_SALES, respondents, 5)
    assert disclosure.shown == {"eng", "eng/a", "sales"}
    assert "eng/b" not in disclosure.shown and "eng/c" not in disclosure.shown
    assert disclosure.total_shown


def test_a_parent_with_one_small_child_is_shown_without_its_other_child() -> None:
    parents: Parents = {"eng": None, "eng/a": "eng", "eng/c": "eng", "sales": None}
    disclosure = plan_disclosure(parents, {"eng/a": 10, "eng/c": 2, "sales": 20}, 5)
    assert disclosure.shown == {"eng", "sales"}


def test_parent_with_only_large_children_shows_them_all() -> None:
    disclosure = plan_disclosure(ENG_SALES, {"eng/a": 10, "eng/b": 6, "eng/c": 5, "sales": 20}, 5)
    assert disclosure.shown == {"eng", "eng/a", "eng/b", "eng/c", "sales"}


def test_total_minus_shown_teams_never_isolates_a_small_group() -> None:
    # a, b and the total would give away c's two: b goes, and joins c in "other teams".
    parents: Parents = {"a": None, "b": None, "c": None}
    disclosure = plan_disclosure(parents, {"a": 50, "b": 40, "c": 2}, 5)
    assert disclosure.total_shown
    assert disclosure.shown == {"a"}
    assert disclosure.other_teams == {"b", "c"}


def test_respondents_without_a_team_count_in_the_total_remainder() -> None:
    disclosure = plan_disclosure({"a": None, "b": None}, {"a": 10, "b": 10, NO_TEAM: 2}, 5)
    assert disclosure.total_shown
    assert len(disclosure.shown) == 1


def test_several_small_teams_fold_into_other_teams_when_the_fold_is_large_enough() -> None:
    parents: Parents = {"a": None, "b": None, "c": None, "d": None}
    disclosure = plan_disclosure(parents, {"a": 2, "b": 2, "c": 2, "d": 20}, 5)
    assert disclosure.shown == {"d"}
    assert disclosure.other_teams == {"a", "b", "c"}
    assert disclosure.label("b") == OTHER_TEAMS_LABEL
    assert disclosure.total_shown


def test_a_fold_smaller_than_the_threshold_is_not_shown() -> None:
    # Five people without a team keep the remainder safe, so no team needs to go; a and b alone
    # would make a fold of four.
    parents: Parents = {"a": None, "b": None, "d": None}
    disclosure = plan_disclosure(parents, {"a": 2, "b": 2, "d": 20, NO_TEAM: 5}, 5)
    assert disclosure.shown == {"d"}
    assert disclosure.other_teams == frozenset()
    assert disclosure.hidden == {"a", "b"}
    assert disclosure.total_shown


def test_a_fold_leaves_out_a_team_when_the_rest_would_isolate_a_small_group() -> None:
    # Three people without a team stay in the remainder whatever is folded: the fold leaves
    # the smallest team beside them so that the remainder reaches five.
    parents: Parents = {"d": None, "x": None, "y": None, "z": None}
    disclosure = plan_disclosure(parents, {"d": 20, "x": 2, "y": 4, "z": 2, NO_TEAM: 3}, 5)
    assert disclosure.shown == {"d"}
    assert disclosure.other_teams == {"y", "z"}
    assert disclosure.hidden == {"x"}
    assert disclosure.total_shown


def test_a_small_team_below_a_shown_parent_counts_in_the_parent_only() -> None:
    parents: Parents = {"eng": None, "eng/a": "eng"}
    disclosure = plan_disclosure(parents, {"eng": 3, "eng/a": 10}, 5)
    assert disclosure.shown == {"eng"}  # eng - eng/a would be eng's own three
    assert disclosure.hidden == frozenset()


def test_nothing_is_shown_when_fewer_than_the_threshold_answered() -> None:
    disclosure = plan_disclosure({"a": None, "b": None}, {"a": 2, "b": 2}, 5)
    assert disclosure == Disclosure(frozenset(), frozenset(), frozenset({"a", "b"}), False)


def test_manager_summary_is_the_organisation_plan_restricted_to_the_subtree() -> None:
    respondents = {"eng/a": 10, "eng/b": 6, "eng/c": 4, "sales": 20}
    summary = plan_disclosure(ENG_SALES, respondents, 5, scope="eng")
    assert summary.total_shown  # eng's own figure
    assert summary.shown == {"eng/a"}
    assert summary.hidden == {"eng/b", "eng/c"}
    assert "sales" not in summary.shown | summary.hidden


def test_manager_summary_does_not_show_what_the_digest_had_to_suppress() -> None:
    # On its own eng/a and eng/b would be fine in a summary of eng, but the digest shows eng,
    # eng/a and sales; eng/b too would let a digest reader compute eng/c's four.
    respondents = {"eng/a": 10, "eng/b": 6, "eng/c": 4, "sales": 20}
    summary = plan_disclosure(ENG_SALES, respondents, 5, scope="eng/b")
    assert not summary.total_shown


@pytest.mark.parametrize(
    ("min_size", "shown"),
    [
        (3, {"eng", "eng/a", "eng/b", "eng/c", "sales"}),
        (5, {"eng", "eng/a", "sales"}),
        (7, {"eng", "eng/a", "sales"}),
    ],
)
def test_threshold_decides_what_is_shown(min_size: int, shown: set[str]) -> None:
    disclosure = plan_disclosure(ENG_SALES, {"eng/a": 10, "eng/b": 6, "eng/c": 4, "sales": 20}, min_size)
    assert disclosure.shown == shown


def test_threshold_below_three_is_refused() -> None:
    with pytest.raises(ValueError):
        plan_disclosure(ENG_SALES, {}, 2)
    with pytest.raises(ValueError):
        may_show(10, 2)


def test_unknown_teams_and_cycles_are_refused() -> None:
    with pytest.raises(ValueError):
        plan_disclosure({"a": "b"}, {}, 5)
    with pytest.raises(ValueError):
        plan_disclosure({"a": "b", "b": "a"}, {}, 5)
    with pytest.raises(ValueError):
        plan_disclosure({"a": None}, {"z": 3}, 5)
    with pytest.raises(ValueError):
        plan_disclosure({"a": None}, {"a": 5}, 5, scope="z")


def test_single_figure_and_comments_follow_the_threshold() -> None:
    assert may_show(5, 5) and not may_show(4, 5)
    assert comments_allowed(7, 7) and not comments_allowed(6, 7)


def test_a_team_whose_figure_is_the_sum_of_its_childrens_is_not_what_gets_suppressed() -> None:
    # eng's own two would be isolated. eng/z adds nobody of its own (x + y), so giving it up
    # would not help; the smallest team that brings people of its own goes instead.
    parents: Parents = {
        "eng": None, "eng/z": "eng", "eng/z/x": "eng/z", "eng/z/y": "eng/z", "eng/w": "eng",
    }
    respondents = {"eng": 2, "eng/z/x": 5, "eng/z/y": 5, "eng/w": 12}
    disclosure = plan_disclosure(parents, respondents, 5)
    assert disclosure.shown == {"eng", "eng/z", "eng/z/x", "eng/z/y"}


def test_reader_model_catches_a_parent_minus_child_subtraction() -> None:
    # The checks the properties rely on must see the leak they are there to catch.
    a = frozenset({("a", 0), ("a", 1), ("a", 2), ("a", 3), ("a", 4)})
    b = frozenset({("b", 0)})
    assert RowSpace([a | b, a]).contains(b)
    assert not RowSpace([a | b]).contains(b)
    assert sorted(map(len, atoms([a | b, a]))) == [1, 5]


# ---------------------------------------------------------------- week over week


def test_change_from_last_week_is_shown_when_membership_is_stable() -> None:
    respondents = {"eng/a": 10, "eng/b": 6, "eng/c": 4, "sales": 20}
    disclosure = plan_disclosure(ENG_SALES, respondents, 5, previous=respondents)
    assert disclosure.delta_allowed == disclosure.shown
    assert disclosure.total_delta_allowed


def test_change_from_last_week_is_withheld_when_a_few_people_joined() -> None:
    before = {"eng/a": 10, "eng/b": 6, "eng/c": 4, "sales": 20}
    now = {**before, "sales": 22}
    disclosure = plan_disclosure(ENG_SALES, now, 5, previous=before)
    assert "sales" in disclosure.shown and "sales" not in disclosure.delta_allowed
    assert {"eng", "eng/a"} <= disclosure.delta_allowed
    assert not disclosure.total_delta_allowed  # 42 against 40


def test_change_from_last_week_is_shown_when_many_people_joined() -> None:
    before = {"eng/a": 10, "eng/b": 6, "eng/c": 4, "sales": 20}
    disclosure = plan_disclosure(ENG_SALES, {**before, "sales": 25}, 5, previous=before)
    assert "sales" in disclosure.delta_allowed
    assert disclosure.total_delta_allowed


def test_no_change_for_a_team_that_was_not_shown_last_week() -> None:
    # Last week's eng/b figure was suppressed; a change would give it away.
    before = {"eng/a": 10, "eng/b": 6, "eng/c": 4, "sales": 20}
    now = {**before, "eng/c": 5}
    disclosure = plan_disclosure(ENG_SALES, now, 5, previous=before)
    assert "eng/b" in disclosure.shown
    assert "eng/b" not in disclosure.delta_allowed


def test_other_teams_is_dropped_when_a_small_team_moved_in_or_out() -> None:
    parents: Parents = {"a": None, "b": None, "c": None, "d": None}
    before = {"a": 3, "b": 3, "c": 0, "d": 20}
    now = {"a": 3, "b": 3, "c": 2, "d": 20}  # c's two people join "other teams"
    assert plan_disclosure(parents, now, 5).other_teams == {"a", "b", "c"}
    disclosure = plan_disclosure(parents, now, 5, previous=before)
    assert disclosure.other_teams == frozenset()
    assert disclosure.shown == {"d"} and disclosure.total_shown


def test_other_teams_stays_when_its_teams_are_unchanged() -> None:
    parents: Parents = {"a": None, "b": None, "c": None, "d": None}
    now = {"a": 3, "b": 3, "c": 2, "d": 20}
    disclosure = plan_disclosure(parents, now, 5, previous={"a": 2, "b": 4, "c": 2, "d": 30})
    assert disclosure.other_teams == {"a", "b", "c"}


# ---------------------------------------------------------------- properties


@settings(max_examples=200, deadline=None)
@given(organisations(), st.randoms(use_true_random=False))
def test_no_figure_and_no_subtraction_covers_fewer_than_the_threshold(case: Case, rng: random.Random) -> None:
    groups = list(displayed_groups(case.parents, case.respondents, plan(case)).values())
    for members in groups:
        assert len(members) >= case.min_size
    assert_nothing_small_can_be_computed(groups, case.min_size)
    # A report may show fewer figures than allowed: any part of a safe plan is safe.
    assert_nothing_small_can_be_computed([g for g in groups if rng.random() < 0.5], case.min_size)


@settings(max_examples=200, deadline=None)
@given(organisations())
def test_no_combination_of_figures_singles_out_a_respondent_or_a_small_team(case: Case) -> None:
    groups = list(displayed_groups(case.parents, case.respondents, plan(case)).values())
    space = RowSpace(groups)
    everyone = people(case.respondents, set(case.parents) | {NO_TEAM})
    for person in everyone:
        assert not space.contains(frozenset({person}))
    small_groups = {
        f"{kind} {team}": members
        for team in case.parents
        for kind, members in (
            ("own people of", people(case.respondents, {team})),
            ("subtree of", people(case.respondents, subtree(case.parents, team))),
        )
    }
    small_groups["people without a team"] = people(case.respondents, {NO_TEAM})
    for name, members in small_groups.items():
        if 0 < len(members) < case.min_size:
            assert not space.contains(members), f"{name} ({len(members)}) can be computed"


@settings(max_examples=200, deadline=None)
@given(organisations())
def test_digest_and_every_manager_summary_together_stay_safe(case: Case) -> None:
    digest = displayed_groups(case.parents, case.respondents, plan(case))
    everything = set(digest.values())
    for scope in case.parents:
        summary = displayed_groups(case.parents, case.respondents, plan(case, scope=scope), scope)
        assert set(summary.values()) <= everything | {frozenset()}
        everything |= set(summary.values())
    assert_nothing_small_can_be_computed([g for g in everything if g], case.min_size)


@settings(max_examples=200, deadline=None)
@given(organisations(), st.data(), st.randoms(use_true_random=False))
def test_every_team_has_exactly_one_place_whatever_the_input_order(
    case: Case, data: st.DataObject, rng: random.Random
) -> None:
    scope = data.draw(st.none() | st.sampled_from(sorted(case.parents)))
    disclosure = plan(case, scope=scope)
    teams = set(case.parents) if scope is None else subtree(case.parents, scope) - {scope}
    claimed = disclosure.shown | disclosure.other_teams
    assert claimed | disclosure.hidden <= teams
    for team in teams:
        ancestors_in_view = [a for a in lineage(case.parents, team)[1:] if a in teams]
        covered = team not in disclosure.shown and any(a in claimed for a in ancestors_in_view)
        places = [team in disclosure.shown, team in disclosure.other_teams, team in disclosure.hidden, covered]
        assert places.count(True) == 1, (team, places)
    # The fold is disjoint from every shown figure: no shown team above or inside a folded one.
    for team in disclosure.other_teams:
        assert not set(lineage(case.parents, team)) & disclosure.shown
        assert not subtree(case.parents, team) & disclosure.shown
    # Deterministic: the same answer again, and whatever order the roster and counts came in.
    parents = list(case.parents.items())
    respondents = list(case.respondents.items())
    rng.shuffle(parents)
    rng.shuffle(respondents)
    assert plan_disclosure(dict(parents), dict(respondents), case.min_size, scope=scope) == disclosure
    assert plan(case, scope=scope) == disclosure


@settings(max_examples=200, deadline=None)
@given(organisations(), st.data())
def test_last_week_only_ever_removes_the_fold_and_gates_changes(case: Case, data: st.DataObject) -> None:
    previous = {team: data.draw(st.integers(0, 12)) for team in case.parents}
    this_week_alone = plan(case)
    last_week = plan_disclosure(case.parents, previous, case.min_size)
    disclosure = plan(case, previous=previous)
    assert disclosure.shown == this_week_alone.shown
    assert disclosure.total_shown == this_week_alone.total_shown
    assert disclosure.other_teams in (this_week_alone.other_teams, frozenset())
    groups = list(displayed_groups(case.parents, case.respondents, disclosure).values())
    assert_nothing_small_can_be_computed(groups, case.min_size)
    for team in disclosure.delta_allowed:
        assert team in disclosure.shown and team in last_week.shown
        change = abs(
            len(people(case.respondents, subtree(case.parents, team)))
            - len(people(previous, subtree(case.parents, team)))
        )
        assert change == 0 or change >= case.min_size
    if disclosure.total_delta_allowed:
        assert disclosure.total_shown and last_week.total_shown
