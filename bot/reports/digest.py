"""Compose the council digest of one ISO week from SQL aggregates, through the confidentiality engine.

Each week's figures are planned once, organisation-wide, from that week's respondents; every
figure shown is one the plan allows (a shown team's subtree, the "other teams" fold, the total).
Figures over a different set of respondents (one question's answerers, hidden-work reporters)
get a plan of their own. The cost follows the weeks read (12 at most), not the history.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from sqlalchemy import func, select

from bot.db import Database
from bot.explainers.library import Library
from bot.explainers.service import explainer_results, titles
from bot.labour.categories import category_name
from bot.models import ExplainerQuestion, Team
from bot.privacy import NO_TEAM, OTHER_TEAMS_LABEL, Disclosure, large_enough, plan_disclosure
from bot.reports.aggregates import GroupFigures, TeamWeek, combine, level_weeks, team_weeks
from bot.reports.alerts import Alert, WeekSignals, evaluate
from bot.reports.chart import trend_chart
from bot.reports.digest_model import Digest, ExplainerLine, GroupLine, RolloutLine, ScoreLine
from bot.rollouts.decisions import latest_decisions
from bot.rollouts.service import covered_team_ids, list_rollouts, pause_signal, time_to_competency, weeks_since_go_live
from bot.settings import Behaviour
from bot.surveys.bank import questions_for_week
from bot.weeks import IsoWeek, round_closes_at

CHART_WEEKS = 12
SPARK_WEEKS = 8
SCORE_KEYS = ("capability", "workload", "clarity", "recognition")
ORGANISATION = "Organisation"


@dataclass(frozen=True)
class _Tree:
    parents: dict[str, str | None]
    paths: dict[int, str]
    # A digest asks for the same subtrees thousands of times (every group, every week, every
    # question's plan); with a few hundred teams, scanning all paths each time is what costs.
    _subtrees: dict[str, frozenset[str]] = field(default_factory=dict, compare=False, repr=False)

    def subtree(self, root: str) -> set[str]:
        found = self._subtrees.get(root)
        if found is None:
            found = self._subtrees[root] = frozenset(p for p in self.parents if p == root or p.startswith(root + "/"))
        return set(found)


def team_tree(db: Database) -> _Tree:
    with db.session() as session:
        teams = session.execute(select(Team.id, Team.path, Team.parent_id)).all()
    paths = {t.id: t.path for t in teams}
    return _Tree({t.path: paths.get(t.parent_id) if t.parent_id else None for t in teams}, paths)


@dataclass
class PlannedWeek:
    """One week's rows and the groups its plan lets us show (label → member team paths)."""

    week: str
    rows: list[TeamWeek]
    tree: _Tree
    min_size: int
    # A digest reads each week's figures many times over (every question's plan, every group's
    # signals); they are summed once per path and per group. Nothing here outlives the digest.
    _question_plans: dict[str, Disclosure] = field(default_factory=dict, repr=False)
    _by_path: dict[str, list[TeamWeek]] | None = field(default=None, repr=False)
    _path_figures: dict[str, GroupFigures] | None = field(default=None, repr=False)
    _groups: dict[frozenset[str] | None, GroupFigures] = field(default_factory=dict, repr=False)

    def by_path(self) -> dict[str, list[TeamWeek]]:
        """The week's rows by team path (computed once: the rows of a planned week do not change)."""
        if self._by_path is None:
            grouped: dict[str, list[TeamWeek]] = defaultdict(list)
            for row in self.rows:
                grouped[self.tree.paths.get(row.team_id, NO_TEAM) if row.team_id else NO_TEAM].append(row)
            self._by_path = dict(grouped)
        return self._by_path

    def allows(self, plan: Disclosure, label: str | None) -> bool:
        """Whether a plan of this week shows the group with this label (None: the total).

        The labels of `shown_groups`, without building the groups: each shown team, and
        "Other teams" when there is a fold.
        """
        if label is None:
            return plan.total_shown
        return label in plan.shown or (label == OTHER_TEAMS_LABEL and bool(plan.other_teams))

    def shows(self, key: str, label: str | None) -> bool:
        """Whether this week's plan for one question's answerers allows the group (None: the total)."""
        if key not in self._question_plans:
            self._question_plans[key] = self.plan(_count_of(key))
        return self.allows(self._question_plans[key], label)

    def plan(self, count: Callable[[GroupFigures], int], previous: PlannedWeek | None = None) -> Disclosure:
        counts = {path: count(figures) for path, figures in self.figures_by_path().items()}
        before = None
        if previous is not None:
            before = {path: count(figures) for path, figures in previous.figures_by_path().items()}
        parents = dict(self.tree.parents)
        return plan_disclosure(parents, counts, self.min_size, previous=before)

    def figures_by_path(self) -> dict[str, GroupFigures]:
        """Each team's own figures this week (its rows summed, not its subtree)."""
        if self._path_figures is None:
            self._path_figures = {path: combine(rows) for path, rows in self.by_path().items()}
        return self._path_figures

    def group(self, paths: Iterable[str]) -> GroupFigures:
        wanted = frozenset(paths)
        if wanted not in self._groups:
            self._groups[wanted] = combine(
                row for path, rows in self.by_path().items() if path in wanted for row in rows
            )
        return self._groups[wanted]

    def total(self) -> GroupFigures:
        if None not in self._groups:
            self._groups[None] = combine(self.rows)
        return self._groups[None]

    def shown_groups(self, plan: Disclosure) -> list[tuple[str, set[str]]]:
        groups = [(path, self.tree.subtree(path)) for path in sorted(plan.shown)]
        if plan.other_teams:
            members: set[str] = set()
            for root in plan.other_teams:
                members |= self.tree.subtree(root)
            groups.append((OTHER_TEAMS_LABEL, members))
        return groups


