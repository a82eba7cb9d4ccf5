"""The council digest, decisions and manager summaries, driven through the HTTP endpoint.

The organisation: Sales/EMEA (6), Sales/Americas (6), Legal (5) and Board (2). Board is below the
minimum, and the total minus the teams shown would isolate it, so Legal and Board are folded
together into "Other teams" (7) and neither name appears anywhere.

Capability answers (clicked): EMEA 4, Americas 2, Legal 5, Board 1. By hand:
  total 63/19 = 3.3 (favourable 11/19 = 58%), Sales 36/12 = 3.0, EMEA 4.0, Americas 2.0,
  Other teams 27/7 = 3.9.
"""

from __future__ import annotations

import csv
import datetime as dt
import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from apscheduler.schedulers.background import BackgroundScheduler
from freezegun import freeze_time
from sqlalchemy import func, select

from bot.clock import JobContext, run_job, schedule_jobs
from bot.db import Database
from bot.models import DigestPost, Manager, Rollout, RolloutDecision, RolloutTeam, Team
from bot.settings import Settings
from bot.surveys.service import run_pulse_job
from tests import factories
from tests.blockkit import assert_valid_message
from tests.conftest import PSEUDONYM_KEY
from tests.harness import RunningApp, running_app
from tests.slack_server import FakeSlack
from tests.test_pulse_http import buttons, dm

TEAMS = {"Sales/EMEA": (6, 3), "Sales/Americas": (6, 1), "Legal": (5, 4), "Board": (2, 0)}  # people, option index


@pytest.fixture
def app(settings: Settings, db: Database, slack: FakeSlack) -> Iterator[RunningApp]:
    with running_app(settings, db, slack) as running:
        yield running


def people_of(team: str) -> list[str]:
    return [f"U{team.replace('/', '').upper()[:6]}{n}" for n in range(TEAMS[team][0])]


@pytest.fixture
def answered_week(app: RunningApp, db: Database, slack: FakeSlack) -> None:
    answer_the_week(app, db, slack)


def answer_the_week(app: RunningApp, db: Database, slack: FakeSlack) -> None:
    """The organisation above, with its rollout, answering week 48."""
    for team in TEAMS:
        for user_id in people_of(team):
            factories.person(db, user_id, team_path=team, tz="Europe/Berlin", council=user_id == people_of("Legal")[0])
    with db.session() as session:
        emea = session.scalar(select(Team.id).where(Team.path == "Sales/EMEA"))
        manager = session.scalar(select(factories.Person.id).where(factories.Person.slack_user_id == people_of("Sales/EMEA")[0]))
        session.add(Manager(person_id=manager, team_id=emea))
        sales = session.scalar(select(Team.id).where(Team.path == "Sales"))
        rollout = Rollout(name="Forecast copilot", go_live=dt.date(2026, 11, 2), created_at=dt.datetime(2026, 11, 1, tzinfo=dt.timezone.utc))
        session.add(rollout)
        session.flush()
        session.add(RolloutTeam(rollout_id=rollout.id, team_id=sales))
    with freeze_time("2026-11-24 09:00"):
        run_pulse_job(app.db, app.services.messenger, app.services.behaviour)
    with freeze_time("2026-11-25 10:00"):
        for team, (_, option) in TEAMS.items():
            for user_id in people_of(team):
                message = dm(slack, user_id)
                action = f"pulse_answer:capability:{option}"
                value = buttons(message)[action]["value"]
                app.requests.block_action(user_id, action, value, channel_id="D" + user_id[1:], message_ts=message["ts"])
        app.settle()
    slack.reset_calls()


def digest_job(app: RunningApp, when: str, **kwargs: object):  # type: ignore[no-untyped-def]
    with freeze_time(when):
        return run_job("digest", JobContext(app.settings, app.db, app.services.messenger), **kwargs)  # type: ignore[arg-type]


def posted_digest(slack: FakeSlack) -> str:
    """The digest's main post and its thread, as posted: one main post, the rest replies to it."""
    posts = [c.params for c in slack.calls_to("chat.postMessage") if c.params.get("channel") == "CCOUNCIL"]
    (main,) = [p for p in posts if not p.get("thread_ts")]
    replies = [p for p in posts if p.get("thread_ts")]
    assert replies and all(p["thread_ts"] == slack.messages["CCOUNCIL"][0]["ts"] for p in replies)
    return json.dumps([main["blocks"], *(p["blocks"] for p in replies)], ensure_ascii=False)


