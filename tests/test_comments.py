"""Pulse comments reach the council: released with their week, posted once in the digest's thread.

Driven end to end on both databases: the pulse goes out through the pulse job, people answer and
comment through signed requests into the HTTP entry point, the week is released by the real
release and the digest job posts to the local Slack-compatible server.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from typing import Any

import pytest
from freezegun import freeze_time
from sqlalchemy import inspect, select, text

from bot.clock import JobContext, run_job
from bot.db import Base, Database
from bot.models import CommentThread, ReleasedComment, Response
from bot.release.comments import released_comments
from bot.settings import Settings
from bot.slack.blocks.comments import SECTION_CHARS, comment_messages
from bot.surveys.service import run_pulse_job
from tests import factories
from tests.blockkit import assert_valid_message
from tests.conftest import PSEUDONYM_KEY
from tests.harness import RunningApp, running_app
from tests.slack_server import FakeSlack
from tests.test_pulse_http import buttons, dm

KEY = PSEUDONYM_KEY.encode()
WEEK = "2026-W48"
PULSE_TIME = "2026-11-24 09:00"  # Tuesday 10:00 in Berlin
ANSWER_TIME = "2026-11-25 10:00"
DIGEST_TIME = "2026-11-30 14:00"  # the Monday after: the week is final and released
TEAMS = {"Sales": 4, "Legal": 3}  # seven people; the threshold is 5


@pytest.fixture
def app(settings: Settings, db: Database, slack: FakeSlack) -> Iterator[RunningApp]:
    with running_app(settings, db, slack) as running:
        yield running


def people(team: str) -> list[str]:
    return [f"U{team.upper()[:4]}{n}" for n in range(TEAMS[team])]


EVERYONE = [user for team in TEAMS for user in people(team)]


def enrol_and_send(app: RunningApp) -> None:
    for team in TEAMS:
        for user_id in people(team):
            factories.person(app.db, user_id, team_path=team, tz="Europe/Berlin")
    with freeze_time(PULSE_TIME):
        run_pulse_job(app.db, app.services.messenger, app.services.behaviour)


def answer(app: RunningApp, user_id: str, option: int = 3) -> None:
    message = dm(app.slack, user_id)
    action = f"pulse_answer:capability:{option}"
    value = buttons(message)[action]["value"]
    app.requests.block_action(user_id, action, value, channel_id="D" + user_id[1:], message_ts=message["ts"])
    app.settle()


def comment(app: RunningApp, user_id: str, words: str) -> None:
    message = dm(app.slack, user_id)
    round_id = buttons(message)["pulse_comment"]["value"]
    values = {"comment": {"comment_text": {"type": "plain_text_input", "value": words}}}
    response = app.requests.view_submission(user_id, "pulse_comment_modal", values, private_metadata=round_id)
    app.settle()
    assert response.status == 200 and response.body in (b"", b"{}")


def week_with(app: RunningApp, answering: Sequence[str], comments: dict[str, str]) -> None:
    """Everyone enrolled is sent the pulse; `answering` answer, in that order, each commenting
    right after their answer when they have a comment."""
    enrol_and_send(app)
    with freeze_time(ANSWER_TIME):
        for user_id in answering:
            answer(app, user_id)
            if user_id in comments:
                comment(app, user_id, comments[user_id])
    app.slack.reset_calls()


def digest_job(app: RunningApp, when: str = DIGEST_TIME) -> str:
    with freeze_time(when):
        return run_job("digest", JobContext(app.settings, app.db, app.services.messenger)).summary()


def digest_post(slack: FakeSlack) -> dict[str, Any]:
    (post,) = [c.params for c in slack.calls_to("chat.postMessage") if c.params["channel"] == "CCOUNCIL" and not c.params.get("thread_ts")]
    return post


def comment_replies(slack: FakeSlack) -> list[dict[str, Any]]:
    """The comment messages in the digest's thread (the chart is a file, decisions come later)."""
    return [
        c.params for c in slack.calls_to("chat.postMessage")
        if c.params.get("thread_ts") and c.params["text"].startswith("Pulse comments")
    ]


def shown_comments(replies: Sequence[dict[str, Any]]) -> list[str]:
    """What the council reads: every section of every reply, in order (a comment is one section
    unless it is longer than a section holds)."""
    return [block["text"]["text"] for reply in replies for block in reply["blocks"] if block["type"] == "section"]


