"""Raw per-team and per-level figures, computed in SQL, checked against sums done by hand.

The organisation, its answers and its hidden work in 2026-W48 (six questions, asked every week):

  team            person  level        capability  saved  upkeep  clarity  rework     workaround
  Sales/EMEA      e1      entry        5           3 h    1.5 h   2        Often      Yes  (+ a comment)
                  e2      experienced  4 (was 1)   1.5 h  0.5 h   4        Rarely     No
                  e3      experienced  2           6 h    3 h     –        Always     –
  Sales/Americas  a1      entry        3           –      –       5        Sometimes  Yes
                  a2      experienced  (sent, never answered)
  Legal           l1      lead         4          (then moves to Sales/Americas)
                  l2      lead         (skips the week)

  hidden work: e1 45 min validation + 30 min prompting, e2 60 min validation, a1 20 min cleanup,
  l1 15 min validation (while still in Legal).

In 2026-W49 capability's favourable mark is lowered to 3 and l1, now in Sales/Americas, answers 3.
"""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select, update

from bot.db import Database
from bot.demo import MemoryMessenger
from bot.labour.service import log_hidden_work
from bot.models import Delivery, Person, PulseRound, Team
from bot.reports.aggregates import (
    GroupFigures,
    LevelWeek,
    QuestionTally,
    TeamWeek,
    combine,
    level_weeks,
    team_weeks,
)
from bot.reports.weekly import week_overview
from bot.settings import Behaviour, QuestionBank, load_behaviour
from bot.surveys.service import record_answer, record_comment, run_pulse_job, skip_week
from bot.weeks import UTC, IsoWeek
from tests import factories

KEY = b"aggregates-test-pseudonym-key-0123"
W48, W49 = IsoWeek.parse("2026-W48"), IsoWeek.parse("2026-W49")
EMEA, AMERICAS, LEGAL = "Sales/EMEA", "Sales/Americas", "Legal"
PEOPLE = {
    "UE1": (EMEA, "entry"),
    "UE2": (EMEA, "experienced"),
    "UE3": (EMEA, "experienced"),
    "UA1": (AMERICAS, "entry"),
    "UA2": (AMERICAS, "experienced"),
    "UL1": (LEGAL, "lead"),
    "UL2": (LEGAL, "lead"),
}
# Option indexes: scales 1–5 are index + 1; hours None 0, <1 h 0.5, 1–2 h 1.5, 2–4 h 3, 4–8 h 6;
# rework 0 never … 4 always; workaround 0 no, 1 yes.
ASKED = ("capability", "time_saved", "upkeep", "clarity", "rework", "workaround")
W48_ANSWERS: dict[str, dict[str, int]] = {
    "UE1": {"capability": 4, "time_saved": 3, "upkeep": 2, "clarity": 1, "rework": 3, "workaround": 1},
    "UE2": {"capability": 3, "time_saved": 2, "upkeep": 1, "clarity": 3, "rework": 1, "workaround": 0},
    "UE3": {"capability": 1, "time_saved": 4, "upkeep": 3, "rework": 4},
    "UA1": {"capability": 2, "clarity": 4, "rework": 2, "workaround": 1},
    "UL1": {"capability": 3},
}


def every_question_every_week(capability_mark: float = 4) -> Behaviour:
    """Six of the built-in questions (a week asks at most six), all core, so every round asks them."""
    behaviour = load_behaviour(None)
    bank = behaviour.questions
    closed = [q.model_dump() for q in (*bank.core, *bank.rotating) if q.key in ASKED]
    for question in closed:
        if question["key"] == "capability":
            question["favourable_at_least"] = capability_mark
    free_text = [q.model_dump() for q in bank.core if q.kind == "text"]
    questions = QuestionBank.model_validate({"core": [*closed, *free_text]})
    return behaviour.model_copy(update={"questions": questions})


def wednesday(week: IsoWeek) -> dt.datetime:
    return dt.datetime.combine(week.day(3), dt.time(12, 0), tzinfo=UTC)


