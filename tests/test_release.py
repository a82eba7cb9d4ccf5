"""The weekly release, through the real services on both databases: once, immutable, and safe.

Each leak found in the versions before the release has a test here built from its recipe; every
release these tests make is also judged by the person-level reference model (tests/reference.py),
which knows from the scenario who each released figure covers and checks that nothing the
figures determine together is about fewer than `min_group_size` people.
"""

from __future__ import annotations

import csv
import datetime as dt
import threading
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from freezegun import freeze_time
from sqlalchemy import inspect, select, update

from bot.db import Database
from bot.demo import MemoryMessenger
from bot.explainers.library import load_library
from bot.labour.service import log_hidden_work
from bot.models import CreditReport, HiddenWorkReport, Person, PulseRound, Release, ReleasedFigure, Response, Rollout, RolloutTeam, Team
from bot.privacy import week_pseudonym
from bot.release.families import HIDDEN, LEVEL, ORG, PARTICIPATION, TEAM
from bot.release.service import WeekRelease, final_at, release_week, released
from bot.reports import readings
from bot.reports.digest import build_digest
from bot.reports.export import export
from bot.reports.render import render_digest
from bot.reports.summary import team_summaries
from bot.rights import forget
from bot.settings import Behaviour, QuestionBank, load_behaviour
from bot.surveys.service import record_answer, record_comment, run_pulse_job, skip_week
from bot.weeks import UTC, IsoWeek
from tests import factories
from tests.reference import determined_small_group

KEY = b"release-test-pseudonym-key-0123456789"
W47, W48, W49 = IsoWeek.parse("2026-W47"), IsoWeek.parse("2026-W48"), IsoWeek.parse("2026-W49")
ASKED = ("capability", "workload", "clarity", "rework", "workaround", "upkeep")


def behaviour(min_size: int = 5) -> Behaviour:
    """Six of the built-in questions, all asked every week."""
    base = load_behaviour(None)
    bank = base.questions
    closed = [q.model_dump() for q in (*bank.core, *bank.rotating) if q.key in ASKED]
    free_text = [q.model_dump() for q in bank.core if q.kind == "text"]
    questions = QuestionBank.model_validate({"core": [*closed, *free_text]})
    return base.model_copy(update={"questions": questions, "min_group_size": min_size})


def wednesday(week: IsoWeek) -> dt.datetime:
    return dt.datetime.combine(week.day(3), dt.time(12, 0), tzinfo=UTC)