def test_the_digest_shows_hand_computed_figures_and_never_a_small_team(
    app: RunningApp, answered_week: None, slack: FakeSlack
) -> None:
    run = digest_job(app, "2026-11-30 14:00")
    assert run.summary() == "digest 2026-W48: posted"
    text = posted_digest(slack)
    assert "19 of 19 answered" in text
    assert "Capability: 3.3 · 58% favourable" in text
    assert "Sales: 12 answered (100%) · capability 3.0" in text
    assert "Sales/EMEA: 6 answered (100%) · capability 4.0" in text
    assert "Sales/Americas: 6 answered (100%) · capability 2.0" in text
    assert "Other teams: 7 answered (100%) · capability 3.9" in text
    assert "Legal" not in text and "Board" not in text
    assert "Sales/Americas: Capability 2.0 (below 3.0)" in text
    assert "Forecast copilot" in text
    # The 12-week chart is uploaded into the digest's thread through the external upload flow.
    complete = slack.calls_to("files.completeUploadExternal")
    assert len(complete) == 1 and complete[0].params["channel_id"] == "CCOUNCIL"


def test_the_digest_is_posted_once_per_week_whatever_runs_it(
    app: RunningApp, answered_week: None, slack: FakeSlack, db: Database
) -> None:
    assert digest_job(app, "2026-11-30 13:59").posted is False  # not yet: Monday 14:00 UTC
    assert digest_job(app, "2026-11-30 14:00").posted is True
    assert digest_job(app, "2026-11-30 14:05").posted is False
    assert digest_job(app, "2026-12-01 09:00", force=True).posted is False
    posted_digest(slack)
    with db.session() as session:
        assert session.scalar(select(func.count()).select_from(DigestPost)) == 1


def test_a_clock_that_was_down_on_monday_posts_the_digest_on_tuesday(
    app: RunningApp, answered_week: None, slack: FakeSlack
) -> None:
    run = digest_job(app, "2026-12-01 08:00")
    assert run.summary() == "digest 2026-W48: posted"
    posted_digest(slack)


def test_the_scheduler_posts_no_digest_for_a_week_in_which_no_pulse_went_out(
    app: RunningApp, db: Database, slack: FakeSlack
) -> None:
    for user_id in people_of("Legal"):
        factories.person(db, user_id, team_path="Legal", tz="Europe/Berlin")
    # The very function the scheduler of `pulse socket` and `pulse clock` runs on each tick.
    scheduler = BackgroundScheduler(timezone="UTC")
    schedule_jobs(scheduler, JobContext(app.settings, app.db, app.services.messenger))
    (tick,) = [job.func for job in scheduler.get_jobs() if job.id == "digest"]
    with freeze_time("2026-11-30 14:00"):  # installed during 2026-W48: no pulse went out that week
        tick()
        tick()
        assert digest_job(app, "2026-11-30 14:05").summary() == "digest 2026-W48: not posted (no pulse went out that week)"
    assert slack.messages["CCOUNCIL"] == []
    with db.session() as session:
        assert session.scalar(select(func.count()).select_from(DigestPost)) == 0
    with freeze_time("2026-12-01 09:00"):
        run_pulse_job(app.db, app.services.messenger, app.services.behaviour)
    with freeze_time("2026-12-07 14:00"):  # nobody answered 2026-W49, but its pulse went out
        tick()
    (post,) = slack.messages["CCOUNCIL"]
    assert "Council digest · 2026-W49" in json.dumps(post["blocks"], ensure_ascii=False)


def council_click(app: RunningApp, user_id: str, decision: str) -> None:
    """A click on the decision button in the digest's thread, where the rollouts are."""
    action = f"digest_decision:{decision}"
    (reply,) = [m for m in app.slack.messages["CCOUNCIL"] if m.get("thread_ts") and m.get("blocks") and action in buttons(m)]
    button = buttons(reply)[action]
    app.requests.block_action(
        user_id, action, button["value"], channel_id="CCOUNCIL", message_ts=reply["ts"], thread_ts=reply["thread_ts"]
    )
    app.settle()