def send_round(db: Database, behaviour: Behaviour, week: IsoWeek) -> int:
    run_pulse_job(db, MemoryMessenger(), behaviour, at=wednesday(week), force=True, week=week)
    with db.session() as session:
        return session.scalars(select(PulseRound.id).where(PulseRound.week == str(week))).one()


def answer(db: Database, user_id: str, round_id: int, choices: dict[str, int], at: dt.datetime) -> None:
    for key, option in choices.items():
        record_answer(db, KEY, user_id, round_id, key, option, at=at)


def move(db: Database, user_id: str, team_path: str) -> None:
    """What a roster import does when someone changes team."""
    with db.session() as session:
        team_id = session.scalars(select(Team.id).where(Team.path == team_path)).one()
        session.execute(update(Person).where(Person.slack_user_id == user_id).values(team_id=team_id))


@pytest.fixture
def teams(db: Database) -> dict[str, int]:
    for user_id, (team_path, level) in PEOPLE.items():
        factories.person(db, user_id, team_path=team_path, level=level)
    return {path: factories.team(db, path) for path in ("Sales", EMEA, AMERICAS, LEGAL)}


@pytest.fixture
def two_weeks(db: Database, teams: dict[str, int]) -> dict[str, int]:
    at = wednesday(W48)
    round_id = send_round(db, every_question_every_week(), W48)
    record_answer(db, KEY, "UE2", round_id, "capability", 0, at=at)  # changed below: one answer stays
    for user_id, choices in W48_ANSWERS.items():
        answer(db, user_id, round_id, choices, at + dt.timedelta(minutes=1))
    record_comment(db, KEY, "UE1", round_id, "The forecast tool double-counts returns.", at=at)
    skip_week(db, KEY, "UL2", round_id, at=at)
    for user_id, minutes, category in [
        ("UE1", 45, "validation"),
        ("UE1", 30, "prompting"),
        ("UE2", 60, "validation"),
        ("UA1", 20, "cleanup"),
        ("UL1", 15, "validation"),
    ]:
        log_hidden_work(db, KEY, user_id, minutes=minutes, category=category, at=at)

    move(db, "UL1", AMERICAS)
    round_49 = send_round(db, every_question_every_week(capability_mark=3), W49)
    answer(db, "UL1", round_49, {"capability": 2}, wednesday(W49))
    return teams


def row(rows: list[TeamWeek], week: IsoWeek, team_id: int | None) -> TeamWeek:
    return next(r for r in rows if r.week == str(week) and r.team_id == team_id)


def level_row(rows: list[LevelWeek], week: IsoWeek, level: str | None) -> LevelWeek:
    return next(r for r in rows if r.week == str(week) and r.level == level)


# ---------------------------------------------------------------- per team


def test_each_team_gets_its_own_raw_tallies(db: Database, two_weeks: dict[str, int]) -> None:
    emea = row(team_weeks(db, [str(W48)]), W48, two_weeks[EMEA])

    assert (emea.sent, emea.responded, emea.skipped) == (3, 3, 0)
    assert emea.tallies == {
        "capability": QuestionTally(count=3, total=11.0, favourable=2),  # 5, 4, 2 (e2's 1 was changed)
        "time_saved": QuestionTally(count=3, total=10.5, favourable=None),  # 3 + 1.5 + 6
        "upkeep": QuestionTally(count=3, total=5.0, favourable=None),  # 1.5 + 0.5 + 3
        "clarity": QuestionTally(count=2, total=6.0, favourable=1),  # 2, 4
        "rework": QuestionTally(count=3, total=8.0, favourable=None, flagged=2),  # often, rarely, always
        "workaround": QuestionTally(count=2, total=1.0, favourable=None, flagged=1),  # yes, no
    }
    assert emea.hidden_minutes == {"validation": 105, "prompting": 30}
    assert emea.hidden_reporters == 2