@dataclass
class Scenario:
    """What really happened, person by person: the reference model's truth."""

    db: Database
    rules: Behaviour
    team: dict[str, str] = field(default_factory=dict)
    level: dict[str, str | None] = field(default_factory=dict)
    answers: dict[str, dict[str, dict[str, int]]] = field(default_factory=dict)  # week → person → key → option
    hidden: dict[str, dict[str, dict[str, int]]] = field(default_factory=dict)  # week → person → category → minutes
    shared: dict[str, dict[str, dict[str, int]]] = field(default_factory=dict)  # … of which shared for credit
    rounds: dict[str, int] = field(default_factory=dict)

    @property
    def k(self) -> int:
        return self.rules.min_group_size

    def people(self, roster: Mapping[str, tuple[str, str | None]]) -> None:
        for user_id, (team, level) in roster.items():
            factories.person(self.db, user_id, team_path=team, level=level)
            self.team[user_id], self.level[user_id] = team, level

    def send(self, week: IsoWeek) -> int:
        run_pulse_job(self.db, MemoryMessenger(), self.rules, at=wednesday(week), force=True, week=week)
        with self.db.session() as session:
            self.rounds[str(week)] = session.scalars(select(PulseRound.id).where(PulseRound.week == str(week))).one()
        return self.rounds[str(week)]

    def answer(self, week: IsoWeek, user_id: str, choices: Mapping[str, int], *, at: dt.datetime | None = None) -> None:
        for key, option in choices.items():
            record_answer(self.db, KEY, user_id, self.rounds[str(week)], key, option, at=at or wednesday(week))
        self.answers.setdefault(str(week), {}).setdefault(user_id, {}).update(choices)

    def log(self, week: IsoWeek, user_id: str, minutes: int, category: str, *, share: bool = False) -> None:
        log_hidden_work(self.db, KEY, user_id, minutes=minutes, category=category, share_with_manager=share, at=wednesday(week))
        by_category = self.hidden.setdefault(str(week), {}).setdefault(user_id, {})
        by_category[category] = by_category.get(category, 0) + minutes
        if share:
            credited = self.shared.setdefault(str(week), {}).setdefault(user_id, {})
            credited[category] = credited.get(category, 0) + minutes

    def release(self, week: IsoWeek) -> WeekRelease:
        [found] = released(self.db, KEY, [week], self.k, at=final_at(str(week)))
        assert found.released
        return found

    def move(self, user_id: str, team_path: str) -> None:
        factories.team(self.db, team_path)
        with self.db.session() as session:
            team_id = session.scalars(select(Team.id).where(Team.path == team_path)).one()
            session.execute(update(Person).where(Person.slack_user_id == user_id).values(team_id=team_id))

    # ------------------------------------------------------------ the reference model

    def covered(self, week: IsoWeek, measure: str, scope: str, label: str, *, snapshot: Mapping[str, str] | None = None) -> frozenset:
        """The unknowns a released figure sums, from the truth (`snapshot`: teams in that week)."""
        teams = snapshot or self.team

        def inside(user_id: str) -> bool:
            if scope == ORG:
                return True
            if scope == LEVEL:
                return self.level[user_id] == label
            return teams[user_id] == label or teams[user_id].startswith(label + "/")

        if measure == PARTICIPATION:
            return frozenset(u for u in self.team if inside(u))
        if measure == HIDDEN or measure.startswith(HIDDEN + ":"):
            wanted = measure.partition(":")[2]
            return frozenset(
                (u, c) for u, logged in self.hidden.get(str(week), {}).items() for c in logged
                if inside(u) and (not wanted or c == wanted)
            )
        key = measure.removeprefix("q:")
        return frozenset(u for u, given in self.answers.get(str(week), {}).items() if key in given and inside(u))

    def judge(self, week: IsoWeek, release: WeekRelease, *, snapshot: Mapping[str, str] | None = None) -> None:
        """Every figure covers as many people as the truth says, and nothing small is determined."""
        families: dict[str, list[frozenset]] = {}
        for (measure, scope, label), figure in release.figures.items():
            if measure.startswith(("reach:", "explainer:")):
                continue
            unknowns = self.covered(week, measure, scope, label, snapshot=snapshot)
            assert figure.people == len({u[0] if isinstance(u, tuple) else u for u in unknowns}), (measure, scope, label)
            family = HIDDEN if measure.startswith(HIDDEN) else measure
            families.setdefault(family, []).append(unknowns)
            if family == HIDDEN:
                # A manager knows the reports shared with them: only the rest is unknown to them.
                families.setdefault("hidden, shared reports known", []).append(
                    frozenset(u for u in unknowns if self.anonymous(week, *u))
                )
        for family, rows in families.items():
            assert determined_small_group(rows, self.k) is None, family

    def anonymous(self, week: IsoWeek, user_id: str, category: str) -> bool:
        """Whether some of the person's minutes in the category were logged without their name."""
        logged = self.hidden.get(str(week), {}).get(user_id, {}).get(category, 0)
        return logged > self.shared.get(str(week), {}).get(user_id, {}).get(category, 0)


def everyone(scenario: Scenario, week: IsoWeek, choices: Mapping[str, int], who: Iterable[str] | None = None) -> None:
    for user_id in who if who is not None else scenario.team:
        scenario.answer(week, user_id, choices)


def stored(db: Database) -> list[tuple]:
    with db.session() as session:
        return sorted(session.execute(select(ReleasedFigure.week, ReleasedFigure.measure, ReleasedFigure.scope,
                                             ReleasedFigure.label, ReleasedFigure.people, ReleasedFigure.total)).all())


@pytest.fixture
def org(db: Database) -> Scenario:
    return Scenario(db, behaviour())


