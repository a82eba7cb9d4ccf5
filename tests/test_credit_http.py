"""Credit reaches the manager: reports shared with "Show this to my manager", through the signed
HTTP entry point (the log form, `/pulse summary`, App Home) against the local Slack server, on
both databases.

The organisation: Sales/EMEA (UEMEA0 manages it, UEMEA1-3), Sales/Americas (UAMER0 manages it,
UAMER1-2), Legal (ULEGA0 manages it, ULEGA1), a Sales director (USALESM, in Sales, manages Sales)
and a council member who manages nothing (UCOUNCIL, in Legal).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from freezegun import freeze_time
from sqlalchemy import select

from bot.db import Database
from bot.labour.credit import CreditForManager, PersonCredit, SharedReport
from bot.labour.durations import format_minutes
from bot.labour.service import log_hidden_work
from bot.models import Manager, Person, Team
from bot.settings import Settings
from bot.slack.blocks.credit import CREDIT_MESSAGES, credit_messages
from tests import factories
from tests.blockkit import assert_valid_message, assert_valid_view
from tests.conftest import PSEUDONYM_KEY
from tests.harness import RunningApp, running_app
from tests.slack_server import FakeSlack
from tests.test_labour_http import MODAL, form

TUESDAY = "2026-11-24 10:00"  # 2026-W48
LATER = "2026-11-26 10:00"
KEY = PSEUDONYM_KEY.encode()

ROSTER = {
    "UEMEA0": "Sales/EMEA", "UEMEA1": "Sales/EMEA", "UEMEA2": "Sales/EMEA", "UEMEA3": "Sales/EMEA",
    "UAMER0": "Sales/Americas", "UAMER1": "Sales/Americas", "UAMER2": "Sales/Americas",
    "ULEGA0": "Legal", "ULEGA1": "Legal", "USALESM": "Sales", "UCOUNCIL": "Legal",
}
MANAGERS = {"UEMEA0": "Sales/EMEA", "UAMER0": "Sales/Americas", "ULEGA0": "Legal", "USALESM": "Sales"}


@pytest.fixture
def app(settings: Settings, db: Database, slack: FakeSlack) -> Iterator[RunningApp]:
    with running_app(settings, db, slack) as running:
        for user_id, team in ROSTER.items():
            factories.person(db, user_id, team_path=team, council=user_id == "UCOUNCIL")
        with db.session() as session:
            for user_id, team in MANAGERS.items():
                person = session.scalars(select(Person.id).where(Person.slack_user_id == user_id)).one()
                team_id = session.scalars(select(Team.id).where(Team.path == team)).one()
                session.add(Manager(person_id=person, team_id=team_id))
        yield running


def log_by_form(app: RunningApp, user_id: str, **fields: Any) -> None:
    """The hidden-work form, filled in and submitted as Slack sends it."""
    with freeze_time(TUESDAY):
        response = app.requests.view_submission(user_id, MODAL, form(**fields))
        app.settle()
    assert response.status == 200 and response.body in (b"", b"{}"), response.body


@pytest.fixture
def shared_week(app: RunningApp) -> None:
    log_by_form(app, "UEMEA1", category="validation", duration="1h30m", tool="Copilot",
                note="checked <!channel> forecast & fixed <@U0BOSS>'s totals", share=True)
    log_by_form(app, "UEMEA1", category="prompting", duration="45m", share=True)
    log_by_form(app, "UEMEA2", category="cleanup", duration="2h", note="nobody may see this note")
    log_by_form(app, "UEMEA3", category="validation", duration="3h", note="kept to myself too")
    log_by_form(app, "UAMER1", category="cleanup", duration="30m", tool="Sheets", note="fixed the dates", share=True)
    log_by_form(app, "UEMEA0", category="other", duration="20m", note="the manager's own", share=True)
    log_by_form(app, "ULEGA1", category="exceptions", duration="1h", note="contract exceptions")  # not shared


def summary_replies(app: RunningApp, user_id: str, text: str = "summary", when: str = LATER) -> list[dict[str, Any]]:
    app.slack.reset_calls()
    with freeze_time(when):
        assert app.requests.command(user_id, text).status == 200
        app.settle()
    replies = [call.params for call in app.slack.calls_to("response_url")]
    for reply in replies:
        assert reply.get("response_type") == "ephemeral"
        assert_valid_message(reply["text"], reply["blocks"])
    return replies


def credit_of(replies: list[dict[str, Any]]) -> str:
    """The credit messages (every reply after the summary itself), as one string."""
    return json.dumps(replies[1:], ensure_ascii=False)


def open_home(app: RunningApp, user_id: str, when: str = LATER) -> str:
    app.slack.reset_calls()
    with freeze_time(when):
        app.requests.event({"type": "app_home_opened", "user": user_id, "channel": "D" + user_id[1:], "tab": "home"})
        app.settle()
    (published,) = app.slack.calls_to("views.publish")
    assert_valid_view(published.params["view"])
    return json.dumps(published.params["view"], ensure_ascii=False)


def test_a_manager_sees_what_their_people_shared_by_name_with_totals(app: RunningApp, shared_week: None) -> None:
    replies = summary_replies(app, "UEMEA0")
    assert len(replies) == 2
    summary, credit = replies[0], credit_of(replies)
    assert "Team summary" in summary["text"]
    assert replies[1]["text"] == "Hidden AI work shared with you: 2 h 15 min from 1 person"
    assert "*<@UEMEA1>* · total 2 h 15 min in 2 reports" in credit
    assert "2026-W48 · 1 h 30 min · validation &amp; review · Copilot · checked &lt;!channel&gt; forecast &amp; fixed &lt;@U0BOSS&gt;'s totals" in credit
    assert "2026-W48 · 45 min · prompt work · no tool named" in credit
    # Nobody else's, and nothing that was not shared: not the note, not the name.
    for absent in ("UEMEA2", "UEMEA3", "UAMER1", "nobody may see", "kept to myself", "the manager's own", "<!channel>"):
        assert absent not in credit


def test_a_parent_teams_manager_sees_every_sub_team_and_each_persons_total(app: RunningApp, shared_week: None) -> None:
    credit = credit_of(summary_replies(app, "USALESM"))
    assert '"Hidden AI work shared with you: 3 h 5 min from 3 people"' in credit
    people = [credit.index(f"*<@{user}>*") for user in ("UEMEA1", "UAMER1", "UEMEA0")]
    assert people == sorted(people)  # most time first
    assert "*<@UAMER1>* · total 30 min in 1 report" in credit and "Sheets · fixed the dates" in credit
    assert "*<@UEMEA0>* · total 20 min in 1 report" in credit  # shared by the EMEA manager with theirs
    assert "UEMEA2" not in credit and "nobody may see" not in credit and "ULEGA1" not in credit
    # Asked about one team, the director sees that team's.
    emea = credit_of(summary_replies(app, "USALESM", "summary Sales/EMEA"))
    assert "<@UEMEA1>" in emea and "<@UEMEA0>" in emea and "UAMER1" not in emea


def test_other_managers_and_the_council_see_none_of_it(app: RunningApp, shared_week: None) -> None:
    americas = credit_of(summary_replies(app, "UAMER0"))
    assert "<@UAMER1>" in americas and "UEMEA" not in americas
    # Legal's people shared nothing: the summary alone.
    assert len(summary_replies(app, "ULEGA0")) == 1
    # The council reads figures, not what people shared with their managers, even for Sales.
    for text in ("summary", "summary Sales"):
        replies = summary_replies(app, "UCOUNCIL", text)
        assert len(replies) == 1 and "UEMEA1" not in json.dumps(replies)
    # Someone who manages nothing is refused, and learns nothing more.
    (refusal,) = summary_replies(app, "UEMEA2")
    assert "Summaries are for managers" in refusal["text"] and "UEMEA1" not in json.dumps(refusal)


def test_a_person_sees_in_app_home_what_they_shared_and_who_can_see_it(app: RunningApp, shared_week: None) -> None:
    home = open_home(app, "UEMEA1")
    assert "*Shared with your manager* · 2026-W44 to 2026-W48" in home
    assert "2 h 15 min in 2 reports, newest first" in home
    assert home.index("45 min · prompt work") < home.index("1 h 30 min · validation &amp; review")
    assert "checked &lt;!channel&gt; forecast &amp; fixed" in home and "<!channel>" not in home
    assert "Visible to <@UEMEA0>, <@USALESM>: the managers of your team" in home
    # Someone who shared nothing is told how, and who would see it; their own reports stay out.
    other = open_home(app, "UEMEA2")
    assert "Nothing shared in these weeks" in other and "Visible to <@UEMEA0>, <@USALESM>" in other
    assert "nobody may see this note" not in other
    # A manager's own shares go to the managers above them, never to themselves.
    assert "Visible to <@USALESM>: the managers" in open_home(app, "UEMEA0")


def test_a_person_with_no_manager_on_the_roster_is_told_nobody_sees_it_yet(app: RunningApp, db: Database) -> None:
    factories.person(db, "UALONE", team_path="Research")
    log_by_form(app, "UALONE", category="validation", duration="1h", share=True)
    assert "No manager of your team is on the roster, so nobody sees these yet." in open_home(app, "UALONE")


def test_a_long_list_is_split_over_messages_and_nothing_is_cut(app: RunningApp, db: Database) -> None:
    # 10 long reports from each of three people: more than one message holds, less than a reply can.
    notes = {}
    with freeze_time(TUESDAY):
        for user_id in ("UEMEA1", "UEMEA2", "UEMEA3"):
            for n in range(10):
                notes[(user_id, n)] = f"{user_id} report {n:02d} & " + "details of the check " * 22
                log_hidden_work(db, KEY, user_id, minutes=10 + n, category="validation", note=notes[(user_id, n)],
                                share_with_manager=True)
    replies = summary_replies(app, "UEMEA0", "summary 1w")
    assert 3 <= len(replies) <= 1 + CREDIT_MESSAGES
    credit = credit_of(replies)
    for note in notes.values():
        assert note.strip().replace("&", "&amp;") in credit  # every report, whole
    for user_id in ("UEMEA1", "UEMEA2", "UEMEA3"):
        assert f"*<@{user_id}>* · total {format_minutes(sum(10 + n for n in range(10)))} in 10 reports" in credit
    assert "Not listed" not in credit


# ---------------------------------------------------------------- the builder, by value


def test_a_list_too_long_for_one_reply_says_exactly_what_it_leaves_out() -> None:
    reports = tuple(SharedReport("2026-W48", "validation", 30, "Tool", "n" * 500) for _ in range(60))
    people = tuple(PersonCredit(f"U{n:03d}", reports) for n in range(6))
    credit = CreditForManager(("2026-W45", "2026-W48"), ("Sales",), people)
    messages = credit_messages(credit)
    assert len(messages) == CREDIT_MESSAGES
    for text, blocks in messages:
        assert_valid_message(text, blocks)
    shown = sum(json.dumps(blocks).count("n" * 500) for _, blocks in messages)
    note = messages[-1][1][-1]["elements"][0]["text"]
    assert note.startswith("Not listed, as one reply to a command holds no more:")
    missing = 6 * 60 - shown
    assert f"{missing} reports from" in note and "<@U005>" in note
    assert "Ask for fewer weeks" in note


def test_a_report_too_long_for_one_section_once_escaped_goes_on_in_the_next() -> None:
    report = SharedReport("2026-W48", "validation", 30, "&" * 100, "&" * 500)  # 3,051 characters escaped
    credit = CreditForManager(("2026-W48",), ("Sales",), (PersonCredit("U001", (report, report)),))
    (message,) = credit_messages(credit)
    text, blocks = message
    assert_valid_message(text, blocks)
    sections = [block["text"]["text"] for block in blocks if block["type"] == "section"]
    assert len(sections) == 5  # the heading, then each report over two sections
    joined = "".join(sections).replace("*<@U001>* (continued)\n", "")
    assert joined.count(" · " + "&amp;" * 100 + " · " + "&amp;" * 500) == 2  # split, nothing lost


# ---------------------------------------------------------------- a summary that fills a whole reply


FILLING_TEAMS = 379  # with Legal itself, a summary of exactly five messages


def every_reply(app: RunningApp, user_id: str, text: str) -> list[list[dict[str, Any]]]:
    """Each reply of a summary (the messages one response_url took), following its buttons to the end."""
    batches = [summary_replies(app, user_id, text)]
    while more := [b for b in batches[-1][-1]["blocks"] if b["type"] == "actions"]:
        (button,) = more[0]["elements"]
        app.slack.reset_calls()
        with freeze_time(LATER):
            assert app.requests.block_action(user_id, button["action_id"], button["value"], channel_id="C0001", message_ts="1.0").status == 200
            app.settle()
        batches.append([call.params for call in app.slack.calls_to("response_url")])
    return batches


def test_credit_after_a_summary_that_fills_five_messages_comes_with_the_next_teams_not_as_a_sixth(
    app: RunningApp, db: Database
) -> None:
    with db.session() as session:
        legal = session.scalars(select(Team.id).where(Team.path == "Legal")).one()
        manager = session.scalars(select(Person.id).where(Person.slack_user_id == "ULEGA0")).one()
        desks = [Team(path=f"Legal/Desk {n:03d}", name=f"Desk {n:03d}", parent_id=legal) for n in range(FILLING_TEAMS)]
        session.add_all(desks)
        session.flush()
        session.add_all(Manager(person_id=manager, team_id=desk.id) for desk in desks)
    (alone,) = every_reply(app, "ULEGA0", "summary 1w")
    assert len(alone) == 5  # nothing shared yet: the summary alone fills the reply

    log_by_form(app, "ULEGA1", category="exceptions", duration="1h", note="contract exceptions", share=True)
    batches = every_reply(app, "ULEGA0", "summary 1w")
    assert [len(batch) for batch in batches] == [4, 2]  # the next teams, then what was shared
    first, second = ("\n".join(json.dumps(m["blocks"], ensure_ascii=False) for m in batch) for batch in batches)
    assert "the reports shared with you follow when you ask" in first
    assert "contract exceptions" not in first and second.count("contract exceptions") == 1
    everything = first + second
    for n in range(FILLING_TEAMS):
        assert everything.count(f"*Legal/Desk {n:03d}*") == 1
    assert "Hidden AI work shared with you" in json.dumps(batches[1][-1]["blocks"])
