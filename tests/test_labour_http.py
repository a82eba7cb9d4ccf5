"""Logging hidden AI work in Slack: signed requests into POST /slack/events, replies via the Web API."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from freezegun import freeze_time
from slack_sdk.models.blocks import Block
from slack_sdk.models.views import View
from sqlalchemy import select

from bot.db import Database
from bot.labour.views import Logged
from bot.models import CreditReport, HiddenWorkReport
from bot.privacy import week_pseudonym
from bot.settings import Settings
from tests import factories, stored
from tests.conftest import PSEUDONYM_KEY
from tests.harness import RunningApp, running_app
from tests.slack_server import FakeSlack

try:
    from tests.blockkit import assert_valid_blocks
except ImportError:  # tests/blockkit.py is being written alongside; until then, slack_sdk's own checks

    def assert_valid_blocks(blocks: list[dict[str, Any]], *, surface: str) -> None:
        assert len(blocks) <= (50 if surface == "message" else 100)
        for block in blocks:
            parsed = Block.parse(block)
            assert parsed is not None, block
            parsed.validate_json()


TUESDAY = "2026-11-24 10:00"  # week 2026-W48
MODAL = "log_work_modal"


@pytest.fixture
def app(settings: Settings, db: Database, slack: FakeSlack) -> Iterator[RunningApp]:
    with running_app(settings, db, slack) as running:
        yield running


def reports(db: Database) -> list[Logged]:
    return stored.reports(db, PSEUDONYM_KEY.encode())


def assert_valid_view(view: dict[str, Any], *, surface: str) -> None:
    View(**view).validate_json()  # title, submit, close, private_metadata and callback_id limits
    assert_valid_blocks(view["blocks"], surface=surface)


def slash(app: RunningApp, user_id: str, text: str, when: str = TUESDAY) -> str:
    """`/pulse <text>`; the ephemeral reply as one string, after checking it against Block Kit."""
    app.slack.reset_calls()
    with freeze_time(when):
        response = app.requests.command(user_id, text)
        app.settle()
    assert response.status == 200
    (reply,) = [call.params for call in app.slack.calls_to("response_url")]
    assert reply.get("response_type") == "ephemeral"
    assert_valid_blocks(reply.get("blocks", []), surface="message")
    return str(reply.get("text", "")) + json.dumps(reply.get("blocks", []), ensure_ascii=False)


def opened_modal(app: RunningApp) -> dict[str, Any]:
    (call,) = app.slack.calls_to("views.open")
    view: dict[str, Any] = call.params["view"]
    assert view["callback_id"] == MODAL
    assert_valid_view(view, surface="modal")
    return view


def form(
    *,
    category: str | None = "validation",
    duration: str | None = "1h30m",
    tool: str | None = None,
    note: str | None = None,
    share: bool = False,
) -> dict[str, Any]:
    """view.state.values as Slack sends them for the hidden-work modal."""
    selected = None if category is None else {"text": {"type": "plain_text", "text": category}, "value": category}
    shared = [{"text": {"type": "plain_text", "text": "Show this to my manager"}, "value": "share"}] if share else []
    return {
        "log_category": {"log_category": {"type": "static_select", "selected_option": selected}},
        "log_duration": {"log_duration": {"type": "plain_text_input", "value": duration}},
        "log_tool": {"log_tool": {"type": "plain_text_input", "value": tool}},
        "log_note": {"log_note": {"type": "plain_text_input", "value": note}},
        "log_share": {"log_share": {"type": "checkboxes", "selected_options": shared}},
    }


def submit(app: RunningApp, user_id: str, values: dict[str, Any], *, private_metadata: str = "") -> Any:
    """Submit the modal; the ack's body (empty when accepted)."""
    app.slack.reset_calls()
    with freeze_time(TUESDAY):
        response = app.requests.view_submission(user_id, MODAL, values, private_metadata=private_metadata)
        app.settle()
    assert response.status == 200
    return response.json() if response.body not in (b"", b"{}") else None


def dms(slack: FakeSlack, user_id: str) -> list[dict[str, Any]]:
    found = [call.params for call in slack.calls_to("chat.postMessage") if call.params["channel"] == user_id]
    for message in found:
        assert_valid_blocks(message["blocks"], surface="message")
    return found


def open_home(app: RunningApp, user_id: str, when: str = TUESDAY) -> str:
    app.slack.reset_calls()
    with freeze_time(when):
        app.requests.event({"type": "app_home_opened", "user": user_id, "channel": "D" + user_id[1:], "tab": "home"})
        app.settle()
    (published,) = app.slack.calls_to("views.publish")
    assert_valid_view(published.params["view"], surface="home")
    return json.dumps(published.params["view"], ensure_ascii=False)