def team_of(prefix: str, team: str, size: int, level: str = "experienced") -> dict[str, tuple[str, str | None]]:
    return {f"U{prefix}{n}": (team, level) for n in range(size)}


# ---------------------------------------------------------------- the eleven leaks, one test each


def test_1_a_team_all_of_one_level_never_turns_a_level_figure_into_a_subtraction(org: Scenario) -> None:
    # Support: five entry-level people. Sales: one entry-level person among five experienced.
    org.people({**team_of("S", "Support", 5, "entry"), **team_of("E", "Sales", 5), "ULONE": ("Sales", "entry")})
    org.send(W48)
    everyone(org, W48, {"clarity": 3})
    org.answer(W48, "ULONE", {"clarity": 0})
    release = org.release(W48)
    org.judge(W48, release)
    shown = {(scope, label) for (m, scope, label) in release.figures if m == "q:clarity"}
    # The level figure and both teams' figures would give the lone person's answer: one is withheld.
    assert not {(LEVEL, "entry"), (TEAM, "Support"), (TEAM, "Sales")} <= shown
    assert (ORG, "") in shown


def test_2_a_rollout_over_a_tiny_team_adds_no_figure_and_names_what_it_left_out(org: Scenario, db: Database) -> None:
    org.people({**team_of("B", "Big", 6), "UTINY": ("Tiny", "entry"), **team_of("O", "Other", 6)})
    org.send(W48)
    everyone(org, W48, {"capability": 2})
    org.answer(W48, "UTINY", {"capability": 4})
    before = stored(db)
    release = org.release(W48)
    figures = stored(db)
    with db.session() as session:
        rollout = Rollout(name="Probe", go_live=W48.monday, created_at=wednesday(W47))
        session.add(rollout)
        session.flush()
        for path in ("Big", "Tiny"):
            team_id = session.scalars(select(Team.id).where(Team.path == path)).one()
            session.add(RolloutTeam(rollout_id=rollout.id, team_id=team_id))
    digest, _ = build_digest(db, org.rules, load_library(), W48, KEY, at=final_at("2026-W48"))
    assert before == [] and stored(db) == figures  # adding a rollout released nothing new
    [line] = digest.rollouts
    assert line.left_out == ("Tiny",)
    probe = readings.Group("Probe", paths=("Big", "Tiny"))
    big = release.team("q:capability", "Big")
    assert big is not None and readings.question(release, "capability", probe) == big
    assert release.team("q:capability", "Tiny") is None
    org.judge(W48, release)


def test_3_the_open_week_shows_the_same_progress_before_and_after_a_click(org: Scenario, db: Database) -> None:
    org.people({**team_of("A", "Sales", 6), "UMGR": ("Sales", "lead")})
    with db.session() as session:
        sales = session.scalars(select(Team.id).where(Team.path == "Sales")).one()
        manager = session.scalars(select(Person.id).where(Person.slack_user_id == "UMGR")).one()
        from bot.models import Manager

        session.add(Manager(person_id=manager, team_id=sales))
    org.send(W48)
    everyone(org, W48, {"capability": 3}, who=["UA0", "UA1", "UA2"])
    morning = wednesday(W48) + dt.timedelta(hours=1)
    first = team_summaries(db, org.rules, KEY, "UMGR", None, 1, at=morning)
    org.answer(W48, "UA3", {"capability": 4}, at=morning + dt.timedelta(minutes=5))
    skip_week(db, KEY, "UA4", org.rounds["2026-W48"], at=morning + dt.timedelta(minutes=6))
    again = team_summaries(db, org.rules, KEY, "UMGR", None, 1, at=morning + dt.timedelta(hours=2))
    assert again == first
    [line] = first[0].weeks
    assert (line.open, line.responded, line.capability) == (True, 3, None)
    # The next day's count is taken anew, and still shows no score for the open week.
    [line] = team_summaries(db, org.rules, KEY, "UMGR", None, 1, at=morning + dt.timedelta(days=1))[0].weeks
    assert (line.open, line.responded, line.capability) == (True, 4, None)


