"""Compose the council digest of one ISO week from released figures only.

The week and the eleven before it (the chart) are read from their releases (`bot/release/`),
released first if they are final and still waiting. Every number shown is a released figure or
derived from released figures (`bot/reports/readings.py`); a week still open shows only its
progress. The cost follows the twelve weeks read, not the history or the organisation's size.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence

from sqlalchemy import select

from bot.db import Database
from bot.explainers.library import Library
from bot.i18n import N_, Translator, translator
from bot.labour.categories import category_name
from bot.models import WORK_CATEGORIES, ExplainerQuestion
from bot.release.families import LEVEL, PARTICIPATION, category_measure, question_measure
from bot.release.service import WeekRelease, explainer_totals, progress, released, weeks_before
from bot.reports import readings
from bot.reports.alerts import REASONS, Alert, AlertKind, evaluate, looked_at
from bot.reports.chart import trend_chart
from bot.reports.digest_model import Digest, ExplainerLine, GroupLine, LevelLine, OpenQuestion, RolloutLine, ScoreLine
from bot.reports.readings import ORGANISATION, OTHER_TEAMS, Group
from bot.rollouts.decisions import latest_decisions
from bot.rollouts.service import list_rollouts, pause_signal, time_to_competency, weeks_since_go_live
from bot.settings import Behaviour, Question
from bot.surveys.service import questions_by_week
from bot.reports.questions import question_lines, window_questions
from bot.weeks import IsoWeek, round_closes_at

CHART_WEEKS = 12
SPARK_WEEKS = 8
SCORE_KEYS = ("capability", "workload", "clarity", "recognition")
SCORE_LABELS = {"capability": N_("Capability"), "workload": N_("Workload"), "clarity": N_("Clarity"), "recognition": N_("Recognition")}
TIME_SAVED_NOTE = N_("Time saved is self-reported: people misjudge it, so it is shown beside upkeep and rework.")

__all__ = ["CHART_WEEKS", "ORGANISATION", "SCORE_KEYS", "build_digest"]


def build_digest(
    db: Database,
    behaviour: Behaviour,
    library: Library,
    week: IsoWeek,
    key: bytes,
    *,
    at: dt.datetime | None = None,
    lang: str | None = None,
) -> tuple[Digest, bytes | None]:
    """The week's digest in `lang`, the council's language (the organisation's) unless given."""
    t = translator(lang or behaviour.language)
    min_size = behaviour.min_group_size
    weeks = weeks_before(week, CHART_WEEKS)
    history = released(db, key, weeks, min_size, at=at)
    current, previous = history[-1], history[-2]
    if not current.released:
        return _open_week(db, key, week, min_size, at, t), None
    org = Group.organisation()
    # What each week of the window asked, read once: the questions' lines and the chart both use it.
    asked = questions_by_week(db, [w.week for w in history])
    bank_questions = window_questions([*behaviour.questions.core, *behaviour.questions.rotating], asked)
    series = {k: [readings.mean(w, k, org) for w in history] for k in (*SCORE_KEYS, "time_saved", "upkeep")}
    taking_part = readings.participation(current, org)
    before = readings.participation(previous, org)
    rework = readings.question(current, "rework", org)
    workaround = readings.question(current, "workaround", org)
    scores = tuple(_scores(behaviour, week, series, current, previous, t))
    digest = Digest(
        week=str(week),
        # The rule the week was released under: a later min_group_size applies to later weeks.
        min_group_size=current.min_group_size or min_size,
        sent=None if taking_part is None else taking_part.people,
        responded=None if taking_part is None else int(taking_part.total),
        response_rate=None if taking_part is None else taking_part.mean,
        rate_change=None if taking_part is None or before is None else taking_part.mean - before.mean,
        scores=scores,
        saved_hours=series["time_saved"][-1],
        upkeep_hours=series["upkeep"][-1],
        net_hours=readings.net_hours(current, org),
        rework_rate=None if rework is None else rework.share("flagged"),
        workaround_rate=None if workaround is None else workaround.share("flagged"),
        hidden_hours=_hidden_hours(current, t),
        groups=tuple(_groups(current, t)),
        clarity_by_level=tuple(_by_level(current, "clarity")),
        alerts=tuple(str(a) for a in _alerts(behaviour, history, t)),
        rollouts=tuple(_rollouts(db, behaviour, week, history)),
        explainers=tuple(_explainers(db, library, week, min_size)),
        open_questions=_open_questions(db, library, week),
        questions=tuple(question_lines(bank_questions, history, asked, org, t.lang)),
        suppressed=not scores,
        notes=(t.gettext(TIME_SAVED_NOTE),),
        lang=t.lang,
    )
    chart = None if digest.suppressed else _chart(db, behaviour, week, history, series, asked, bank_questions)
    return digest, chart


def _chart(
    db: Database,
    behaviour: Behaviour,
    week: IsoWeek,
    history: Sequence[WeekRelease],
    series: Mapping[str, Sequence[float | None]],
    asked: Mapping[str, Sequence[Question]],
    questions: Sequence[Question],
) -> bytes:
    """The trend chart, saying which gaps were not asked and where rollouts went live; a bank's own
    scale and hours questions are drawn beside the usual scores."""
    labels = [w.week for w in history]
    org = Group.organisation()
    own = {
        q.key: (q.key.replace("_", " ").capitalize(), q.kind)
        for q in questions
        if q.kind in ("scale", "hours") and q.key not in series
    }
    series = {**series, **{key: [readings.mean(w, key, org) for w in history] for key in own}}
    drawn = _chart_series(series)
    asked_keys = {w: {q.key for q in asked.get(w, ())} for w in labels}
    flags = {key: [key in asked_keys[w] for w in labels] for key in drawn}
    rollouts = list_rollouts(db, at=round_closes_at(week), window_days=behaviour.rollouts.window_days)
    go_lives = [(str(IsoWeek.of(r.go_live)), r.name) for r in rollouts if str(IsoWeek.of(r.go_live)) in labels]
    # The image keeps its English labels (the chart font draws Latin script only); the post around it is translated.
    return trend_chart(labels, drawn, title=f"Trends to {week}", asked=flags, go_lives=go_lives, questions=own)


def _open_week(db: Database, key: bytes, week: IsoWeek, min_size: int, at: dt.datetime | None, t: Translator) -> Digest:
    """A week still open shows its progress so far, and nothing else."""
    so_far = progress(db, key, str(week), min_size, at=at).groups.get("")
    return Digest(
        week=str(week),
        min_group_size=min_size,
        sent=None if so_far is None else so_far[0],
        responded=None if so_far is None else so_far[1],
        response_rate=None if so_far is None or not so_far[0] else so_far[1] / so_far[0],
        rate_change=None,
        suppressed=True,
        open_week=True,
        lang=t.lang,
    )


def _chart_series(series: Mapping[str, Sequence[float | None]]) -> dict[str, Sequence[float | None]]:
    """Series with something to draw; time saved only beside upkeep, never alone."""
    drawn = {key: values for key, values in series.items() if any(v is not None for v in values)}
    if "upkeep" not in drawn:
        drawn.pop("time_saved", None)
    return drawn


def _scores(
    behaviour: Behaviour,
    week: IsoWeek,
    series: Mapping[str, Sequence[float | None]],
    current: WeekRelease,
    previous: WeekRelease,
    t: Translator,
) -> Iterable[ScoreLine]:
    for key in SCORE_KEYS:
        found = current.get(question_measure(key))
        if found is None:
            continue
        values = series[key]
        last = values[-2]
        yield ScoreLine(
            key=key,
            label=t.gettext(SCORE_LABELS[key]),
            mean=found.mean,
            favourable=found.share("favourable"),
            change=None if last is None else found.mean - last,
            series=tuple(values[-SPARK_WEEKS:]),
        )


def _hidden_hours(release: WeekRelease, t: Translator) -> tuple[tuple[str, float], ...]:
    found = [
        (category_name(category, t), figure.total / 60)
        for category in WORK_CATEGORIES
        if (figure := release.get(category_measure(category))) is not None and figure.total > 0
    ]
    return tuple(sorted(found, key=lambda item: -item[1]))


def _groups(release: WeekRelease, t: Translator) -> Iterable[GroupLine]:
    """Every team whose participation was released, then "other teams" when anyone is left."""
    for path in release.labels(PARTICIPATION, "team"):
        group = Group.team(path)
        taking_part = readings.participation(release, group)
        assert taking_part is not None
        yield GroupLine(
            label=path,
            responded=int(taking_part.total),
            response_rate=taking_part.mean,
            capability=readings.mean(release, "capability", group),
            hidden_hours=readings.hidden_hours(release, group),
        )
    rest = readings.other_teams(release, PARTICIPATION)
    if rest is not None and release.labels(PARTICIPATION, "team"):
        capability = readings.other_teams(release, question_measure("capability"))
        yield GroupLine(
            label=t.gettext(OTHER_TEAMS),
            responded=int(rest.total),
            response_rate=rest.mean,
            # Only beside participation over the same teams: else the line would mix two groups.
            capability=capability.mean if capability is not None and _same_teams(release, "capability") else None,
            hidden_hours=None,
        )


def _same_teams(release: WeekRelease, key: str) -> bool:
    return release.labels(PARTICIPATION, "team") == release.labels(question_measure(key), "team")


def _by_level(release: WeekRelease, key: str) -> Iterable[LevelLine]:
    """Each level's mean and favourable share (clarity: the share who say AI's effect on their
    role was explained, the figure this product exists to move)."""
    measure = question_measure(key)
    for level in release.labels(measure, LEVEL):
        found = release.get(measure, LEVEL, level)
        assert found is not None
        yield LevelLine(level, found.mean, found.share("favourable"))


def _alerts(behaviour: Behaviour, history: Sequence[WeekRelease], t: Translator) -> list[Alert]:
    """Alerts for the organisation and for each team released this week."""
    current = history[-1]
    groups = [Group.organisation()] + [Group.team(path) for path in current.labels(PARTICIPATION, "team")]
    recent = looked_at(history, behaviour.alerts)
    alerts: list[Alert] = []
    for group in groups:
        label = t.gettext(group.label) if group.path is None else group.label
        alerts += evaluate(label, [readings.signals(w, group) for w in recent], behaviour.alerts, t)
    return alerts


def _rollouts(db: Database, behaviour: Behaviour, week: IsoWeek, history: Sequence[WeekRelease]) -> Iterable[RolloutLine]:
    """Per rollout: sums of its teams' released figures, never a figure of its own."""
    decisions = latest_decisions(db)
    rules = behaviour.rollouts
    for rollout in list_rollouts(db, at=round_closes_at(week), window_days=rules.window_days):
        group = Group(rollout.name, paths=rollout.teams)
        capability = {w.week: readings.mean(w, "capability", group) for w in history}
        per_team = tuple(
            (team, time_to_competency({w.week: readings.mean(w, "capability", Group.team(team)) for w in history},
                                      rollout.go_live, rules.capability_target))
            for team in rollout.teams
            if history[-1].team(question_measure("capability"), team) is not None
        )
        alerts = evaluate(rollout.name, [readings.signals(w, group) for w in looked_at(history, behaviour.alerts)], behaviour.alerts)
        since = weeks_since_go_live(rollout.go_live, week)
        signal = pause_signal(since, alerts, rules)
        _, left_out = readings.covered(history[-1], question_measure("capability"), rollout.teams)
        yield RolloutLine(
            rollout_id=rollout.id,
            name=rollout.name,
            go_live=rollout.go_live,
            weeks_since_go_live=since,
            in_window=rollout.in_window,
            time_to_competency=time_to_competency(capability, rollout.go_live, rules.capability_target),
            pause_signal=signal.raised,
            reasons=tuple(sorted({REASONS[AlertKind(alert.kind)] for alert in alerts})) if signal.raised else (),
            last_decision=decisions.get(rollout.id),
            left_out=left_out,
            window_days=rules.window_days,
            team_competency=per_team if len(rollout.teams) > 1 else (),
        )


def _explainers(db: Database, library: Library, week: IsoWeek, min_size: int) -> Iterable[ExplainerLine]:
    """Reach and the released ratings so far, for explainers that reached enough people."""
    for key, (reached, rated) in sorted(explainer_totals(db, str(week)).items()):
        if reached < min_size:
            continue
        explainer = library.get(key)
        title = explainer.title if explainer is not None else key
        yield ExplainerLine(title, reached, None if rated is None else rated.mean)


def _open_questions(db: Database, library: Library, week: IsoWeek) -> tuple[OpenQuestion, ...]:
    """This week's explainer questions as the council was shown them, with a link to each one posted."""
    with db.session() as session:
        rows = session.execute(
            select(ExplainerQuestion.explainer_key, ExplainerQuestion.text, ExplainerQuestion.channel_id, ExplainerQuestion.message_ts)
            .where(ExplainerQuestion.week == str(week))
            .order_by(ExplainerQuestion.explainer_key, ExplainerQuestion.id)
        ).all()
    found = []
    for key, text, channel, ts in rows:
        explainer = library.get(key)
        title = explainer.title if explainer is not None else key
        if channel and ts:
            found.append(OpenQuestion(title, text, f"https://slack.com/archives/{channel}/p{ts.replace('.', '')}"))
        else:
            # Not in the channel yet: an anonymous one waits until enough people hold its
            # explainer, and nothing of it is shown before; only that a question waits.
            found.append(OpenQuestion("", "", None))
    return tuple(found)
