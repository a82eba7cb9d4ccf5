"""Which group figures of one week may be released: nothing released, alone or combined, pins
down anything about fewer than k people.

The rule, in plain words
------------------------
A week's figures are sums over *cells* (`Atom`): the people who answered one question whose team
is "Sales/EMEA" and whose level is "entry", say, or the hidden-work minutes one category got in
one team at one level. A group's figure (`Row`) adds up its cells. A reader who has every
released figure can add and subtract them, with any weights, and so learn the sum of any
combination the released figures span. The rule: **no combination a reader can compute may
concern fewer than k people** (k = `min_group_size`, never below 3). Precisely, no nonzero vector
of the row space of the released rows (over the rationals) may be supported on a set of cells
whose people number between 1 and k - 1. The people of a set of cells are counted once each:
a person who logged hidden work in three categories is one person, not three.

This replaces a tree-only rule. When the figures are nested teams alone, what a reader can
isolate is "a shown group minus its shown children", so checking those remainders was enough.
Levels cut across teams: the team figures and the level figures then form the incidence matrix
of a bipartite graph (teams on one side, levels on the other, a cell is the edge between its
team and its level), the computable combinations are its cuts, and a single cell is determined
exactly when its edge is a bridge. Rather than special-case those shapes, the exact method below
decides for any family of rows, so a further breakdown (a category, a tenure band) needs nothing
new here.

How the release is chosen
-------------------------
`decide` goes through the wanted rows in priority order, most important first, and keeps a row
when the rows kept so far plus this one still satisfy the rule; otherwise the row is withheld
and the next one is tried. A row the kept ones already span is always kept (it tells nothing
new), a row without people is withheld as empty. The result is maximal in that sense: every
withheld row, added to the rows kept before it, would break the rule. Which rows are kept is a
property of the row space only, so it does not depend on the order of the cells or on how the
linear algebra below happens to pick its pivots.

How the rule is checked, exactly
--------------------------------
All arithmetic is on integers (fraction-free elimination, entries divided by their gcd) or
`fractions.Fraction`; nothing is rounded.

* Cells with k people or more ("large") can be in no offending set, so only combinations that
  are zero on every large cell matter: W = row space ∩ {zero on the large cells}. The released
  rows are kept as an echelon basis with the large cells first; a new row is reduced against the
  vectors whose leading cell is large. If a large cell remains, the row brings a new pivot there
  and W does not change, so the row is safe without further work (this is what a realistic
  organisation, where most cells are large, mostly does). Otherwise the remainder u is zero on
  every large cell and W grows by u.
* W is kept separately in reduced form (every pivot cell appears in exactly one basis vector).
  Since the kept rows were safe, a new offending combination must be u + w for some w in W
  (scaled). Only the basis vectors of W linked to u through shared cells can matter: the rest
  form a separate block, and dropping a block's part from a combination only shrinks its cells.
* The search is over the people P an offending combination would cover (at most k - 1 of them).
  For a given P the cells whose people are all in P are *allowed*; is there x in u + W that is
  zero on every other cell? In reduced form a pivot's coordinate is its basis vector's weight,
  so only basis vectors with an allowed pivot may take part, and the question is a small exact
  linear system (a handful of unknowns). If it is solvable, its solution is the offending
  combination. If not, Gaussian elimination names a conflict: a set of cells that cannot all be
  zero, so some cell of it must be allowed, and the search branches on those cells (adding each
  one's people to P). Before branching it counts conflicts whose people are disjoint step by step
  (allow every cell of the first one regardless of cost, find the next conflict, ...): each needs
  a new person, so more of them than the people still available prunes the branch. Sets P already
  seen are not searched again.

Complexity. Reducing a row costs O(r · n) for r released rows and n cells (in practice a few
eliminations per row: nested teams reduce against their ancestors). The search is exponential
only in k: it explores at most sum_{j < k} b^j sets P, b being the size of a conflict (a few
cells plus the basis vectors of W through them, so at most dim W plus a few), each costing at
most k small exact systems over the cells of u and of the allowed basis vectors. Hundreds of
one-person cells in W do not make it explode by themselves: a branch adds at least one person,
so the depth is at most k - 1, and with team, level and category rows conflicts are small and
the disjoint-conflicts bound cuts most branches at once. No exact method is cheap for every
family of rows (the sparsest vector of a rational subspace is NP-hard to find), and this one is
no exception: rows that are arbitrary random subsets of a few hundred one-person cells, with W
nearly as wide as the cells, make b large and the search slow (at k = 5, 20 such rows over 40
cells take 12 s, 150 rows over 200 cells over two minutes). The product's rows are margins of a
team × level (× category) table, and stay fast.

Measured (this machine, 2 CPUs, Python 3.11; 150 teams in a 3-level tree × 5 levels = 750 cells,
rows = organisation + 150 team subtrees + 5 levels in that order; worst of 5 seeds, the lower
figure on a quiet machine, the higher one while a test suite ran alongside; the `bench`-marked
test in tests/test_release_rule.py reproduces them with `-m bench -s`):

    100,000 people, uneven teams (one in ten tiny), k = 5          4 to  10 ms
    10,000 people, uneven teams, k = 5                             5 to  12 ms
    2,000 people spread evenly (about 2.7 per cell), k = 5         9 to  18 ms
    2,000 people spread evenly, k = 10                            80 to 180 ms
    750 people spread evenly (most cells 0 to 2 people), k = 5    23 to  63 ms
    hidden work: 6 categories × 150 teams × 5 levels = 4,500 cells, reporters in 1 to 3
    categories, plus 6 category rows: 2,000 people, k = 5        180 to 360 ms
                                      3,000 people, k = 10       490 to 700 ms
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from fractions import Fraction
from math import gcd
from types import MappingProxyType
from typing import Final

MIN_GROUP_FLOOR: Final = 3
"""Below this no threshold protects anybody; configuration forbids it too."""

EMPTY: Final = "empty"
"""Reason for a row without people: there is nothing to show."""

TOO_FEW: Final = "fewer than k people"
"""Reason for a row whose own figure covers fewer than k people."""

ISOLATES: Final = "would isolate a group under k"
"""Reason for a row that, with the rows released before it, lets a reader compute a figure
about fewer than k people."""

Vector = dict[int, int]
"""A sparse integer vector: cell column -> nonzero coefficient."""


@dataclass(frozen=True)
class Atom:
    """A cell: the people whose values are summed together in every released figure."""

    key: Hashable
    people: frozenset[Hashable]


@dataclass(frozen=True)
class Row:
    """A wanted figure: the sum of its cells (`atoms` are cell keys)."""

    key: Hashable
    atoms: frozenset[Hashable]


@dataclass(frozen=True)
class Decision:
    """Which wanted figures of the week are released, and why the others are withheld."""

    released: tuple[Hashable, ...]
    """Row keys, in priority order."""
    withheld: Mapping[Hashable, str]
    """Row key -> reason (`EMPTY`, `TOO_FEW` or `ISOLATES`), in priority order."""

    def allows(self, key: Hashable) -> bool:
        return key in self.released


def decide(atoms: Iterable[Atom], rows: Sequence[Row], k: int) -> Decision:
    """The rows that may be released, chosen greedily in priority order (`rows` come most
    important first). Raises ValueError on k < 3, duplicate atom or row keys, or a row naming an
    unknown atom."""
    return decide_for_readers([(atoms, rows)], k)


def decide_for_readers(views: Sequence[tuple[Iterable[Atom], Sequence[Row]]], k: int) -> Decision:
    """The rows that may be released when readers know different parts of the values.

    Each view is what one kind of reader does not know: the same wanted rows (same keys, same
    order, same cells), with each cell holding only the people whose value in it that reader
    cannot see. A manager, say, sees the reports shared with them by name, so for them a cell
    holds only the people who also logged there anonymously. A row is kept when, with the rows
    kept before it, the rule holds in every view; a row whose cells are all empty in a view is
    all known to that reader and tells them nothing new. The first view is everybody's values:
    a row empty there is withheld as empty. Same validation as `decide`, and every view must
    want the same rows."""
    if not views:
        raise ValueError("at least one view is needed")
    prepared = [_prepare(atoms, rows, k) for atoms, rows in views]
    keys = [key for key, _ in prepared[0][1]]
    if any([key for key, _ in wanted] != keys for _, wanted in prepared[1:]):
        raise ValueError("every view must want the same rows in the same order")
    states = [_Released(cells, k) for cells, _ in prepared]
    kept: list[Hashable] = []
    withheld: dict[Hashable, str] = {}
    for index, key in enumerate(keys):
        if not prepared[0][1][index][1]:
            withheld[key] = EMPTY
            continue
        reason: str | None = None
        commits: list[Callable[[], None]] = []
        for (cells, wanted), state in zip(prepared, states):
            columns = wanted[index][1]
            if not columns:
                continue  # nothing in this row that this reader does not know already
            if not cells.reaches(columns, k):
                reason = TOO_FEW
                break
            witness, commit = state.consider(columns)
            if witness is not None:
                reason = ISOLATES
                break
            commits.append(commit)
        if reason is None:
            for commit in commits:
                commit()
            kept.append(key)
        else:
            withheld[key] = reason
    return Decision(released=tuple(kept), withheld=MappingProxyType(withheld))


def violation(atoms: Iterable[Atom], rows: Iterable[Row], k: int) -> frozenset[Hashable] | None:
    """For all of `rows` together (no selection): atom keys of a set of cells covering 1 to
    k - 1 people on which some nonzero combination of the rows is supported, or None if there is
    none. Same validation as `decide`."""
    cells, wanted = _prepare(atoms, list(rows), k)
    released = _Released(cells, k)
    for _key, columns in wanted:
        if not columns:
            continue
        witness = released.add(columns)
        if witness is not None:
            return frozenset(cells.keys[column] for column in witness)
    return None


# ---------------------------------------------------------------- cells as numbered columns


@dataclass(frozen=True)
class _Cells:
    """The non-empty cells as columns 0..n-1, the large ones (k people or more) first."""

    keys: tuple[Hashable, ...]
    people: tuple[frozenset[Hashable], ...]
    large: int
    """Columns below this hold k people or more."""

    def reaches(self, columns: Iterable[int], k: int) -> bool:
        """Whether these cells together hold at least k people (stops counting at k)."""
        seen: set[Hashable] = set()
        for column in columns:
            if column < self.large:
                return True
            seen.update(self.people[column])
            if len(seen) >= k:
                return True
        return False


def _prepare(
    atoms: Iterable[Atom], rows: Sequence[Row], k: int
) -> tuple[_Cells, list[tuple[Hashable, tuple[int, ...]]]]:
    if isinstance(k, bool) or not isinstance(k, int) or k < MIN_GROUP_FLOOR:
        raise ValueError(f"k must be an integer of at least {MIN_GROUP_FLOOR}, got {k!r}")
    people_of: dict[Hashable, frozenset[Hashable]] = {}
    for atom in atoms:
        if atom.key in people_of:
            raise ValueError(f"duplicate atom key {atom.key!r}")
        people_of[atom.key] = frozenset(atom.people)
    # A cell nobody is in adds nothing to any figure; it is dropped, but rows may still name it.
    filled = [key for key in _canonical(people_of) if people_of[key]]
    large = [key for key in filled if len(people_of[key]) >= k]
    small = [key for key in filled if len(people_of[key]) < k]
    keys = tuple(large + small)
    cells = _Cells(keys=keys, people=tuple(people_of[key] for key in keys), large=len(large))
    column_of = {key: column for column, key in enumerate(keys)}

    wanted: list[tuple[Hashable, tuple[int, ...]]] = []
    seen_rows: set[Hashable] = set()
    for row in rows:
        if row.key in seen_rows:
            raise ValueError(f"duplicate row key {row.key!r}")
        seen_rows.add(row.key)
        for atom_key in row.atoms:
            if atom_key not in people_of:
                raise ValueError(f"row {row.key!r} names unknown atom {atom_key!r}")
        columns = sorted(column_of[key] for key in row.atoms if key in column_of)
        wanted.append((row.key, tuple(columns)))
    return cells, wanted


def _canonical(keys: Iterable[Hashable]) -> list[Hashable]:
    """A column order that does not depend on the order the atoms were given in. (The decision
    would not depend on it anyway; the witness set of `violation` and the run time could.)"""
    listed = list(keys)
    try:
        return sorted(listed)  # type: ignore[type-var]
    except TypeError:
        return sorted(listed, key=lambda key: (type(key).__qualname__, repr(key)))


# ---------------------------------------------------------------- exact sparse linear algebra


def _eliminate(vector: Vector, by: Vector, column: int) -> Vector:
    """`vector` with `column` cleared using `by` (by[column] != 0): by[c]·v − v[c]·by, divided
    by the gcd of its entries so the integers stay small."""
    scale, factor = by[column], vector[column]
    out = {c: scale * value for c, value in vector.items()}
    for c, value in by.items():
        new = out.get(c, 0) - factor * value
        if new:
            out[c] = new
        else:
            out.pop(c, None)
    return _primitive(out)


def _primitive(vector: Vector) -> Vector:
    divisor = 0
    for value in vector.values():
        divisor = gcd(divisor, value)
        if divisor == 1:
            return vector
    if divisor > 1:
        return {c: value // divisor for c, value in vector.items()}
    return vector


def _unchanged() -> None:
    pass


class _Released:
    """The row space of the rows released so far.

    `leading` holds the basis vectors whose leading column is a large cell, in echelon form
    (zero before their leading column). `hidden` is a basis of W, the combinations that are zero
    on every large cell, in reduced form: each vector is keyed by its pivot, and no other vector
    of `hidden` has an entry there. `touching` indexes `hidden` by column.
    """

    def __init__(self, cells: _Cells, k: int) -> None:
        self.cells = cells
        self.k = k
        self.leading: dict[int, Vector] = {}
        self.hidden: dict[int, Vector] = {}
        self.touching: dict[int, set[int]] = {}

    def add(self, columns: Sequence[int]) -> frozenset[int] | None:
        """Adds the row (coefficient 1 on each column) if the rule still holds with it and
        returns None; otherwise leaves everything as it was and returns the columns of an
        offending combination."""
        witness, commit = self.consider(columns)
        if witness is None:
            commit()
        return witness

    def consider(self, columns: Sequence[int]) -> tuple[frozenset[int] | None, Callable[[], None]]:
        """Whether the row may be added, changing nothing: (None, what adds it) if the rule
        still holds with it, else (the columns of an offending combination, a no-op)."""
        vector: Vector = {column: 1 for column in columns}
        while vector:
            lead = min(vector)
            if lead >= self.cells.large:
                break
            basis = self.leading.get(lead)
            if basis is None:
                # A new pivot on a large cell: W, the only place an offence can live, is
                # unchanged.
                return None, functools.partial(self.leading.__setitem__, lead, vector)
            vector = _eliminate(vector, basis, lead)
        for pivot in [column for column in vector if column in self.hidden]:
            vector = _eliminate(vector, self.hidden[pivot], pivot)
        if not vector:
            return None, _unchanged  # spanned by what is released already
        witness = _Search(self, vector).run()
        if witness is None:
            return None, functools.partial(self._hide, vector)
        return witness, _unchanged

    def _hide(self, vector: Vector) -> None:
        people = self.cells.people
        # A pivot on a cell with many people is rarely allowed in the search, so it stays a
        # plain "this weight is zero" and keeps the search's systems small.
        pivot = max(vector, key=lambda column: (len(people[column]), -column))
        for other in sorted(self.touching.get(pivot, ())):
            before = self.hidden[other]
            after = _eliminate(before, vector, pivot)
            self._index(other, before, remove=True)
            self.hidden[other] = after
            self._index(other, after)
        self.hidden[pivot] = vector
        self._index(pivot, vector)

    def _index(self, pivot: int, vector: Vector, *, remove: bool = False) -> None:
        for column in vector:
            if remove:
                self.touching[column].discard(pivot)
            else:
                self.touching.setdefault(column, set()).add(pivot)


class _Search:
    """Is there x in u + W whose cells hold fewer than k people? (u is a new row, reduced.)"""

    def __init__(self, released: _Released, u: Vector) -> None:
        self.u = u
        self.k = released.k
        self.people = released.cells.people
        self.hidden = released.hidden
        self.touching = released.touching
        self.block = self._block()

    def _block(self) -> list[int]:
        """Pivots of the basis vectors of W linked to u through shared cells."""
        pivots: set[int] = set()
        seen = set(self.u)
        frontier = list(self.u)
        while frontier:
            column = frontier.pop()
            for pivot in self.touching.get(column, ()):
                if pivot not in pivots:
                    pivots.add(pivot)
                    for other in self.hidden[pivot]:
                        if other not in seen:
                            seen.add(other)
                            frontier.append(other)
        return sorted(pivots)

    def run(self) -> frozenset[int] | None:
        # u alone may already be the offence (a small row, or a parent minus its children).
        if _fewer_than(self.people, self.u, self.k):
            return frozenset(self.u)
        seen: set[frozenset[Hashable]] = set()
        stack: list[frozenset[Hashable]] = [frozenset()]
        while stack:
            covered = stack.pop()
            if covered in seen:
                continue
            seen.add(covered)
            found, branches = self._explore(covered)
            if found is not None:
                return found
            for column in reversed(branches):
                grown = covered | self.people[column]
                if grown not in seen:
                    stack.append(grown)
        return None

    def _explore(self, covered: frozenset[Hashable]) -> tuple[frozenset[int] | None, list[int]]:
        """An offence within the cells `covered` allows, or the cells to branch on (empty when
        the disjoint-conflicts bound shows no offence can grow from here)."""
        room = self.k - 1 - len(covered)
        relaxed = covered
        branches: list[int] | None = None
        for count in range(room + 1):
            solution, conflict = self._solve(relaxed)
            if solution is not None:
                if count == 0:
                    return solution, []
                break
            affordable = sorted(
                column for column in conflict if len(self.people[column] | covered) <= self.k - 1
            )
            if not affordable:
                return None, []
            if branches is None or len(affordable) < len(branches):
                branches = affordable
            for column in affordable:
                relaxed = relaxed | self.people[column]
        else:
            # room + 1 conflicts, each needing a person none of the earlier ones could supply.
            return None, []
        assert branches is not None
        # Cheapest first: an offence, if any, is found sooner.
        branches.sort(key=lambda column: (len(self.people[column] - covered), column))
        return None, branches

    def _solve(self, covered: frozenset[Hashable]) -> tuple[frozenset[int] | None, frozenset[int]]:
        """Is some x in u + W zero on every cell not within `covered`? Returns (its cells, ∅)
        or (None, a conflict: cells on which no x in u + W is zero all at once)."""
        people, hidden, touching, u = self.people, self.hidden, self.touching, self.u
        # A pivot's coordinate in x is the weight of its basis vector, so only basis vectors
        # with an allowed pivot take part; the others have weight zero.
        free = {pivot for pivot in self.block if people[pivot] <= covered}

        # Usually some cell of u is touched by no free basis vector: it stays nonzero unless a
        # basis vector with a pivot outside `covered` helps. Cheapest conflict, no elimination.
        lonely: frozenset[int] | None = None
        for c in u:
            if people[c] <= covered:
                continue
            through = touching.get(c, set())
            if free.isdisjoint(through):
                conflict = frozenset(through) | {c}
                if lonely is None or len(conflict) < len(lonely):
                    lonely = conflict
        if lonely is not None:
            return None, lonely

        columns = set(u)
        for pivot in free:
            columns.update(hidden[pivot])
        constrained = sorted(
            (c for c in columns if c not in hidden and not people[c] <= covered),
            key=lambda c: (len(touching.get(c, ())), c),
        )
        # Each constrained cell c: sum over free pivots p of weight_p · hidden[p][c] = −u[c],
        # eliminated fraction-free. Echelon rows: (leading unknown, coefficients, right-hand
        # side, the cells it mixes); a row has no entry at the leading unknowns before it.
        echelon: list[tuple[int, dict[int, int], int, frozenset[int]]] = []
        for c in constrained:
            coefficients = {p: hidden[p][c] for p in touching.get(c, ()) if p in free}
            rhs = -u.get(c, 0)
            origin = frozenset((c,))
            for lead, row, row_rhs, row_origin in echelon:
                factor = coefficients.get(lead)
                if factor is None:
                    continue
                scale = row[lead]
                coefficients = {p: scale * value for p, value in coefficients.items()}
                for p, value in row.items():
                    new = coefficients.get(p, 0) - factor * value
                    if new:
                        coefficients[p] = new
                    else:
                        coefficients.pop(p, None)
                rhs = scale * rhs - factor * row_rhs
                divisor = gcd(rhs, *coefficients.values())
                if divisor > 1:
                    coefficients = {p: value // divisor for p, value in coefficients.items()}
                    rhs //= divisor
                origin |= row_origin
            if coefficients:
                echelon.append((min(coefficients), coefficients, rhs, origin))
            elif rhs:
                # These cells cannot all be zero with the free weights; the basis vectors
                # with a pivot outside `covered` that touch them would have to help.
                helpers = {
                    pivot
                    for cell in origin
                    for pivot in touching.get(cell, ())
                    if pivot not in free
                }
                return None, origin | helpers

        weights: dict[int, Fraction] = {}
        for lead, row, row_rhs, _origin in reversed(echelon):
            rest = sum(
                (value * weights.get(p, Fraction(0)) for p, value in row.items() if p != lead),
                Fraction(0),
            )
            weights[lead] = (row_rhs - rest) / row[lead]
        x: dict[int, Fraction] = {c: Fraction(value) for c, value in u.items()}
        for pivot, weight in weights.items():
            if weight:
                for c, value in hidden[pivot].items():
                    x[c] = x.get(c, Fraction(0)) + weight * value
        support = frozenset(c for c, value in x.items() if value)
        assert support and all(people[c] <= covered for c in support)
        return support, frozenset()


def _fewer_than(people: Sequence[frozenset[Hashable]], columns: Iterable[int], k: int) -> bool:
    seen: set[Hashable] = set()
    for column in columns:
        seen.update(people[column])
        if len(seen) >= k:
            return False
    return True