def test_4_forget_after_the_release_changes_no_output(org: Scenario, db: Database, tmp_path: Path) -> None:
    org.people({**team_of("A", "Sales", 6), **team_of("L", "Legal", 5)})
    org.send(W48)
    everyone(org, W48, {"capability": 3, "workload": 2})
    org.answer(W48, "UA0", {"capability": 0})
    org.log(W48, "UA0", 90, "validation")

    def outputs() -> tuple[str, ...]:
        texts = []
        for kind in ("participation", "scores", "hidden-work"):
            out = tmp_path / f"{kind}.csv"
            export(db, org.rules, KEY, kind, out, until=W48, weeks=4)
            texts.append(out.read_text())
        digest, _ = build_digest(db, org.rules, load_library(), W48, KEY, at=final_at("2026-W49"))
        return (*texts, render_digest(digest))

    org.release(W48)
    before = outputs()
    gone = forget(db, KEY, "UA0")
    assert gone.responses == 1 and gone.hidden_work == 1
    assert outputs() == before


def test_5_one_questions_answerers_never_leave_one_person_between_groups(org: Scenario) -> None:
    # Everyone answers capability; rework is answered by five in A, five in B and one in C.
    org.people({**team_of("A", "A", 6), **team_of("B", "B", 6), **team_of("C", "C", 6)})
    org.send(W48)
    everyone(org, W48, {"capability": 3})
    everyone(org, W48, {"rework": 2}, who=[*[f"UA{n}" for n in range(5)], *[f"UB{n}" for n in range(5)], "UC0"])
    release = org.release(W48)
    org.judge(W48, release)
    shown = {label for (m, scope, label) in release.figures if m == "q:rework" and scope == TEAM}
    # A's rework would leave B's five and C's one: B's figure then isolates C's lone answer.
    assert shown == {"A"} and release.get("q:rework") is not None


def test_6_a_dump_links_no_answer_to_a_person(org: Scenario, db: Database) -> None:
    org.people(team_of("A", "Sales", 6))
    org.send(W48)
    everyone(org, W48, {"capability": 3})
    org.log(W48, "UA0", 30, "validation")
    org.log(W48, "UA0", 45, "cleanup", share=True)
    org.release(W48)
    columns = {table: {c["name"] for c in inspect(db.engine).get_columns(table)}
               for table in ("responses", "hidden_work_reports", "explainer_feedback", "deliveries")}
    assert not {"team_id", "level", "updated_at", "created_at", "skipped"} & set().union(*columns.values())
    with db.session() as session:
        anonymous = session.scalars(select(HiddenWorkReport.pseudonym)).all()
        credit = session.scalars(select(CreditReport.person_id)).all()
        pseudonyms = set(session.scalars(select(Response.pseudonym)))
    # The report shared for credit is kept by name only; the anonymous one, like every answer, is
    # under the week's pseudonym, which appears nowhere beside a name.
    assert anonymous == [week_pseudonym(KEY, "2026-W48", "UA0")] and len(credit) == 1
    assert pseudonyms == {week_pseudonym(KEY, "2026-W48", u) for u in org.team}
    assert not pseudonyms & {week_pseudonym(KEY, "2026-W47", u) for u in org.team}  # nor next to another week's
    # No stored figure is about fewer than k people, nor lets a smaller group be worked out.
    with db.session() as session:
        assert min(session.scalars(select(ReleasedFigure.people))) >= org.k


def test_7_someone_moved_mid_week_counts_once_where_the_week_found_them(org: Scenario) -> None:
    org.people({**team_of("A", "A", 6), **team_of("B", "B", 6)})
    org.send(W48)
    for user_id in [*[f"UA{n}" for n in range(5)], *[f"UB{n}" for n in range(5)]]:
        org.log(W48, user_id, 30, "validation")
    snapshot = dict(org.team)
    org.move("UA0", "B")
    org.log(W48, "UA0", 60, "prompting")  # after the move, still the week of the A snapshot
    release = org.release(W48)
    org.judge(W48, release, snapshot=snapshot)
    hidden = release.get(HIDDEN)
    assert hidden is not None and hidden.people == 10  # distinct people, not 11
    team_a = release.team(HIDDEN, "A")
    assert team_a is not None and (team_a.people, team_a.total) == (5, 5 * 30 + 60)