def test_the_free_text_comment_is_no_tally(db: Database, two_weeks: dict[str, int]) -> None:
    rows = team_weeks(db, [str(W48)])

    assert all("comment" not in r.tallies for r in rows)


def test_a_team_that_was_sent_but_barely_answered(db: Database, two_weeks: dict[str, int]) -> None:
    americas = row(team_weeks(db, [str(W48)]), W48, two_weeks[AMERICAS])

    assert (americas.sent, americas.responded, americas.skipped) == (2, 1, 0)
    assert americas.tallies["capability"] == QuestionTally(count=1, total=3.0, favourable=0)
    assert americas.tallies["rework"] == QuestionTally(count=1, total=2.0, favourable=None, flagged=0)
    assert americas.hidden_minutes == {"cleanup": 20}
    assert americas.hidden_reporters == 1


def test_a_skip_counts_as_skipped_not_as_answered(db: Database, two_weeks: dict[str, int]) -> None:
    legal = row(team_weeks(db, [str(W48)]), W48, two_weeks[LEGAL])

    assert (legal.sent, legal.responded, legal.skipped) == (2, 1, 1)
    assert legal.tallies == {"capability": QuestionTally(count=1, total=4.0, favourable=1)}


def test_answers_stay_with_the_team_at_the_time_after_a_move(db: Database, two_weeks: dict[str, int]) -> None:
    rows = team_weeks(db, [str(W48), str(W49)])

    # l1 answered, was sent and logged hidden work in Legal in W48, then moved to Americas.
    legal_48 = row(rows, W48, two_weeks[LEGAL])
    assert (legal_48.sent, legal_48.responded) == (2, 1)
    assert legal_48.hidden_minutes == {"validation": 15}
    americas_48 = row(rows, W48, two_weeks[AMERICAS])
    assert (americas_48.sent, americas_48.responded) == (2, 1)
    # In W49 the pulse reached l1 in Americas, and the answer counts there.
    americas_49 = row(rows, W49, two_weeks[AMERICAS])
    assert (americas_49.sent, americas_49.responded) == (3, 1)
    assert row(rows, W49, two_weeks[LEGAL]).sent == 1
    assert row(rows, W49, two_weeks[EMEA]).sent == 3


def test_each_week_uses_its_own_rounds_favourable_mark(db: Database, two_weeks: dict[str, int]) -> None:
    rows = team_weeks(db, [str(W48), str(W49)])

    # W49 lowered the mark to 3: l1's 3 is favourable there; W48's 3 (a1's) still is not.
    assert row(rows, W49, two_weeks[AMERICAS]).tallies["capability"] == QuestionTally(1, 3.0, favourable=1)
    assert row(rows, W48, two_weeks[AMERICAS]).tallies["capability"] == QuestionTally(1, 3.0, favourable=0)


def test_only_the_weeks_asked_for_are_read(db: Database, two_weeks: dict[str, int]) -> None:
    assert {r.week for r in team_weeks(db, [str(W49)])} == {str(W49)}
    assert team_weeks(db, ["2026-W40"]) == []
    assert team_weeks(db, []) == []


def test_rows_are_one_per_week_and_team_with_data_in_order(db: Database, two_weeks: dict[str, int]) -> None:
    rows = team_weeks(db, [str(W49), str(W48)])

    ids = two_weeks
    assert [(r.week, r.team_id) for r in rows] == [
        (str(W48), ids[EMEA]),
        (str(W48), ids[AMERICAS]),
        (str(W48), ids[LEGAL]),
        (str(W49), ids[EMEA]),
        (str(W49), ids[AMERICAS]),
        (str(W49), ids[LEGAL]),
    ]


def test_hidden_work_in_a_week_without_a_round_is_still_counted(db: Database, teams: dict[str, int]) -> None:
    log_hidden_work(db, KEY, "UA2", minutes=90, category="exceptions", at=wednesday(W48))

    [only] = team_weeks(db, [str(W48)])

    assert only == TeamWeek(str(W48), teams[AMERICAS], hidden_minutes={"exceptions": 90}, hidden_reporters=1)


