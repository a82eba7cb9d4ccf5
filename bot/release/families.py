"""Which figures one week releases: every figure an output wants, decided family by family.

A family is a set of measures that some released figure combines; its figures are decided
together by `bot.release.rule.decide`, most important first, so that nothing released lets a
reader work out a person's value or a group under `min_group_size`:

* participation: "answered" (0/1) over the people the pulse reached, for the organisation and
  every team's subtree;
* each question, over the people who answered it: the organisation, the teams whose
  participation is released, and (for the questions read by level) each level,
  organisation-wide. Its indicator counts (favourable, a rate's mark, each option) are sums over
  the same people, so the question's decision is theirs too;
* hidden work: the organisation's total, every team's total and the organisation's total per
  category, tested as one family (a person who logged three categories is one person, not three).
  Reports shared for credit are shown by name to the author's managers, who can subtract them:
  the family must also pass with those minutes known, where a cell holds only the people who
  logged in it anonymously;
* per explainer: the week's first ratings, for the organisation.

Only counts of contributors and the sums of their values are kept; means and shares are worked
out by the readers. Decisions use only the snapshot and who contributed, never a value.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Hashable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Final

from bot.release.inputs import Member, WeekInputs
from bot.release.rule import Atom, Row, decide, decide_for_readers
from bot.settings import Question

RULE_VERSION: Final = 2  # 2: hidden work also decided with the reports shared for credit known

PARTICIPATION: Final = "participation"
HIDDEN: Final = "hidden"
ORG: Final = "org"
TEAM: Final = "team"
LEVEL: Final = "level"

# Questions also released by level (organisation-wide): clarity by level is the figure the
# product exists to move (12% of entry-level staff say AI's effect on their role was explained).
BY_LEVEL: Final = frozenset({"clarity"})

# A rate is the share of answers at or above a mark on the question's own scale:
# rework "Often" (3) or "Always" (4) on 0 never … 4 always; workaround "Yes" (1) on 0 no / 1 yes.
RATE_MARKS: Final[Mapping[str, float]] = {"rework": 3.0, "workaround": 1.0}


def question_measure(key: str) -> str:
    return f"q:{key}"


def category_measure(category: str) -> str:
    return f"{HIDDEN}:{category}"


def explainer_measure(key: str) -> str:
    return f"explainer:{key}"


def reach_measure(key: str) -> str:
    return f"reach:{key}"


@dataclass(frozen=True)
class Figure:
    """A figure as it is stored: see `bot.models.ReleasedFigure`."""

    measure: str
    scope: str
    label: str
    people: int
    total: float
    counts: dict[str, Any] = field(default_factory=dict)

    def row(self, week: str) -> dict[str, Any]:
        return {"week": week, "measure": self.measure, "scope": self.scope, "label": self.label,
                "people": self.people, "total": self.total, "counts": self.counts}


def participation_figures(inputs: WeekInputs, min_size: int) -> list[Figure]:
    """Participation alone: what an open week's progress shows."""
    return _participation(inputs, _teams(inputs.members.values()), min_size)[0]


def week_figures(inputs: WeekInputs, min_size: int) -> list[Figure]:
    """Every figure the week may release, decided family by family."""
    tree = _teams(inputs.members.values())
    figures, shown = _participation(inputs, tree, min_size)
    for question in inputs.questions:
        figures += _question(inputs, question, shown, min_size)
    figures += _hidden_work(inputs, tree, min_size)
    figures += _explainers(inputs, min_size)
    return figures


# ---------------------------------------------------------------- the team tree


def _teams(members: Iterable[Member]) -> list[str]:
    """Every team with someone in it and every team above one, most important first: the top of
    the tree before its branches, and at one depth the team with more people before the smaller
    (a head count, never an answer, so the order says nothing about what anyone said)."""
    paths: dict[str, int] = {}
    for member in members:
        parts = member.team.split("/")
        for n in range(len(parts)):
            here = "/".join(parts[: n + 1])
            paths[here] = paths.get(here, 0) + 1
    return sorted(paths, key=lambda path: (path.count("/"), -paths[path], path))


def _within(path: str, team: str) -> bool:
    return path == team or path.startswith(team + "/")


def _team_row(team: str, atoms: Iterable[Hashable], team_of: Mapping[Hashable, str]) -> Row:
    return Row((TEAM, team), frozenset(atom for atom in atoms if _within(team_of[atom], team)))


# ---------------------------------------------------------------- families


def _participation(inputs: WeekInputs, tree: list[str], min_size: int) -> tuple[list[Figure], list[tuple[str, str]]]:
    cells: dict[str, set[int]] = {}
    for person in inputs.sent:
        cells.setdefault(inputs.members[person].team, set()).add(person)
    atoms = [Atom(team, frozenset(people)) for team, people in cells.items()]
    # Cells hold distinct people, so a group's figures are its cells' added up.
    answered = {team: len(people & inputs.answered) for team, people in cells.items()}
    team_of = {team: team for team in cells}
    rows = [Row((ORG, ""), frozenset(cells)), *(_team_row(team, cells, team_of) for team in tree)]
    decision = decide(atoms, rows, min_size)
    figures = []
    shown: list[tuple[str, str]] = []
    for row in rows:
        if not decision.allows(row.key):
            continue
        scope, label = row.key
        sent = sum(len(cells[atom]) for atom in row.atoms)
        figures.append(Figure(PARTICIPATION, scope, label, sent, float(sum(answered[atom] for atom in row.atoms))))
        shown.append(row.key)
    return figures, shown