def test_8_a_change_from_last_week_is_the_difference_of_two_released_figures(org: Scenario, db: Database) -> None:
    org.people({**team_of("A", "Sales", 6), **team_of("L", "Legal", 6)})
    org.send(W47)
    everyone(org, W47, {"capability": 2})
    org.send(W48)
    everyone(org, W48, {"capability": 3})
    digest, _ = build_digest(db, org.rules, load_library(), W48, KEY, at=final_at("2026-W48"))
    [capability] = [s for s in digest.scores if s.key == "capability"]
    last, this = org.release(W47).get("q:capability"), org.release(W48).get("q:capability")
    assert last is not None and this is not None
    assert capability.change == pytest.approx(this.mean - last.mean) == pytest.approx(1.0)
    assert capability.series[-2:] == (pytest.approx(last.mean), pytest.approx(this.mean))


def test_10_a_digest_of_too_few_people_shows_no_count_and_no_rate(db: Database) -> None:
    few = Scenario(db, behaviour())
    few.people(team_of("A", "Sales", 4))
    few.send(W48)
    everyone(few, W48, {"capability": 3}, who=["UA0", "UA1"])
    digest, chart = build_digest(db, few.rules, load_library(), W48, KEY, at=final_at("2026-W48"))
    text = render_digest(digest)
    assert (digest.sent, digest.responded, digest.response_rate) == (None, None, None)
    assert "Participation: not shown: fewer than 5 people were asked" in text
    assert "%" not in text.split("Alerts")[0] and chart is None


def test_10_a_digest_with_too_few_answers_shows_participation_and_no_score(db: Database) -> None:
    quiet = Scenario(db, behaviour())
    quiet.people(team_of("A", "Sales", 10))
    quiet.send(W48)
    everyone(quiet, W48, {"capability": 3}, who=["UA0", "UA1", "UA2"])
    digest, _ = build_digest(db, quiet.rules, load_library(), W48, KEY, at=final_at("2026-W48"))
    text = render_digest(digest)
    assert "3 of 10 answered · 30%" in text and digest.suppressed and "Capability" not in text


def test_11_a_category_logged_by_one_person_is_not_split_out(org: Scenario) -> None:
    org.people(team_of("A", "Sales", 6))
    org.send(W48)
    for n in range(5):
        org.log(W48, f"UA{n}", 30, "validation")
    org.log(W48, "UA0", 240, "cleanup")  # the only cleanup: their hours, if split out
    release = org.release(W48)
    org.judge(W48, release)
    assert release.get("hidden:cleanup") is None and release.get("hidden:validation") is None
    hidden = release.get(HIDDEN)
    assert hidden is not None and (hidden.people, hidden.total) == (5, 5 * 30 + 240)


def test_11_categories_are_split_out_when_each_holds_enough_people(org: Scenario) -> None:
    org.people(team_of("A", "Sales", 12))
    org.send(W48)
    for n in range(12):
        org.log(W48, f"UA{n}", 30, "validation" if n < 6 else "cleanup")
    release = org.release(W48)
    org.judge(W48, release)
    assert release.get("hidden:validation") is not None and release.get("hidden:cleanup") is not None


def test_12_colleagues_sharing_for_credit_never_leave_a_colleagues_anonymous_minutes_exposed(org: Scenario) -> None:
    # Sales' manager sees four reports by name; Sales' total less them would be UA4's own.
    org.people({**team_of("A", "Sales", 5), **team_of("B", "Legal", 5)})
    org.send(W48)
    for n in range(4):
        org.log(W48, f"UA{n}", 60, "validation", share=True)
    org.log(W48, "UA4", 45, "validation")
    for n in range(5):
        org.log(W48, f"UB{n}", 30, "validation")
    release = org.release(W48)
    org.judge(W48, release)
    assert release.team(HIDDEN, "Sales") is None
    # Legal's total beside the organisation's would leave Sales' too: it goes as well.
    assert release.team(HIDDEN, "Legal") is None
    hidden = release.get(HIDDEN)
    assert hidden is not None and (hidden.people, hidden.total) == (10, 4 * 60 + 45 + 5 * 30)