def planned_weeks(db: Database, weeks: Sequence[IsoWeek], tree: _Tree, min_size: int) -> list[PlannedWeek]:
    """The weeks' per-team rows, each week ready to be planned on its own respondents."""
    rows_by_week: dict[str, list[TeamWeek]] = defaultdict(list)
    for row in team_weeks(db, [str(w) for w in weeks]):
        rows_by_week[row.week].append(row)
    return [PlannedWeek(str(w), rows_by_week.get(str(w), []), tree, min_size) for w in weeks]


def answered(figures: GroupFigures) -> int:
    return figures.responded


def _count_of(key: str) -> Callable[[GroupFigures], int]:
    return lambda figures: figures.count(key)


def build_digest(db: Database, behaviour: Behaviour, library: Library, week: IsoWeek) -> tuple[Digest, bytes | None]:
    min_size = behaviour.min_group_size
    tree = team_tree(db)
    weeks = [week.shifted(offset) for offset in range(-CHART_WEEKS + 1, 1)]
    history = planned_weeks(db, weeks, tree, min_size)
    current, previous = history[-1], history[-2]
    plan = current.plan(answered, previous)
    total = current.total()
    last_total = previous.total()
    sent = total.sent
    rate = total.responded / sent if sent else 0.0
    last_rate = last_total.responded / last_total.sent if last_total.sent else None

    def weekly(key: str) -> list[float | None]:
        return [_mean_if_shown(w, key) for w in history]

    series = {key: weekly(key) for key in (*SCORE_KEYS, "time_saved", "upkeep")}
    suppressed = not plan.total_shown
    scores = () if suppressed else tuple(_scores(behaviour, week, series, plan, total, last_total, min_size))
    digest = Digest(
        week=str(week),
        min_group_size=min_size,
        sent=sent,
        responded=total.responded if plan.total_shown or not total.responded else 0,
        response_rate=rate,
        rate_change=(rate - last_rate) if last_rate is not None and plan.total_delta_allowed else None,
        scores=scores,
        saved_hours=series["time_saved"][-1],
        upkeep_hours=series["upkeep"][-1],
        net_hours=_net(series["time_saved"][-1], series["upkeep"][-1]),
        rework_rate=total.rework_rate() if large_enough(total.count("rework"), min_size) else None,
        workaround_rate=total.workaround_rate() if large_enough(total.count("workaround"), min_size) else None,
        hidden_hours=_hidden_hours(total, min_size),
        groups=tuple(_groups(current, plan, min_size)),
        clarity_by_level=tuple(_clarity_by_level(db, week, min_size)),
        alerts=tuple(str(a) for a in _alerts(behaviour, history, plan)),
        rollouts=tuple(_rollouts(db, behaviour, week, history)),
        explainers=tuple(_explainers(db, library, week, min_size)),
        open_questions=_open_questions(db, week),
        suppressed=suppressed,
        notes=("Time saved is self-reported: people misjudge it, so it is shown beside upkeep and rework.",),
    )
    chart = None if suppressed else trend_chart([str(w) for w in weeks], _chart_series(series), title=f"Trends to {week}")
    return digest, chart