# ---------------------------------------------------------------- the one-liner


@pytest.mark.parametrize(
    ("text", "minutes", "category", "note"),
    [
        ("log 45m review checked the forecast", 45, "validation", "checked the forecast"),
        ("log 1h prompting", 60, "prompting", None),
        ("log 1h30m data cleanup fixed the dates", 90, "cleanup", "fixed the dates"),
        ("log 1h 30m cleanup", 90, "cleanup", None),
        ("log 1.5h exception handling", 90, "exceptions", None),
        ("log 1,5h workaround / shadow system rebuilt the sheet", 90, "workaround", "rebuilt the sheet"),
        ("log 2 hours spreadsheet", 120, "workaround", None),
        ("log 30 min other", 30, "other", None),
        ("log review 45m", 45, "validation", None),
        ("LOG 45M Review: checked  the draft", 45, "validation", "checked  the draft"),
        ("log 45m review a &lt;b&gt; &amp; c", 45, "validation", "a <b> & c"),
    ],
)
def test_one_line_records_the_report_and_confirms_it(
    app: RunningApp, db: Database, text: str, minutes: int, category: str, note: str | None
) -> None:
    factories.person(db, "UANNA")
    reply = slash(app, "UANNA", text)
    assert [(r.minutes, r.category, r.note) for r in reports(db)] == [(minutes, category, note)]
    assert "Logged" in reply and "this week (2026-W48)" in reply


def test_the_confirmation_shows_the_persons_total_this_week(app: RunningApp, db: Database) -> None:
    factories.person(db, "UANNA")
    slash(app, "UANNA", "log 45m review")
    reply = slash(app, "UANNA", "log 30m prompting")
    assert "Your hidden AI work this week: 1 h 15 min." in reply
    assert "Anonymous" in reply


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("log 0m review", "Log at least 1 minute."),
        ("log 13h review", "13 h is more than one report can hold (at most 12 h)."),
        ("log 30 hours review", "30 h is more than one report can hold (at most 12 h)."),
        ("log 45m frobnicate the report", "“frobnicate” is not a kind of hidden work I know."),
        ("log 45m", "What kind of hidden work was it?"),
        ("log soon review", "I couldn't read “soon” as a duration."),
        ("log 45 review", "Add a unit to “45”"),
        ("log review checked it", "How long did it take?"),
        ("log 45m review " + "x" * 10_240, "Keep the note to 500 characters (it has 10240)."),
    ],
)
def test_a_bad_one_liner_gets_its_own_message_and_nothing_is_saved(
    app: RunningApp, db: Database, text: str, message: str
) -> None:
    factories.person(db, "UANNA")
    reply = slash(app, "UANNA", text)
    assert message in reply
    assert reports(db) == []


@pytest.mark.parametrize("text", ["log 45m frobnicate", "log soon review", "log 45m"])
def test_a_one_liner_that_cannot_be_read_shows_an_example_and_the_category_words(app: RunningApp, db: Database, text: str) -> None:
    factories.person(db, "UANNA")
    reply = slash(app, "UANNA", text)
    assert "/pulse log 45m review checked the forecast" in reply
    for word in ["`review`", "`prompting`", "`cleanup`", "`exceptions`", "`workaround`", "`other`"]:
        assert word in reply


def test_someone_outside_the_roster_is_told_and_nothing_is_saved(app: RunningApp, db: Database) -> None:
    assert "not enrolled" in slash(app, "USTRANGER", "log 45m review")
    assert reports(db) == []


def test_help_explains_how_to_log_hidden_work(app: RunningApp, db: Database) -> None:
    reply = slash(app, "UANNA", "help")
    assert "/pulse log 45m review checked the forecast" in reply and "/pulse pause 2w" in reply


# ---------------------------------------------------------------- opening the form


def test_log_with_no_text_opens_the_form(app: RunningApp, db: Database, slack: FakeSlack) -> None:
    factories.person(db, "UANNA")
    with freeze_time(TUESDAY):
        assert app.requests.command("UANNA", "log", trigger_id="trig-log").status == 200
        app.settle()
    modal = opened_modal(app)
    assert slack.calls_to("views.open")[0].params["trigger_id"] == "trig-log"
    blocks = {block["block_id"]: block for block in modal["blocks"] if "block_id" in block}
    assert [o["text"]["text"] for o in blocks["log_category"]["element"]["options"]] == [
        "validation & review", "prompt work", "data cleanup", "exception handling", "workaround / shadow system", "other",
    ]
    assert blocks["log_duration"]["element"]["placeholder"]["text"] == "45m or 1h30m"
    assert blocks["log_tool"]["optional"] and blocks["log_tool"]["element"]["max_length"] == 100
    assert blocks["log_note"]["element"]["multiline"] and blocks["log_note"]["element"]["max_length"] == 500
    share = blocks["log_share"]["element"]
    assert share["type"] == "checkboxes" and "initial_options" not in share
    assert share["options"][0]["text"]["text"] == "Show this to my manager so the effort gets credit"
    assert slack.calls_to("response_url") == [] and reports(db) == []


