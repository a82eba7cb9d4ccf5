"""Nothing we send is cut, at any size: a large organisation's digest, summaries and mydata.

The organisation: 3 divisions × 5 groups × 10 teams = 150 teams of five people at the bottom
(168 in all, three levels of paths), every name long and holding `&`, `<` and `>`. Everyone
answers, so every team is released; half the bottom teams answer low, so they raise alerts.
There are 40 rollouts, and one manager of 60 teams. Everything is driven through the digest
job, the signed HTTP entry point and the local Slack server, and judged on what was sent:
every team and rollout present, whole and escaped, every payload within Slack's limits.
"""

from __future__ import annotations

import datetime as dt
import html
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from freezegun import freeze_time
from sqlalchemy import select

from bot.clock import JobContext, run_job
from bot.db import Database
from bot.demo import MemoryMessenger
from bot.labour.service import log_hidden_work
from bot.models import DigestPost, Manager, Person, PulseRound, RolloutDecision, Team
from bot.rollouts.service import add_rollout
from bot.settings import Settings
from bot.slack.messenger import DELIVERY_ATTEMPTS
from bot.surveys.service import record_answer, run_pulse_job
from bot.weeks import UTC, IsoWeek
from tests import factories
from tests.blockkit import assert_escaped, assert_valid_message
from tests.harness import RunningApp, running_app
from tests.slack_server import FakeSlack
from tests.test_pulse_http import buttons

W48 = IsoWeek.parse("2026-W48")
DIGEST_TIME = "2026-11-30 14:00"
DIVISIONS, GROUPS, TEAMS, SEATS = 3, 5, 10, 5
ROLLOUTS = 40
MANAGED = 60


def division(d: int) -> str:
    return f"Research & Development <Division {d}> for the long-running programmes & partners"


def group(d: int, g: int) -> str:
    return f"{division(d)}/Group {g} <Operations & Delivery>"


def team(d: int, g: int, t: int) -> str:
    return f"{group(d, g)}/Team {t} & <Quality> Squad"


BOTTOM = [team(d, g, t) for d in range(DIVISIONS) for g in range(GROUPS) for t in range(TEAMS)]
ALL_TEAMS = [
    *(division(d) for d in range(DIVISIONS)),
    *(group(d, g) for d in range(DIVISIONS) for g in range(GROUPS)),
    *BOTTOM,
]


def rollout_name(n: int) -> str:
    return f"Assistant {n:02d} for R&D <beta> & the partners' shared workflow"