def _question(inputs: WeekInputs, question: Question, shown: list[tuple[str, str]], min_size: int) -> list[Figure]:
    values = inputs.values.get(question.key, {})
    by_level = question.key in BY_LEVEL
    cells: dict[tuple[str, str | None], set[int]] = {}
    for person in values:
        member = inputs.members[person]
        cells.setdefault((member.team, member.level if by_level else None), set()).add(person)
    atoms = [Atom(cell, frozenset(people)) for cell, people in cells.items()]
    # Each cell's answers as value → how many gave it: a group's figures add its cells' up.
    given = {cell: Counter(values[p] for p in people) for cell, people in cells.items()}
    team_of = {cell: cell[0] for cell in cells}
    # A group's count of answerers is shown with its figures, so a team is asked for only where
    # its participation is released too. Counts of answerers are treated as public (the rule
    # protects sums); level figures, which participation has no counterpart of, can with team
    # counts show that someone did not answer a question (README: what remains possible).
    rows = [
        Row(key, frozenset(cells)) if key[0] == ORG else _team_row(key[1], cells, team_of) for key in shown
    ]
    if by_level:
        levels = sorted({level for _, level in cells if level is not None})
        rows += [Row((LEVEL, level), frozenset(c for c in cells if c[1] == level)) for level in levels]
    decision = decide(atoms, rows, min_size)
    measure = question_measure(question.key)
    figures = []
    for row in rows:
        if decision.allows(row.key):
            answers: Counter[float] = Counter()
            for atom in row.atoms:
                answers.update(given[atom])
            scope, label = row.key
            figures.append(Figure(measure, scope, label, sum(answers.values()),
                                  sum(value * n for value, n in answers.items()), _indicators(question, answers)))
    return figures


def _indicators(question: Question, answers: Counter[float]) -> dict[str, Any]:
    counts: dict[str, Any] = {"options": {_option(o.value): answers.get(float(o.value), 0) for o in question.options}}
    if question.favourable_at_least is not None:
        counts["favourable"] = sum(n for value, n in answers.items() if value >= question.favourable_at_least)
    mark = RATE_MARKS.get(question.key)
    if mark is not None:
        counts["flagged"] = sum(n for value, n in answers.items() if value >= mark)
    return counts


def _option(value: float) -> str:
    """An option's value as a key: 3 not 3.0, 0.5 as it is."""
    return str(int(value)) if float(value).is_integer() else str(value)


def _hidden_work(inputs: WeekInputs, tree: list[str], min_size: int) -> list[Figure]:
    cells: dict[tuple[str, str], set[int]] = {}
    minutes: dict[tuple[str, str], int] = {}
    for person, by_category in inputs.hidden.items():
        team = inputs.members[person].team
        for category, logged in by_category.items():
            cells.setdefault((category, team), set()).add(person)
            minutes[(category, team)] = minutes.get((category, team), 0) + logged
    if not cells:
        return []
    atoms = [Atom(cell, frozenset(people)) for cell, people in cells.items()]
    # What a manager cannot see: in each cell, the people who logged some of it anonymously.
    unshared = [
        Atom(cell, frozenset(p for p in people if inputs.hidden[p][cell[0]] > inputs.shared.get(p, {}).get(cell[0], 0)))
        for cell, people in cells.items()
    ]
    team_of = {cell: cell[1] for cell in cells}
    categories = sorted({category for category, _ in cells})
    rows = [Row((ORG, ""), frozenset(cells))]
    rows += [_team_row(team, cells, team_of) for team in tree]
    rows += [Row(("category", category), frozenset(c for c in cells if c[0] == category)) for category in categories]
    decision = decide_for_readers([(atoms, rows), (unshared, rows)], min_size)
    figures = []
    for row in rows:
        if not decision.allows(row.key):
            continue
        people = set().union(*(cells[atom] for atom in row.atoms))
        total = float(sum(minutes[atom] for atom in row.atoms))
        kind, label = row.key
        if kind == "category":
            figures.append(Figure(category_measure(label), ORG, "", len(people), total))
        else:
            figures.append(Figure(HIDDEN, kind, label, len(people), total))
    return figures


def _explainers(inputs: WeekInputs, min_size: int) -> list[Figure]:
    figures = [Figure(reach_measure(key), ORG, "", sent, float(sent)) for key, sent in sorted(inputs.reach.items()) if sent]
    for key, ratings in sorted(inputs.ratings.items()):
        atom = Atom(key, frozenset(ratings))
        row = Row((ORG, ""), frozenset({key}))
        if decide([atom], [row], min_size).allows(row.key):
            figures.append(Figure(explainer_measure(key), ORG, "", len(ratings), float(sum(ratings.values()))))
    return figures