def _chart_series(series: Mapping[str, Sequence[float | None]]) -> dict[str, Sequence[float | None]]:
    """Series with something to draw; time saved only beside upkeep, never alone."""
    drawn = {key: values for key, values in series.items() if any(v is not None for v in values)}
    if "upkeep" not in drawn:
        drawn.pop("time_saved", None)
    return drawn


def _mean_if_shown(week: PlannedWeek, key: str) -> float | None:
    """The organisation's mean for a question in a week, when that question's answerers allow it."""
    total = week.total()
    if not week.rows or not large_enough(total.count(key), week.min_size):
        return None
    if not week.shows(key, None):
        return None
    return total.mean(key)


def _net(saved: float | None, upkeep: float | None) -> float | None:
    return None if saved is None or upkeep is None else saved - upkeep


def _scores(
    behaviour: Behaviour,
    week: IsoWeek,
    series: Mapping[str, Sequence[float | None]],
    plan: Disclosure,
    total: GroupFigures,
    last_total: GroupFigures,
    min_size: int,
) -> Iterable[ScoreLine]:
    labels = {q.key: q.key.replace("_", " ").capitalize() for q in questions_for_week(behaviour.questions, week)}
    for key in SCORE_KEYS:
        values = series[key]
        mean = values[-1]
        if mean is None:
            continue
        previous = values[-2]
        change = mean - previous if previous is not None and plan.total_delta_allowed else None
        yield ScoreLine(
            key=key,
            label=labels.get(key, key.capitalize()),
            mean=mean,
            favourable=total.favourable_share(key),
            change=change,
            series=tuple(values[-SPARK_WEEKS:]),
        )


def _hidden_hours(total: GroupFigures, min_size: int) -> tuple[tuple[str, float], ...]:
    if not large_enough(total.hidden_reporters, min_size):
        return ()
    return tuple(
        (category_name(category), hours) for category, hours in total.hidden_hours_by_category() if hours > 0
    )


def _groups(current: PlannedWeek, plan: Disclosure, min_size: int) -> Iterable[GroupLine]:
    reporters_plan = current.plan(lambda figures: figures.hidden_reporters)
    for label, members in current.shown_groups(plan):
        figures = current.group(members)
        yield GroupLine(
            label=label,
            responded=figures.responded,
            response_rate=figures.responded / figures.sent if figures.sent else None,
            capability=figures.mean("capability") if current.shows("capability", label) else None,
            hidden_hours=figures.hidden_hours() if current.allows(reporters_plan, label) else None,
        )


def _clarity_by_level(db: Database, week: IsoWeek, min_size: int) -> Iterable[tuple[str, float]]:
    """Clarity per level, planned as a flat family (levels plus the total) on clarity's answerers."""
    rows = level_weeks(db, [str(week)])
    counts = {(row.level or NO_TEAM): row.figures.count("clarity") for row in rows}
    plan = plan_disclosure({level: None for level in counts if level != NO_TEAM}, counts, min_size)
    for row in sorted(rows, key=lambda r: r.level or ""):
        if row.level and row.level in plan.shown:
            mean = row.figures.mean("clarity")
            if mean is not None:
                yield row.level, mean