def test_a_failed_delivery_is_not_sent(db: Database, two_weeks: dict[str, int]) -> None:
    with db.session() as session:
        person_id = session.scalars(select(Person.id).where(Person.slack_user_id == "UA2")).one()
        session.execute(
            update(Delivery).where(Delivery.person_id == person_id).values(status="failed", message_ts=None)
        )

    assert row(team_weeks(db, [str(W48)]), W48, two_weeks[AMERICAS]).sent == 1


# ---------------------------------------------------------------- combined


def test_combine_sums_the_teams_into_the_organisation(db: Database, two_weeks: dict[str, int]) -> None:
    total = combine(team_weeks(db, [str(W48)]))

    assert (total.sent, total.responded, total.skipped) == (7, 5, 1)
    assert total.response_rate() == pytest.approx(5 / 7)
    assert total.count("capability") == 5
    assert total.mean("capability") == pytest.approx(18 / 5)  # 5 + 4 + 2 + 3 + 4
    assert total.favourable_share("capability") == pytest.approx(3 / 5)
    assert total.mean("clarity") == pytest.approx(11 / 3)  # 2 + 4 + 5
    assert total.favourable_share("clarity") == pytest.approx(2 / 3)
    assert total.favourable_share("time_saved") is None  # hours have no favourable mark
    assert total.net_hours() == pytest.approx(10.5 / 3 - 5.0 / 3)  # 3.5 − 1.67 = 1.83 h
    assert total.rework_rate() == pytest.approx(2 / 4)  # often, rarely, always, sometimes
    assert total.workaround_rate() == pytest.approx(2 / 3)  # yes, no, yes
    assert total.rate("capability") is None
    assert total.mean("recognition") is None and total.count("recognition") == 0
    assert total.hidden_reporters == total.respondents_hidden_work == 4
    assert total.hidden_minutes == {"validation": 120, "prompting": 30, "cleanup": 20}
    assert total.hidden_hours() == pytest.approx(170 / 60)
    assert total.hidden_hours("validation") == pytest.approx(2.0)
    assert total.hidden_hours("prompting") == pytest.approx(0.5)
    assert total.hidden_hours("exceptions") == 0.0
    assert [category for category, _ in total.hidden_hours_by_category()] == ["validation", "prompting", "cleanup"]


def test_combine_a_subtree(db: Database, two_weeks: dict[str, int]) -> None:
    rows = team_weeks(db, [str(W48)])
    sales = combine(r for r in rows if r.team_id in {two_weeks[EMEA], two_weeks[AMERICAS]})

    assert (sales.sent, sales.responded) == (5, 4)
    assert sales.mean("capability") == pytest.approx(14 / 4)
    assert sales.favourable_share("capability") == pytest.approx(2 / 4)
    assert sales.rework_rate() == pytest.approx(2 / 4)
    assert sales.workaround_rate() == pytest.approx(2 / 3)
    assert sales.hidden_hours() == pytest.approx(155 / 60)


def test_combine_of_nothing_is_empty(db: Database) -> None:
    empty = combine([])

    assert empty == GroupFigures(sent=0, responded=0, tallies={}, hidden_minutes={}, hidden_reporters=0)
    assert empty.mean("capability") is None and empty.net_hours() is None and empty.rework_rate() is None
    assert empty.hidden_hours() is None and empty.response_rate() is None


def test_net_hours_needs_both_saved_and_upkeep(db: Database, two_weeks: dict[str, int]) -> None:
    legal = combine([row(team_weeks(db, [str(W48)]), W48, two_weeks[LEGAL])])

    assert legal.mean("time_saved") is None and legal.net_hours() is None


