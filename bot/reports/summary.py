"""Manager summaries: a team's weeks, read from the same weekly releases as the digest.

A summary is a restriction of the organisation's release to the manager's teams, never a plan of
its own, so summaries, the digest and exports together show nothing the release did not decide
may be known. The week still open shows only its progress, counted at most once a day; asking
again before or after a colleague answers shows the same figure.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from bot.db import Database
from bot.i18n import ENGLISH, Translator
from bot.release.families import PARTICIPATION, TEAM
from bot.release.service import Progress, WeekRelease, progress, released, weeks_before
from bot.reports import readings
from bot.reports.access import Scope, summary_scope
from bot.reports.alerts import evaluate
from bot.reports.questions import QuestionLine, question_lines, window_questions
from bot.reports.readings import ORGANISATION, Group
from bot.settings import Behaviour
from bot.surveys.service import questions_by_week
from bot.weeks import IsoWeek, now


@dataclass(frozen=True)
class SummaryWeek:
    week: str
    shown: bool  # False: nothing may be shown for this group that week
    responded: int | None = None
    response_rate: float | None = None
    capability: float | None = None
    workload: float | None = None
    net_hours: float | None = None
    hidden_hours: float | None = None
    open: bool = False  # the week is still open: `responded` is its progress so far


@dataclass(frozen=True)
class GroupSummary:
    label: str
    weeks: tuple[SummaryWeek, ...]
    sub_teams: tuple[str, ...]  # sub-teams the latest released week also shows
    alerts: tuple[str, ...]
    questions: tuple[QuestionLine, ...] = ()  # every closed question, from its latest week with a figure


def _week_line(week: WeekRelease, group: Group) -> SummaryWeek:
    taking_part = readings.participation(week, group)
    if taking_part is None:
        return SummaryWeek(week.week, shown=False)
    return SummaryWeek(
        week=week.week,
        shown=True,
        responded=int(taking_part.total),
        response_rate=taking_part.mean,
        capability=readings.mean(week, "capability", group),
        workload=readings.mean(week, "workload", group),
        net_hours=readings.net_hours(week, group),
        hidden_hours=readings.hidden_hours(week, group),
    )


def _open_line(so_far: Progress, group: Group) -> SummaryWeek:
    week = so_far.week
    counted = so_far.groups.get(group.path or "")
    if counted is None:
        return SummaryWeek(week, shown=False, open=True)
    sent, answered = counted
    return SummaryWeek(week, shown=True, responded=answered, response_rate=answered / sent if sent else None, open=True)


def team_summaries(
    db: Database,
    behaviour: Behaviour,
    key: bytes,
    user_id: str,
    team: str | None,
    weeks: int,
    *,
    at: dt.datetime | None = None,
    t: Translator = ENGLISH,
) -> list[GroupSummary]:
    """The caller's teams (or the named one) over the last `weeks` weeks; NotAllowed otherwise.
    Alerts, question texts and the organisation's name are in `t`'s language (the caller's)."""
    at = at or now()
    scope: Scope = summary_scope(db, user_id, team)
    min_size = behaviour.min_group_size
    history = released(db, key, weeks_before(IsoWeek.of(at.date()), weeks), min_size, at=at)
    closed = [week for week in history if week.released]
    # Each open week's progress is read once for all the caller's groups.
    open_weeks = {w.week: progress(db, key, w.week, min_size, at=at) for w in history if not w.released}
    groups = [Group.team(path) for path in scope.paths] or [Group.organisation()]
    asked = questions_by_week(db, [w.week for w in closed])
    bank = window_questions([*behaviour.questions.core, *behaviour.questions.rotating], asked)
    result = []
    for group in groups:
        lines = tuple(
            _week_line(week, group) if week.released else _open_line(open_weeks[week.week], group) for week in history
        )
        latest = closed[-1] if closed else None
        subs: tuple[str, ...] = ()
        if latest is not None and group.path is not None:
            subs = tuple(p for p in latest.labels(PARTICIPATION, TEAM) if p.startswith(group.path + "/"))
        alerts: tuple[str, ...] = ()
        if latest is not None and lines[history.index(latest)].shown:
            label = group.label if group.path else t.gettext(group.label)
            signals = [readings.signals(w, group) for w in closed]
            alerts = tuple(str(a) for a in evaluate(label, signals, behaviour.alerts, t))
        questions = tuple(line for line in question_lines(bank, closed, asked, group, t.lang) if line.week is not None)
        result.append(GroupSummary(group.label if group.path else t.gettext(ORGANISATION), lines, subs, alerts, questions))
    return result