def test_a_council_member_decides_and_the_next_digest_shows_who_and_when(
    app: RunningApp, answered_week: None, slack: FakeSlack, db: Database
) -> None:
    digest_job(app, "2026-11-30 14:00")
    member, outsider = people_of("Legal")[0], people_of("Sales/EMEA")[1]
    with freeze_time("2026-11-30 15:00"):
        council_click(app, outsider, "pause")
        council_click(app, member, "pause")
    refusals = [c.params.get("text", "") for c in slack.calls_to("response_url")]
    assert refusals == ["Only members of the performance council can decide on a rollout."]
    with db.session() as session:
        decisions = session.scalars(select(RolloutDecision)).all()
        assert [(d.decision, d.decided_by, d.week) for d in decisions] == [("pause", member, "2026-W48")]
    thread = [c for c in slack.calls_to("chat.postMessage") if c.params.get("thread_ts")]
    assert any(f"<@{member}>" in c.params["text"] and "Pause" in c.params["text"] for c in thread)
    slack.messages["CCOUNCIL"].clear()
    with freeze_time("2026-12-01 09:00"):  # the next week's pulse goes out, so it has a digest
        run_pulse_job(app.db, app.services.messenger, app.services.behaviour)
    slack.reset_calls()
    digest_job(app, "2026-12-07 14:00")
    assert f"Last decision: *Pause* by <@{member}>" in posted_digest(slack)


def slash(app: RunningApp, user_id: str, text: str) -> str:
    app.slack.reset_calls()
    assert app.requests.command(user_id, text).status == 200
    app.settle()
    (reply,) = app.slack.calls_to("response_url")
    assert reply.params.get("response_type") == "ephemeral"
    return reply.params.get("text", "") + json.dumps(reply.params.get("blocks", []), ensure_ascii=False)


def test_a_manager_sees_their_team_and_nobody_else_learns_anything(app: RunningApp, answered_week: None) -> None:
    manager = people_of("Sales/EMEA")[0]
    with freeze_time("2026-11-26 10:00"):
        # The week is still open: its progress so far, and no score until the week is released.
        mine = slash(app, manager, "summary 1w")
        assert "2026-W48 (still open): 6 answered so far (100%)" in mine and "capability" not in mine
        refusal = slash(app, manager, "summary Legal")
        assert refusal == slash(app, manager, "summary No/Such/Team")
        assert "Summaries are for managers" in refusal
        assert slash(app, people_of("Sales/Americas")[0], "summary") == refusal
    with freeze_time("2026-11-30 15:00"):
        mine = slash(app, manager, "summary 2w")
        assert "2026-W48: 6 answered (100%) · capability 4.0" in mine
        # Every question with a released figure, by its kind: here only capability was answered.
        assert "◦ How confident are you using the AI tools in your work? — 4.0 · 100% favourable" in mine
        assert "workload? —" not in mine  # asked, but nobody answered it: no figure
        council = slash(app, people_of("Legal")[0], "summary Sales 2w")
        assert "2026-W48: 12 answered (100%) · capability 3.0" in council


def test_digest_show_prints_the_same_digest_in_the_terminal(
    app: RunningApp, answered_week: None, monkeypatch: pytest.MonkeyPatch, database_url: str,
    capsys: pytest.CaptureFixture[str],
) -> None:
    from bot.cli import main

    monkeypatch.setenv("DATABASE_URL", database_url)
    monkeypatch.setenv("PULSE_PSEUDONYM_KEY", PSEUDONYM_KEY)
    with freeze_time("2026-11-30 15:00"), pytest.raises(SystemExit) as exit_info:
        main(["digest", "show"])
    out = capsys.readouterr().out
    assert exit_info.value.code == 0
    assert "council digest for 2026-W48" in out and "Capability: 3.3 · 58% favourable" in out
    assert "Legal" not in out and "Board" not in out


def test_every_digest_and_summary_message_passes_block_kit_limits(app: RunningApp, answered_week: None, slack: FakeSlack) -> None:
    digest_job(app, "2026-11-30 14:00")
    with freeze_time("2026-11-30 15:00"):
        slash(app, people_of("Legal")[0], "summary 12w")
        summary = slack.calls_to("response_url")[0].params
    posted = [c.params for c in slack.calls_to("chat.postMessage")]
    for params in [*posted, summary]:
        assert_valid_message(params["text"], params["blocks"])