def shown(text: str) -> str:
    """Text as mrkdwn carries it: `&`, `<` and `>` escaped."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


@dataclass
class Organisation:
    manager: str
    council: str
    managed: list[str]


@pytest.fixture
def app(settings: Settings, db: Database, slack: FakeSlack) -> Iterator[RunningApp]:
    with running_app(settings, db, slack) as running:
        yield running


@pytest.fixture
def organisation(app: RunningApp, db: Database, slack: FakeSlack) -> Organisation:
    return build_organisation(app, db, slack)


def build_organisation(app: RunningApp, db: Database, slack: FakeSlack) -> Organisation:
    """The organisation above with week 48 answered by everyone, and 40 rollouts."""
    for path in BOTTOM:
        factories.team(db, path)
    with db.session() as session:
        ids = {path: team_id for path, team_id in session.execute(select(Team.path, Team.id))}
        session.add_all(
            Person(slack_user_id=f"U{n:03d}{seat}", team_id=ids[path], tz="UTC", level="experienced", active=True,
                   is_council=(n, seat) == (0, 0))
            for n, path in enumerate(BOTTOM)
            for seat in range(SEATS)
        )
        session.flush()
        manager = session.scalars(select(Person.id).where(Person.slack_user_id == "U0001")).one()
        managed = BOTTOM[:MANAGED]
        session.add_all(Manager(person_id=manager, team_id=ids[path]) for path in managed)
    for n in range(ROLLOUTS):
        # Some over a division or a group, the odd ones over a single team that answers low.
        covered = [division(n % DIVISIONS)] if n % 4 == 0 else [BOTTOM[n]] if n % 2 else [group(n % DIVISIONS, n % GROUPS)]
        add_rollout(db, rollout_name(n), dt.date(2026, 9, 7) + dt.timedelta(days=n), covered, at=dt.datetime(2026, 9, 1, tzinfo=UTC))
    wednesday = dt.datetime(2026, 11, 25, 10, 0, tzinfo=UTC)
    run_pulse_job(db, MemoryMessenger(), app.services.behaviour, at=wednesday, force=True, week=W48)
    with db.session() as session:
        round_id = session.scalars(select(PulseRound.id).where(PulseRound.week == str(W48))).one()
    for n, _ in enumerate(BOTTOM):
        for seat in range(SEATS):
            # Half the teams answer low, which raises two alerts each (capability below 3.0, an
            # unsustainable workload) and a pause signal for a rollout over them; the others answer 4.
            record_answer(db, app.key, f"U{n:03d}{seat}", round_id, "capability", 1 if n % 2 else 3, at=wednesday)
            if n % 2:
                record_answer(db, app.key, f"U{n:03d}{seat}", round_id, "workload", 0, at=wednesday)
    slack.reset_calls()
    return Organisation(manager="U0001", council="U0000", managed=managed)


def digest_job(app: RunningApp, when: str, **kwargs: Any) -> Any:
    with freeze_time(when):
        return run_job("digest", JobContext(app.settings, app.db, app.services.messenger), **kwargs)


def council_posts(slack: FakeSlack) -> list[dict[str, Any]]:
    return [c.params for c in slack.calls_to("chat.postMessage") if c.params.get("channel") == "CCOUNCIL"]


def mrkdwn_of(blocks: list[dict[str, Any]]) -> str:
    """Every text a message shows, one after the other."""
    found: list[str] = []

    def walk(value: Any) -> None:
        if isinstance(value, dict):
            if isinstance(value.get("text"), str):
                found.append(value["text"])
            for item in value.values():
                walk(item)
        elif isinstance(value, list):
            for item in value:
                walk(item)

    walk(blocks)
    return "\n".join(found)


def assert_whole(text: str) -> None:
    """Nothing cut: no ellipsis anywhere, and no name broken off before its end."""
    assert "…" not in text and "..." not in text


# ---------------------------------------------------------------- the council digest


def test_a_digest_of_150_teams_and_40_rollouts_is_posted_whole_and_decided_from_its_thread(
    app: RunningApp, organisation: Organisation, slack: FakeSlack, db: Database
) -> None:
    assert digest_job(app, DIGEST_TIME).posted is True
    posts = council_posts(slack)
    (main,) = [p for p in posts if not p.get("thread_ts")]
    replies = [p for p in posts if p.get("thread_ts")]
    main_ts = slack.messages["CCOUNCIL"][0]["ts"]
    assert {p["thread_ts"] for p in replies} == {main_ts}
    for params in posts:
        assert_valid_message(params["text"], params["blocks"])
        assert_whole(params["text"] + mrkdwn_of(params["blocks"]))

    # The main post: headline figures, pause signals and as many alerts as fit, saying where the rest are.
    top = mrkdwn_of(main["blocks"])
    assert "750 of 750 answered" in top and "Capability: 3.0" in top
    assert "*Alerts*" in top
    for n in range(1, ROLLOUTS, 2):
        assert f":octagonal_sign: *{shown(rollout_name(n))}*: " in top
    alerts = re.search(r"Alerts: (\d+) of (\d+) alerts shown here; all of them are under \*Alerts\* in the thread", top)
    assert alerts is not None and int(alerts[1]) < int(alerts[2])

    # The thread: every team, each once, and every alert, in full.
    thread = "\n".join(mrkdwn_of(p["blocks"]) for p in replies)
    for path in ALL_TEAMS:
        assert len(re.findall(rf"^• {re.escape(shown(path))}: \d+ answered", thread, flags=re.MULTILINE)) == 1, path
    low = [path for n, path in enumerate(BOTTOM) if n % 2]
    for path in low:
        assert f":warning: {shown(path)}: Capability 2.0 (below 3.0)" in thread
        assert f":warning: {shown(path)}: Favourable workload 0% (below 50%)" in thread
    assert len(re.findall(r"^• :warning: ", thread, flags=re.MULTILINE)) == int(alerts[2])

    # Every rollout, each once, with its three decision buttons in the same message.
    for n in range(ROLLOUTS):
        holding = [p for p in replies if f"*{shown(rollout_name(n))}*" in mrkdwn_of(p["blocks"])]
        assert len(holding) == 1, rollout_name(n)
        (section,) = [b for b in holding[0]["blocks"] if b.get("block_id", "").startswith("rollout:") and shown(rollout_name(n)) in b["text"]["text"]]
        rollout_id = section["block_id"].removeprefix("rollout:")
        (actions,) = [b for b in holding[0]["blocks"] if b.get("block_id") == f"decide:{rollout_id}"]
        assert [e["value"] for e in actions["elements"]] == [f"{rollout_id}:2026-W48:{d}" for d in ("continue", "pause", "review")]

    # Nothing was said in the clear that should have been escaped.
    assert "<Division" not in json.dumps(posts, ensure_ascii=False)
    with db.session() as session:
        assert session.scalar(select(DigestPost.status)) == "posted"

    # A decision from the thread's last reply is recorded, and said under the digest's main post.
    last = [m for m in slack.messages["CCOUNCIL"] if m.get("thread_ts") and m.get("blocks") and "digest_decision:pause" in buttons(m)][-1]
    button = buttons(last)["digest_decision:pause"]  # the last rollout of that reply, and of all
    slack.reset_calls()
    with freeze_time("2026-11-30 15:00"):
        response = app.requests.block_action(
            organisation.council, "digest_decision:pause", button["value"],
            channel_id="CCOUNCIL", message_ts=last["ts"], thread_ts=last["thread_ts"],
        )
        assert response.status == 200
        app.settle()
    rollout_id = int(button["value"].split(":")[0])
    with db.session() as session:
        decided = session.scalars(select(RolloutDecision)).all()
        assert [(d.rollout_id, d.decision, d.decided_by) for d in decided] == [(rollout_id, "pause", organisation.council)]
    (confirmation,) = slack.calls_to("chat.postMessage")
    # In the digest's thread, under its main post, not as a thread of the reply.
    assert confirmation.params["thread_ts"] == slack.messages["CCOUNCIL"][0]["ts"]
    assert f"Decision on *{shown(rollout_name(ROLLOUTS - 1))}* for 2026-W48: *Pause*" in confirmation.params["text"]
    assert_escaped(confirmation.params["text"])




def test_a_digest_job_that_fails_half_way_through_the_thread_finishes_it_on_the_next_run_without_doubling(
    app: RunningApp, organisation: Organisation, slack: FakeSlack, db: Database
) -> None:
    # The main post and three replies go out; then Slack stops taking messages for this run.
    slack.when_processed("chat.postMessage", 4, lambda: slack.fail("chat.postMessage", error="fatal_error", times=DELIVERY_ATTEMPTS))
    first = digest_job(app, DIGEST_TIME)
    assert first.posted is False
    with db.session() as session:
        row = session.scalars(select(DigestPost)).one()
        assert row.status == "failed" and row.message_ts == slack.messages["CCOUNCIL"][0]["ts"]
    assert 1 < len(council_posts(slack)) < 10

    # Even an answer lost after the next reply was posted does not double it.
    slack.fail("chat.postMessage", status=500, processed=True)
    second = digest_job(app, "2026-11-30 14:05")
    assert second.posted is True
    assert digest_job(app, "2026-11-30 14:10").posted is False

    messages = [m for m in slack.messages["CCOUNCIL"] if m.get("blocks")]
    assert len([m for m in messages if not m.get("thread_ts")]) == 1
    thread = "\n".join(mrkdwn_of(m["blocks"]) for m in messages if m.get("thread_ts"))
    for path in ALL_TEAMS:
        assert len(re.findall(rf"^• {re.escape(shown(path))}: \d+ answered", thread, flags=re.MULTILINE)) == 1, path
    for n in range(ROLLOUTS):
        assert thread.count(f"*{shown(rollout_name(n))}*") == 1
    charts = [m for m in slack.messages["CCOUNCIL"] if m.get("files")]
    assert len(charts) == 1 and charts[0]["thread_ts"] == messages[0]["ts"]


def test_a_digest_whose_posting_answer_was_lost_is_found_in_the_channel_not_posted_again(
    app: RunningApp, organisation: Organisation, slack: FakeSlack, db: Database
) -> None:
    # The main post goes out but its answer is lost, and the channel cannot be read just then.
    slack.fail("chat.postMessage", status=500, processed=True)
    slack.fail("conversations.history", error="internal_error")
    assert digest_job(app, DIGEST_TIME).posted is False
    with db.session() as session:
        assert session.scalars(select(DigestPost.message_ts)).one() is None
    assert digest_job(app, "2026-11-30 14:05").posted is True
    mains = [m for m in slack.messages["CCOUNCIL"] if not m.get("thread_ts")]
    assert len(mains) == 1
    replies = [m for m in slack.messages["CCOUNCIL"] if m.get("thread_ts")]
    assert replies and {m["thread_ts"] for m in replies} == {mains[0]["ts"]}


# ---------------------------------------------------------------- a manager of 60 teams


def summary_replies(app: RunningApp, user_id: str, text: str) -> list[dict[str, Any]]:
    """Every message of a summary, following its "Show the next teams" buttons to the end."""
    app.slack.reset_calls()
    assert app.requests.command(user_id, text).status == 200
    app.settle()
    received: list[dict[str, Any]] = []
    while True:
        batch = [c.params for c in app.slack.calls_to("response_url")]
        assert 1 <= len(batch) <= 5  # a response_url takes at most five messages
        received += batch
        more = [b for b in batch[-1]["blocks"] if b["type"] == "actions"]
        if not more:
            return received
        (button,) = more[0]["elements"]
        app.slack.reset_calls()
        response = app.requests.block_action(user_id, button["action_id"], button["value"], channel_id="C0001", message_ts="1.0")
        assert response.status == 200
        app.settle()


def test_a_manager_of_60_teams_gets_every_team_over_several_messages(app: RunningApp, organisation: Organisation) -> None:
    with freeze_time("2026-12-01 10:00"):
        received = summary_replies(app, organisation.manager, "summary 12w")
    assert len(received) > 5  # more than one reply can hold: the button showed the rest
    for params in received:
        assert params["response_type"] == "ephemeral"
        assert_valid_message(params["text"], params["blocks"])
        assert_whole(params["text"] + mrkdwn_of(params["blocks"]))
    everything = "\n".join(mrkdwn_of(p["blocks"]) for p in received)
    for path in organisation.managed:
        assert everything.count(f"*{shown(path)}*\n") == 1, path
        assert everything.count(f"*{shown(path)} (continued)*") <= 1
    assert everything.count("2026-W48: 5 answered (100%)") == MANAGED
    assert everything.count("2026-W49 (still open)") == MANAGED
    assert "shown so far. Slack takes at most five messages in one reply" in everything
    assert "Only you can see this." in mrkdwn_of(received[-1]["blocks"])

    # A team named in the command as Slack sends it, with &, < and > escaped, is found.
    with freeze_time("2026-12-01 10:00"):
        (named,) = summary_replies(app, organisation.council, f"summary {shown(group(0, 0))} 1w")
    assert f"*{shown(group(0, 0))}*\n• 2026-W49 (still open)" in mrkdwn_of(named["blocks"])

    # The button asks again as whoever clicks it: passed on, it shows nothing.
    (button,) = [b for b in received[4]["blocks"] if b["type"] == "actions"][0]["elements"]
    app.slack.reset_calls()
    outsider = "U1490"  # in the last team, manages nothing
    with freeze_time("2026-12-01 10:00"):
        app.requests.block_action(outsider, button["action_id"], button["value"], channel_id="C0001", message_ts="1.0")
        app.settle()
    (refusal,) = app.slack.calls_to("response_url")
    assert "Summaries are for managers" in refusal.params["text"] and "Team " not in json.dumps(refusal.params["blocks"])




# ---------------------------------------------------------------- a heavy /pulse mydata


NOTE = "Checked the forecast & the <draft> totals against the ledger > twice; " * 7  # about 490 characters


def test_mydata_with_hundreds_of_long_reports_shows_every_one_whole_within_limits(
    app: RunningApp, db: Database, slack: FakeSlack
) -> None:
    factories.person(db, "UHEAVY", team_path="R&D <Labs>", tz="UTC")
    reports = 320
    for n in range(reports):
        at = dt.datetime(2026, 6, 1, 9, tzinfo=UTC) + dt.timedelta(hours=13 * n)
        log_hidden_work(db, app.key, "UHEAVY", minutes=5 + n, category="validation", tool=f"Copilot <{n}>",
                        note=f"{n:03d} {NOTE[:480]}", share_with_manager=n % 5 == 0, at=at)
    slack.reset_calls()
    with freeze_time("2026-11-30 10:00"):
        received = summary_replies(app, "UHEAVY", "mydata")
    assert len(received) > 5
    everything = ""
    for params in received:
        assert params["response_type"] == "ephemeral"
        assert_valid_message(params["text"], params["blocks"])
        assert_whole(params["text"] + mrkdwn_of(params["blocks"]))
        everything += "\n" + mrkdwn_of(params["blocks"])
    assert "Team R&amp;D &lt;Labs&gt;" in everything
    for n in range(reports):
        entry = f"tool: {shown(f'Copilot <{n}>')}" + (" · shown to your manager" if n % 5 == 0 else "") + f" · note: {shown(f'{n:03d} {NOTE[:480]}'.strip())}"
        assert everything.count(entry) == 1, n
    assert "`/pulse forget` deletes all of it." in mrkdwn_of(received[-1]["blocks"])
    assert html.unescape(everything).count("Checked the forecast & the <draft>") == reports * 7


# ---------------------------------------------------------------- sizes nobody should reach


def unsplit(posts: list[Any]) -> list[str]:
    """The lines of a thread part as written, pieces of a long line joined again, titles left out."""
    lines: list[str] = []
    for post in posts:
        for line in mrkdwn_of(post.blocks).split("\n"):
            if line.startswith("    ") and lines:
                lines[-1] += line[4:]
            elif not line.startswith("*"):
                lines.append(line)
    return lines


def test_even_absurd_sizes_are_split_without_losing_a_character() -> None:
    from bot.reports.digest_model import Digest, LevelLine, RolloutLine
    from bot.slack.blocks.digest import digest_main, digest_thread

    names = tuple(f"{'Team & <x> ' * 18}{n}" for n in range(150))  # 200 characters each, escaped to 560
    rollout = RolloutLine(7, "R&D <pilot>", dt.date(2026, 9, 7), 12, True, None, True, ("capability low",), None, names)
    huge_alert = "R&D <Labs>: " + "Capability 2.0 & falling <fast> " * 400
    digest = Digest(
        week="2026-W48", min_group_size=5, sent=100, responded=90, response_rate=0.9, rate_change=None,
        clarity_by_level=tuple(LevelLine(f"Level & <{n}> " * 3, 3.0, None) for n in range(300)),
        alerts=(huge_alert, *(f"{name}: Capability 2.0 (below 3.0)" for name in names)),
        rollouts=(rollout,),
    )
    main, thread = digest_main(digest), digest_thread(digest)
    for post in [main, *thread]:
        assert_valid_message(post.text, post.blocks)
        assert_whole(post.text + mrkdwn_of(post.blocks))
    top = mrkdwn_of(main.blocks)
    assert "Alerts: 0 of 151 alerts shown here; all of them are under *Alerts* in the thread." in top
    assert "Clarity by level: " in top and "of 300 levels shown here" in top

    by_part = {key: [p for p in thread if p.part == key] for key in ("alerts", "clarity_by_level", "rollouts")}
    assert unsplit(by_part["alerts"]) == [f"• :warning: {shown(a)}" for a in digest.alerts]
    assert unsplit(by_part["clarity_by_level"]) == [f"• {shown(level.level)}: 3.0" for level in digest.clarity_by_level]
    # The rollout keeps its buttons with it; its 150 teams left out follow, every one whole.
    (first, *_rest) = by_part["rollouts"]
    assert [b["block_id"] for b in first.blocks if "block_id" in b] == ["rollout:7", "decide:7"]
    listed = unsplit(by_part["rollouts"])[-1]
    assert listed == "R&amp;D &lt;pilot&gt;: not counted this week (too few to show): " + ", ".join(shown(n) for n in names)