def test_comments_of_a_week_with_enough_respondents_reach_the_council_word_for_word(
    app: RunningApp, db: Database, slack: FakeSlack
) -> None:
    # Answered (and commented) in an order that is not the alphabet's.
    said = {
        "USALE0": "Validation eats my Fridays & nobody sees it.",
        "ULEGA2": "*Bold* idea: train us before go-live.\nSecond line stays.",
        "USALE3": "Ask <!channel> and <@U0BOSS> why the checker is down",
        "ULEGA0": "AI drafts are fine; the reconciliation is not.",
    }
    week_with(app, ["USALE3", "ULEGA2", "USALE0", "ULEGA0", "USALE1", "ULEGA1"], said)
    assert digest_job(app) == f"digest {WEEK}: posted"
    post, replies = digest_post(slack), comment_replies(slack)
    assert len(replies) == 1
    (reply,) = replies
    assert reply["channel"] == "CCOUNCIL" and reply["thread_ts"] == slack.messages["CCOUNCIL"][0]["ts"]
    assert_valid_message(reply["text"], reply["blocks"])
    # Word for word, escaped so nothing in them mentions or links, in alphabetical order.
    assert shown_comments(replies) == [
        "AI drafts are fine; the reconciliation is not.",
        "Ask &lt;!channel&gt; and &lt;@U0BOSS&gt; why the checker is down",
        "*Bold* idea: train us before go-live.\nSecond line stays.",
        "Validation eats my Fridays &amp; nobody sees it.",
    ]
    everything = json.dumps(reply)
    assert "<!channel>" not in everything and "<@U0BOSS>" not in everything
    assert all(block["text"].get("verbatim") is True for block in reply["blocks"] if block["type"] == "section")
    # The notification text says what it is, never what anyone wrote; no name, no team anywhere.
    assert "checker" not in reply["text"] and f"{WEEK}" in reply["text"]
    assert not any(name in everything for name in ("Sales", "Legal", *EVERYONE))
    assert "4 comments, word for word" in everything
    assert "Validation eats" not in json.dumps(post)  # the digest itself carries no comment


def test_a_week_answered_by_fewer_than_k_people_releases_and_posts_no_comment(
    app: RunningApp, db: Database, slack: FakeSlack
) -> None:
    week_with(app, ["USALE0", "USALE1", "ULEGA0", "ULEGA1"], {"USALE0": "Only four of us answered.", "ULEGA0": "Me too."})
    assert digest_job(app) == f"digest {WEEK}: posted"
    digest_post(slack)
    assert comment_replies(slack) == []
    with db.session() as session:
        assert session.scalars(select(ReleasedComment)).all() == []
        assert session.scalars(select(CommentThread)).all() == []
    everything = json.dumps([c.params for c in slack.calls_to("chat.postMessage")])
    assert "Only four" not in everything and "Me too" not in everything


def test_a_digest_without_comments_posts_no_comment_message(app: RunningApp, slack: FakeSlack) -> None:
    week_with(app, EVERYONE, {})
    assert digest_job(app) == f"digest {WEEK}: posted"
    assert comment_replies(slack) == []


def test_a_second_digest_run_posts_the_comments_once(app: RunningApp, db: Database, slack: FakeSlack) -> None:
    week_with(app, EVERYONE, {"USALE1": "Once is enough."})
    digest_job(app)
    assert digest_job(app, "2026-11-30 14:05").endswith("not posted (already posted or being posted)")
    with freeze_time("2026-12-01 09:00"):
        run_job("digest", JobContext(app.settings, app.db, app.services.messenger), force=True)
    assert len(comment_replies(slack)) == 1
    with db.session() as session:
        (thread,) = session.scalars(select(CommentThread)).all()
        assert (thread.status, thread.parts_posted) == ("posted", 1)