def signals(week: PlannedWeek, label: str | None, members: set[str] | None) -> WeekSignals:
    """A group's weekly signals, each only where that question's answerers let the group be shown."""
    figures = week.total() if members is None else week.group(members)

    def allowed(key: str) -> bool:
        return large_enough(figures.count(key), week.min_size) and (label == "" or week.shows(key, label))

    return WeekSignals(
        week=week.week,
        capability=figures.mean("capability") if allowed("capability") else None,
        workload_favourable=figures.favourable_share("workload") if allowed("workload") else None,
        upkeep_hours=figures.mean("upkeep") if allowed("upkeep") else None,
        workaround_rate=figures.workaround_rate() if allowed("workaround") else None,
        response_rate=(figures.responded / figures.sent)
        if figures.sent and large_enough(figures.responded, week.min_size)
        else None,
    )


def _alerts(behaviour: Behaviour, history: Sequence[PlannedWeek], plan: Disclosure) -> list[Alert]:
    """Alerts for the organisation and for each team the plan shows this week."""
    current = history[-1]
    alerts: list[Alert] = []
    if plan.total_shown:
        alerts += evaluate(ORGANISATION, [signals(w, None, None) for w in history], behaviour.alerts)
    for label, members in current.shown_groups(plan):
        if label == OTHER_TEAMS_LABEL:
            continue
        alerts += evaluate(label, [signals(w, label, members) for w in history], behaviour.alerts)
    return alerts


def _rollouts(db: Database, behaviour: Behaviour, week: IsoWeek, history: Sequence[PlannedWeek]) -> Iterable[RolloutLine]:
    """Per rollout: derived signals only (a week number, yes/no and alert kinds), never a new figure."""
    decisions = latest_decisions(db)
    at = round_closes_at(week)
    rules = behaviour.rollouts
    for rollout in list_rollouts(db, at=at, window_days=rules.window_days):
        covered = covered_team_ids(db, rollout)
        paths = {history[-1].tree.paths[team_id] for team_id in covered if team_id in history[-1].tree.paths}
        # Only derived values leave here (a week number, yes/no, alert kinds), never a figure.
        weekly = [signals(w, "", paths) for w in history]
        capability = {s.week: s.capability for s in weekly}
        alerts = evaluate(rollout.name, weekly, behaviour.alerts)
        signal = pause_signal(weeks_since_go_live(rollout.go_live, week), alerts, rules)
        yield RolloutLine(
            rollout_id=rollout.id,
            name=rollout.name,
            go_live=rollout.go_live,
            weeks_since_go_live=weeks_since_go_live(rollout.go_live, week),
            in_window=rollout.in_window,
            time_to_competency=time_to_competency(capability, rollout.go_live, rules.capability_target),
            pause_signal=signal.raised,
            reasons=tuple(sorted({alert.kind.replace("_", " ") for alert in alerts})) if signal.raised else (),
            last_decision=decisions.get(rollout.id),
        )


def _explainers(db: Database, library: Library, week: IsoWeek, min_size: int) -> Iterable[ExplainerLine]:
    results = explainer_results(db, week, min_group_size=min_size)
    names = titles(library, results)
    for result in results:
        yield ExplainerLine(names[result.key], result.reached, result.helpful_share)


def _open_questions(db: Database, week: IsoWeek) -> int:
    starts, ends = round_closes_at(week.shifted(-1)), round_closes_at(week)
    with db.session() as session:
        return session.scalar(
            select(func.count()).select_from(ExplainerQuestion).where(
                ExplainerQuestion.asked_at >= starts, ExplainerQuestion.asked_at < ends
            )
        ) or 0