def test_summed_weeks_count_favourable_by_each_weeks_own_mark(db: Database, two_weeks: dict[str, int]) -> None:
    # Summing weeks is not what the digest does (it plans week by week), but it must not mix marks.
    americas = combine(r for r in team_weeks(db, [str(W48), str(W49)]) if r.team_id == two_weeks[AMERICAS])

    assert americas.tallies["capability"] == QuestionTally(count=2, total=6.0, favourable=1)  # 3 < 4, 3 ≥ 3


def test_a_mover_who_logs_in_both_teams_counts_as_a_reporter_in_each(db: Database, teams: dict[str, int]) -> None:
    at = wednesday(W48)
    log_hidden_work(db, KEY, "UL1", minutes=15, category="validation", at=at)
    move(db, "UL1", AMERICAS)
    log_hidden_work(db, KEY, "UL1", minutes=10, category="workaround", at=at + dt.timedelta(hours=1))

    rows = team_weeks(db, [str(W48)])

    assert row(rows, W48, teams[LEGAL]).hidden_minutes == {"validation": 15}
    assert row(rows, W48, teams[AMERICAS]).hidden_minutes == {"workaround": 10}
    # Per team the count is exact; a sum over teams counts the one person twice.
    assert combine(rows).hidden_reporters == 2


# ---------------------------------------------------------------- per level


def test_levels_are_the_levels_at_the_time(db: Database, two_weeks: dict[str, int]) -> None:
    rows = level_weeks(db, [str(W48)])

    assert [r.level for r in rows] == ["entry", "experienced", "lead"]
    entry = level_row(rows, W48, "entry")
    assert (entry.responded, entry.skipped) == (2, 0)  # e1, a1
    assert entry.tallies["clarity"] == QuestionTally(count=2, total=7.0, favourable=1)  # 2, 5
    assert entry.figures.mean("clarity") == pytest.approx(3.5)
    assert entry.figures.favourable_share("clarity") == pytest.approx(0.5)
    assert entry.hidden_minutes == {"validation": 45, "prompting": 30, "cleanup": 20}
    assert entry.hidden_reporters == 2
    experienced = level_row(rows, W48, "experienced")
    assert experienced.responded == 2  # e2, e3 (a2 never answered)
    assert experienced.figures.mean("clarity") == pytest.approx(4.0)
    assert experienced.figures.count("clarity") == 1
    lead = level_row(rows, W48, "lead")
    assert (lead.responded, lead.skipped) == (1, 1)
    assert lead.figures.sent == 0  # deliveries record the team, not the level


def test_a_level_change_after_answering_leaves_the_answer_where_it_was(
    db: Database, two_weeks: dict[str, int]
) -> None:
    with db.session() as session:
        session.execute(update(Person).where(Person.slack_user_id == "UE1").values(level="experienced"))

    entry = level_row(level_weeks(db, [str(W48)]), W48, "entry")

    assert entry.figures.count("clarity") == 2


# ---------------------------------------------------------------- the demo's overview


def test_the_week_overview_is_the_sum_of_the_teams(db: Database, two_weeks: dict[str, int]) -> None:
    overview = week_overview(db, str(W48), min_group_size=3)

    assert overview is not None and not overview.suppressed
    assert (overview.sent, overview.responded) == (7, 5)
    scores = {s.question: s for s in overview.scores}
    # Only questions answered by at least 3; in the round's order.
    assert [s.question for s in overview.scores] == ["capability", "time_saved", "upkeep", "clarity", "rework", "workaround"]
    assert scores["capability"].respondents == 5
    assert scores["capability"].mean == pytest.approx(3.6)
    assert scores["capability"].favourable == pytest.approx(0.6)
    assert scores["rework"].favourable is None
    assert overview.net_hours == pytest.approx(11 / 6)


def test_the_week_overview_hides_scores_below_the_minimum(db: Database, two_weeks: dict[str, int]) -> None:
    overview = week_overview(db, str(W48), min_group_size=6)

    assert overview is not None and overview.suppressed
    assert (overview.sent, overview.responded, overview.scores) == (7, 5, [])
    assert week_overview(db, "2026-W40", min_group_size=3) is None