def test_export_writes_the_digests_figures_and_nothing_smaller(
    app: RunningApp, answered_week: None, monkeypatch: pytest.MonkeyPatch, database_url: str, tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    from bot.cli import main

    monkeypatch.setenv("DATABASE_URL", database_url)
    monkeypatch.setenv("PULSE_PSEUDONYM_KEY", PSEUDONYM_KEY)
    out = tmp_path / "scores.csv"
    with pytest.raises(SystemExit) as exit_info:
        main(["export", "scores", "--out", str(out), "--week", "2026-W48", "--weeks", "1"])
    assert exit_info.value.code == 0 and "Wrote 5 rows of scores" in capsys.readouterr().out
    rows = list(csv.DictReader(out.open()))
    assert [(r["group"], r["answered"], r["mean"]) for r in rows] == [
        ("Organisation", "19", "3.32"),
        ("Sales", "12", "3.00"),
        ("Sales/Americas", "6", "2.00"),
        ("Sales/EMEA", "6", "4.00"),
        ("Other teams", "7", "3.86"),
    ]
    assert "Legal" not in out.read_text() and "Board" not in out.read_text()


def test_every_question_of_the_week_is_reported_by_its_kind_and_open_questions_link_to_theirs(
    app: RunningApp, db: Database, slack: FakeSlack
) -> None:
    from bot.models import ExplainerQuestion
    from bot.surveys.bank import questions_for_week
    from bot.weeks import IsoWeek

    people = [f"UASK{n}" for n in range(6)]
    for user_id in people:
        factories.person(db, user_id, team_path="Sales", tz="Europe/Berlin", level="entry")
    with freeze_time("2026-11-24 09:00"):
        run_pulse_job(app.db, app.services.messenger, app.services.behaviour)
    asked = [q for q in questions_for_week(app.services.behaviour.questions, IsoWeek.parse("2026-W48")) if q.kind != "text"]
    choice = {q.key: 3 if q.kind == "scale" else 1 for q in asked}  # every answer the same: the shares are exact
    with freeze_time("2026-11-25 10:00"):
        for user_id in people:
            message = dm(slack, user_id)
            for key, option in choice.items():
                action = f"pulse_answer:{key}:{option}"
                app.requests.block_action(user_id, action, buttons(message)[action]["value"],
                                          channel_id="D" + user_id[1:], message_ts=message["ts"])
        app.settle()
    with db.session() as session:
        session.add(ExplainerQuestion(explainer_key="what-changes-at-go-live", text="Who checks the <drafts>?",
                                      week="2026-W48", channel_id="CCOUNCIL", message_ts="1764000000.000100"))
        session.add(ExplainerQuestion(explainer_key="what-changes-at-go-live", text="And the rest?", week="2026-W48"))
    slack.reset_calls()
    assert digest_job(app, "2026-11-30 14:00").posted
    text = posted_digest(slack)
    assert "*Every question*" in text
    for question in asked:
        value = question.options[choice[question.key]]
        if question.kind == "scale":
            shown = f"{value.value:.1f} · 100% favourable"
        elif question.kind == "hours":
            shown = f"{value.value:.1f} h per person"
        elif [o.label for o in question.options] == ["No", "Yes"]:
            shown = "Yes 100%"
        else:
            shown = " · ".join(f"{o.label} {'100' if o is value else '0'}%" for o in question.options)
        assert f"• *{question.text}* — {shown}" in text, question.key
    # The week's explainer questions are listed, each with a link once it is in the channel.
    assert "Open questions from explainers: 2, listed in the thread" in text
    assert "Who checks the &lt;drafts&gt;? · <https://slack.com/archives/CCOUNCIL/p1764000000000100|see the question>" in text
    # One not in the channel yet (an anonymous one may be held back): nothing of it is shown.
    assert "And the rest?" not in text and "• 1 more waits to be posted (shown once in the channel)" in text
    for call in slack.calls_to("chat.postMessage"):
        assert_valid_message(call.params["text"], call.params["blocks"])


def test_a_rollout_line_follows_the_window_setting_and_shows_each_teams_time_to_competency() -> None:
    from bot.reports.digest_model import RolloutLine
    from bot.reports.text import rollout_line

    line = rollout_line(RolloutLine(
        rollout_id=1, name="Forecast copilot", go_live=dt.date(2026, 11, 2), weeks_since_go_live=4, in_window=True,
        time_to_competency=3, pause_signal=False, reasons=(), last_decision=None, window_days=60,
        team_competency=(("Sales/EMEA", 1), ("Sales/Americas", None)),
    ))
    assert "in its first 60 days" in line and "90 days" not in line
    assert "competent after 3 weeks (by team: Sales/EMEA 1 week, Sales/Americas not yet)" in line