def test_12_a_team_whose_reporters_also_log_anonymously_keeps_its_figure(org: Scenario) -> None:
    org.people({**team_of("A", "Sales", 5), **team_of("B", "Legal", 5)})
    org.send(W48)
    for n in range(5):
        org.log(W48, f"UA{n}", 60, "validation", share=n < 4)
        org.log(W48, f"UA{n}", 15, "validation")
        org.log(W48, f"UB{n}", 30, "validation")
    release = org.release(W48)
    org.judge(W48, release)
    sales = release.team(HIDDEN, "Sales")
    assert sales is not None and (sales.people, sales.total) == (5, 5 * 60 + 5 * 15)
    assert release.team(HIDDEN, "Legal") is not None


# ---------------------------------------------------------------- once, and never again


def test_a_week_is_released_once_and_readers_trigger_it(org: Scenario, db: Database) -> None:
    org.people(team_of("A", "Sales", 6))
    org.send(W48)
    everyone(org, W48, {"capability": 3})
    [open_week] = released(db, KEY, [W48], org.k, at=final_at("2026-W48") - dt.timedelta(minutes=1))
    assert not open_week.released and stored(db) == []
    with pytest.raises(ValueError, match="still open"):
        release_week(db, KEY, "2026-W48", org.k, at=final_at("2026-W48") - dt.timedelta(minutes=1))
    first = org.release(W48)
    assert release_week(db, KEY, "2026-W48", org.k, at=final_at("2026-W49")) is False
    assert org.release(W48) == first


def test_a_roster_move_or_a_new_threshold_after_the_release_changes_nothing(org: Scenario, db: Database) -> None:
    org.people({**team_of("A", "Sales", 6), **team_of("L", "Legal", 6)})
    org.send(W48)
    everyone(org, W48, {"capability": 3})
    first = org.release(W48)
    org.move("UA0", "Legal")
    lower = Scenario(db, behaviour(min_size=3))
    [again] = released(db, KEY, [W48], lower.k, at=final_at("2026-W49"))
    assert again == first and again.min_group_size == 5
    org.send(W49)
    [later] = released(db, KEY, [W49], lower.k, at=final_at("2026-W49"))
    assert later.min_group_size == 3
    legal = later.team(PARTICIPATION, "Legal")
    assert legal is not None and legal.people == 7  # next week's snapshot follows the move