def test_a_thread_cut_short_by_slack_is_finished_by_the_next_run_without_repeats(
    app: RunningApp, db: Database, slack: FakeSlack
) -> None:
    # Seven long comments, twice as long once escaped: more than one reply holds, so two messages.
    long = {user: f"{user} says: " + "R&D " * 240 for user in EVERYONE}
    week_with(app, EVERYONE, long)
    # Once the first comment message is out, Slack refuses the next post (the second one).
    posted_so_far = sum(len(messages) for messages in slack.messages.values())
    refused = []

    def refuse_after_the_first_comment_message() -> None:
        if not refused and comment_replies(slack):
            refused.append(True)
            slack.fail("chat.postMessage", error="internal_error")

    for nth in range(posted_so_far + 1, posted_so_far + 60):
        slack.when_processed("chat.postMessage", nth, refuse_after_the_first_comment_message)
    assert digest_job(app) == f"digest {WEEK}: posted"
    first = comment_replies(slack)
    assert len(first) == 2  # the second was refused
    with db.session() as session:
        (thread,) = session.scalars(select(CommentThread)).all()
        assert (thread.status, thread.parts_posted, thread.error) == ("failed", 1, "internal_error")
    slack.reset_calls()
    digest_job(app, "2026-11-30 14:10")
    second = comment_replies(slack)
    assert len(second) == 1 and second[0]["text"] == f"Pulse comments for {WEEK} · message 2 of 2"
    assert second[0]["blocks"] == first[1]["blocks"]
    shown = shown_comments([first[0], second[0]])
    assert shown == [c.strip().replace("&", "&amp;") for c in sorted(long.values())]  # the ids sort them
    for reply in (first[0], *second):
        assert_valid_message(reply["text"], reply["blocks"])
    slack.reset_calls()
    digest_job(app, "2026-11-30 14:15")
    assert comment_replies(slack) == []


def test_stored_released_comments_carry_no_link_to_the_response(app: RunningApp, db: Database, slack: FakeSlack) -> None:
    said = {"USALE0": "Nobody can tell this one is mine.", "ULEGA1": "Nor this."}
    week_with(app, EVERYONE, said)
    digest_job(app)
    assert released_comments(db, KEY, WEEK) == ["Nobody can tell this one is mine.", "Nor this."]
    with db.engine.connect() as connection:
        # A random id, the week and the sealed text: no pseudonym, response, person, team or time.
        assert {c["name"] for c in inspect(connection).get_columns("released_comments")} == {"id", "week", "sealed"}
        if connection.dialect.name == "sqlite":  # no rowid: the random id orders the rows
            sql = connection.execute(text("SELECT sql FROM sqlite_master WHERE name = 'released_comments'")).scalar()
            assert "WITHOUT ROWID" in sql
        response_ids = set(connection.execute(select(Response.id)).scalars())
        rows = connection.execute(select(ReleasedComment.id, ReleasedComment.week, ReleasedComment.sealed)).all()
        assert len(rows) == 2 and {r.week for r in rows} == {WEEK}
        assert not {r.id for r in rows} & response_ids
        assert all(len(r.id) == 32 for r in rows)
        # Nowhere in the database does a comment's text stand in the clear.
        for table in Base.metadata.sorted_tables:
            for row in connection.execute(select(table)).all():
                for value in row:
                    shown = value.decode("latin-1") if isinstance(value, bytes) else str(value)
                    assert "Nobody can tell" not in shown and "Nor this" not in shown, table.name


# ---------------------------------------------------------------- the messages, by value


def test_a_comment_longer_than_a_section_is_continued_never_cut() -> None:
    amps = "&" * 1000  # 5,000 characters once escaped
    words = "word " * 200
    messages = comment_messages(WEEK, [amps, words])
    (message,) = messages
    text, blocks = message
    assert_valid_message(text, blocks)
    sections = [b["text"]["text"] for b in blocks if b["type"] == "section"]
    assert len(sections) == 3 and all(len(s) <= SECTION_CHARS for s in sections)
    assert "".join(sections[:2]) == "&amp;" * 1000  # split between two escapes, never inside one
    assert sections[2] == words


def test_many_comments_take_as_many_messages_as_the_limits_need() -> None:
    comments = [f"comment {n:03d} " + "x" * 900 for n in range(120)]
    messages = comment_messages(WEEK, comments)
    assert len(messages) > 2
    shown = []
    for number, (fallback, blocks) in enumerate(messages, start=1):
        assert_valid_message(fallback, blocks)
        assert fallback == f"Pulse comments for {WEEK} · message {number} of {len(messages)}"
        shown += [b["text"]["text"] for b in blocks if b["type"] == "section"]
    assert shown == comments
    assert comment_messages(WEEK, comments) == messages  # the same split every time
    assert comment_messages(WEEK, []) == []