def test_the_global_shortcut_opens_the_form(app: RunningApp, db: Database) -> None:
    with freeze_time(TUESDAY):
        assert app.requests.shortcut("UANNA", "log_hidden_work").status == 200
        app.settle()
    modal = opened_modal(app)
    note = next(b for b in modal["blocks"] if b.get("block_id") == "log_note")
    assert "initial_value" not in note["element"]


def test_the_message_shortcut_prefills_the_note_with_a_link_to_the_message(
    app: RunningApp, db: Database, slack: FakeSlack
) -> None:
    with freeze_time(TUESDAY):
        posted = app.services.messenger.client.chat_postMessage(channel="C0001", text="The forecast draft")
        message = {"type": "message", "ts": posted["ts"], "text": "The forecast draft", "user": "UBEN"}
        assert app.requests.shortcut("UANNA", "log_hidden_work_message", message=message, channel_id="C0001").status == 200
        app.settle()
    modal = opened_modal(app)
    note = next(b for b in modal["blocks"] if b.get("block_id") == "log_note")
    assert note["element"]["initial_value"] == f"https://test.slack.com/archives/C0001/p{posted['ts'].replace('.', '')}"
    assert slack.calls_to("chat.getPermalink")[0].params["message_ts"] == posted["ts"]


def test_the_message_shortcut_still_opens_the_form_when_slack_gives_no_link(
    app: RunningApp, db: Database, slack: FakeSlack
) -> None:
    message = {"type": "message", "ts": "1700000000.000100", "text": "gone", "user": "UBEN"}
    with freeze_time(TUESDAY):
        app.requests.shortcut("UANNA", "log_hidden_work_message", message=message)
        app.settle()
    note = next(b for b in opened_modal(app)["blocks"] if b.get("block_id") == "log_note")
    assert "initial_value" not in note["element"]


# ---------------------------------------------------------------- submitting the form


def test_the_form_stores_one_report_and_confirms_it_in_a_dm(app: RunningApp, db: Database, slack: FakeSlack) -> None:
    factories.person(db, "UANNA", team_path="Finance", level="entry")
    values = form(category="cleanup", duration="1h30m", tool=" Copilot ", note="  fixed <!channel> dates  ")
    assert submit(app, "UANNA", values) is None
    (row,) = reports(db)
    assert (row.category, row.minutes, row.tool, row.note, row.week) == ("cleanup", 90, "Copilot", "fixed <!channel> dates", "2026-W48")
    assert row.shared_with_manager is False
    with db.session() as session:
        assert session.scalars(select(HiddenWorkReport.pseudonym)).all() == [week_pseudonym(app.key, "2026-W48", "UANNA")]
    (confirmation,) = dms(slack, "UANNA")
    text = confirmation["text"] + json.dumps(confirmation["blocks"], ensure_ascii=False)
    assert "Logged 1 h 30 min of data cleanup" in text and "Tool: Copilot" in text
    assert "<!channel>" not in json.dumps(confirmation["blocks"])


def test_show_to_my_manager_is_the_only_case_that_names_the_author(app: RunningApp, db: Database, slack: FakeSlack) -> None:
    person_id = factories.person(db, "UANNA")
    submit(app, "UANNA", form(share=False))
    submit(app, "UANNA", form(share=True))
    assert "Shown to your manager" in json.dumps(dms(slack, "UANNA")[0]["blocks"])
    slash(app, "UANNA", "log 45m review")
    assert [r.shared_with_manager for r in reports(db)] == [False, False, True]
    assert stored.credit_people(db) == [person_id]


def test_no_report_row_holds_the_slack_user_id(app: RunningApp, db: Database) -> None:
    factories.person(db, "UANNA")
    submit(app, "UANNA", form(share=True, note="checked the forecast"))
    slash(app, "UANNA", "log 45m review checked the draft")
    with db.engine.connect() as connection:
        for table in (HiddenWorkReport.__table__, CreditReport.__table__):
            for row in connection.execute(select(table)):
                assert "UANNA" not in repr(tuple(row))
    assert len(reports(db)) == 2