def test_two_processes_releasing_one_week_release_it_once(org: Scenario, db: Database) -> None:
    org.people(team_of("A", "Sales", 6))
    org.send(W48)
    everyone(org, W48, {"capability": 3})
    results: list[bool] = []
    errors: list[BaseException] = []

    def release() -> None:
        try:
            results.append(release_week(db, KEY, "2026-W48", org.k, at=final_at("2026-W48")))
        except BaseException as error:  # noqa: BLE001 — reported below
            errors.append(error)

    threads = [threading.Thread(target=release) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == [] and sorted(results) == [False, False, False, True]
    with db.session() as session:
        assert len(session.scalars(select(Release.week)).all()) == 1
    assert len(stored(db)) == len(set(stored(db)))


def test_a_team_is_not_exported_when_the_organisation_less_it_is_a_team_of_two(
    org: Scenario, db: Database, tmp_path: Path
) -> None:
    org.people({**team_of("A", "Sales", 6), "UB0": ("Board", "lead"), "UB1": ("Board", "lead")})
    org.send(W48)
    everyone(org, W48, {"capability": 3})
    out = tmp_path / "p.csv"
    export(db, org.rules, KEY, "participation", out, until=W48, weeks=1)
    rows = list(csv.DictReader(out.open()))
    # Sales (6) beside the organisation (8) would give Board's two answers away.
    assert [(r["group"], r["sent"], r["answered"]) for r in rows] == [("Organisation", "8", "8")]
    org.judge(W48, org.release(W48))


# ---------------------------------------------------------------- a dump without the key


def empty(db: Database) -> None:
    """Every table emptied (ids start over), as for a database nobody has used."""
    from sqlalchemy import text

    from bot.db import Base

    tables = list(reversed(Base.metadata.sorted_tables))
    with db.engine.begin() as connection:
        if connection.dialect.name == "postgresql":
            connection.execute(text(f"TRUNCATE {', '.join(chr(34) + t.name + chr(34) for t in tables)} RESTART IDENTITY CASCADE"))
        else:
            for table in tables:
                connection.execute(table.delete())


def dump(db: Database) -> dict[str, list[str]]:
    """Every row of every table as a dump holder sees it, up to what may differ between two
    dumps of the same facts: random ids, sealed values and the names pseudonyms go by."""
    from bot.db import Base

    hidden = {"sealed"}
    renamed = {"pseudonym", "id"}
    out: dict[str, list[str]] = {}
    with db.engine.connect() as connection:
        for table in Base.metadata.sorted_tables:
            random_ids = table.c.id.type.python_type is str if "id" in table.c else False
            rows = []
            for row in connection.execute(select(table)).mappings():
                shown = {
                    name: ("*" if name in hidden or (name in renamed and (name != "id" or random_ids)) else value)
                    for name, value in row.items()
                }
                rows.append(repr(sorted(shown.items())))
            out[table.name] = sorted(rows)
    return out


def swapped_history(db: Database, first: str, second: str) -> dict[str, list[str]]:
    """Six people answer a week; `first` answers 1 early, comments and logs two hours, `second`
    answers 5 later, comments and logs half an hour. Released, then dumped."""
    org = Scenario(db, behaviour())
    org.people(team_of("A", "Sales", 6))
    org.send(W48)
    early, late = wednesday(W48) + dt.timedelta(hours=1), wednesday(W48) + dt.timedelta(hours=5)
    org.answer(W48, first, {"capability": 0, "workload": 1}, at=early)
    for user_id in ("UA2", "UA3", "UA4", "UA5"):
        org.answer(W48, user_id, {"capability": 2, "workload": 2}, at=early + dt.timedelta(hours=2))
    org.answer(W48, second, {"capability": 4, "workload": 3}, at=late)
    record_comment(db, KEY, first, org.rounds[str(W48)], "Too much checking.", at=early)
    record_comment(db, KEY, second, org.rounds[str(W48)], "Fine by me.", at=late)
    log_hidden_work(db, KEY, first, minutes=120, category="validation", at=early)
    log_hidden_work(db, KEY, second, minutes=30, category="validation", at=late)
    org.release(W48)
    return dump(db)


def test_two_histories_that_swap_two_peoples_answers_and_times_leave_equal_dumps(db: Database) -> None:
    # The clock the fan-out stamps its claims with is the same in both; the answers' times are not.
    with freeze_time("2026-11-25 12:00"):
        one = swapped_history(db, "UA0", "UA1")
    empty(db)
    with freeze_time("2026-11-25 12:00"):
        other = swapped_history(db, "UA1", "UA0")
    assert one == other
    assert one["responses"] and one["released_figures"]  # the dump is not empty: there was something to swap
    assert len(one["released_comments"]) == 2


def test_a_release_with_the_wrong_key_stops_in_one_line_and_releases_nothing(
    org: Scenario, db: Database, database_url: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from bot.cli import main

    org.people(team_of("A", "Sales", 6))
    org.send(W48)
    everyone(org, W48, {"capability": 3})
    monkeypatch.setenv("DATABASE_URL", database_url)
    monkeypatch.setenv("PULSE_PSEUDONYM_KEY", "not-the-key-the-answers-were-sealed-with")
    with freeze_time("2026-11-30 15:00"), pytest.raises(SystemExit) as exit_info:
        main(["digest", "show", "--week", "2026-W48"])
    err = capsys.readouterr().err
    assert exit_info.value.code == 1 and err.count("\n") == 1
    assert "not the one the stored answers were sealed with" in err and "Traceback" not in err
    assert stored(db) == []
    monkeypatch.setenv("PULSE_PSEUDONYM_KEY", KEY.decode())
    with freeze_time("2026-11-30 15:00"), pytest.raises(SystemExit) as exit_info:
        main(["digest", "show", "--week", "2026-W48"])
    assert exit_info.value.code == 0 and "6 of 6 answered" in capsys.readouterr().out