@pytest.mark.parametrize(
    ("values", "block", "message"),
    [
        (form(duration="0m"), "log_duration", "Log at least 1 minute."),
        (form(duration="13h"), "log_duration", "13 h is more than one report can hold"),
        (form(duration="30 hours"), "log_duration", "30 h is more than one report can hold"),
        (form(duration="soon"), "log_duration", "I couldn't read “soon” as a duration"),
        (form(duration=None), "log_duration", "Say how long it took"),
        (form(category=None), "log_category", "Say what kind of work it was"),
        (form(category="frobnicate"), "log_category", "“frobnicate” is not a kind of hidden work"),
        (form(note="x" * 10_240), "log_note", "Keep the note to 500 characters (it has 10240)."),
        (form(tool="t" * 101), "log_tool", "Keep the tool name to 100 characters"),
    ],
)
def test_bad_form_input_comes_back_in_the_ack_and_nothing_is_saved(
    app: RunningApp, db: Database, slack: FakeSlack, values: dict[str, Any], block: str, message: str
) -> None:
    factories.person(db, "UANNA")
    answer = submit(app, "UANNA", values)
    assert answer["response_action"] == "errors"
    assert list(answer["errors"]) == [block]
    assert message in answer["errors"][block]
    assert reports(db) == [] and slack.calls_to("chat.postMessage") == []


def test_an_empty_form_hears_about_duration_and_category_at_once(app: RunningApp, db: Database) -> None:
    factories.person(db, "UANNA")
    answer = submit(app, "UANNA", form(category=None, duration=""))
    assert set(answer["errors"]) == {"log_category", "log_duration"}
    assert reports(db) == []


def test_a_form_that_cannot_be_read_is_refused_in_the_ack(app: RunningApp, db: Database) -> None:
    factories.person(db, "UANNA")
    values = form()
    values["log_duration"]["log_duration"]["value"] = {"not": "text"}
    answer = submit(app, "UANNA", values)
    assert answer["response_action"] == "errors" and reports(db) == []


def test_someone_outside_the_roster_is_told_in_a_dm_and_nothing_is_saved(app: RunningApp, db: Database, slack: FakeSlack) -> None:
    assert submit(app, "USTRANGER", form()) is None
    (reply,) = dms(slack, "USTRANGER")
    assert "not enrolled" in reply["text"]
    assert reports(db) == []


# ---------------------------------------------------------------- App Home


def test_app_home_shows_this_week_by_category_and_the_four_weeks_before(app: RunningApp, db: Database) -> None:
    factories.person(db, "UANNA")
    slash(app, "UANNA", "log 10h other", when="2026-10-20 10:00")  # five weeks back: not shown
    slash(app, "UANNA", "log 1h30m cleanup", when="2026-10-28 10:00")  # W44
    slash(app, "UANNA", "log 2h spreadsheet", when="2026-11-17 10:00")  # W47
    slash(app, "UANNA", "log 45m review", when="2026-11-23 10:00")  # W48
    slash(app, "UANNA", "log 30m review", when=TUESDAY)
    slash(app, "UANNA", "log 15m prompting", when=TUESDAY)
    home = open_home(app, "UANNA", when="2026-11-26 12:00")
    assert "Hidden AI work" in home
    assert "This week (2026-W48): *1 h 30 min*" in home
    assert "• validation &amp; review: 1 h 15 min\\n• prompt work: 15 min" in home
    assert "2026-W47: 2 h · 2026-W46: — · 2026-W45: — · 2026-W44: 1 h 30 min" in home
    assert "10 h" not in home and "home_log_work" in home
    assert "Your pulse" in home  # the pulse section is still there


def test_app_home_with_nothing_logged_invites_the_person_to_log(app: RunningApp, db: Database) -> None:
    factories.person(db, "UANNA")
    home = open_home(app, "UANNA")
    assert "Nothing logged this week (2026-W48)" in home and "home_log_work" in home


def test_app_home_shows_no_hidden_work_to_someone_outside_the_roster(app: RunningApp, db: Database) -> None:
    home = open_home(app, "USTRANGER")
    assert "not enrolled" in home and "Hidden AI work" not in home


def test_the_home_button_opens_the_form_and_logging_refreshes_the_home(
    app: RunningApp, db: Database, slack: FakeSlack
) -> None:
    factories.person(db, "UANNA")
    with freeze_time(TUESDAY):
        app.requests.block_action("UANNA", "home_log_work", view={"id": "VHOME", "type": "home"}, trigger_id="trig-home")
        app.settle()
    modal = opened_modal(app)
    assert slack.calls_to("views.open")[0].params["trigger_id"] == "trig-home"
    submit(app, "UANNA", form(duration="40m"), private_metadata=modal["private_metadata"])
    (published,) = slack.calls_to("views.publish")
    assert_valid_view(published.params["view"], surface="home")
    assert "This week (2026-W48): *40 min*" in json.dumps(published.params["view"], ensure_ascii=False)
    assert len(reports(db)) == 1
