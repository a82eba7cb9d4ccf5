"""Hostile and broken requests into POST /slack/events, fuzzed with Hypothesis.

Whatever arrives — random bytes, cut-off payloads, wrong content types, megabyte fields, ids the
app never made, forged button values — the app answers without a server error, logs no
traceback, writes nothing half-way and keeps serving. Requests Slack did not sign (or signed for
another body, or long ago) are refused with 401 before they are parsed, written or answered.

Each test starts the app once and runs its examples in a loop inside it, then proves the app
still records a real answer.
"""

from __future__ import annotations

import http.client
import json
import logging
import time
from collections.abc import Callable, Iterator
from typing import Any
from urllib.parse import parse_qsl, quote, urlencode

import pytest
from freezegun import freeze_time
from hypothesis import HealthCheck, given
from hypothesis import settings as examples
from hypothesis import strategies as st
from sqlalchemy import select

from bot.db import Base, Database
from bot.settings import Settings
from bot.slack.blocks.common import parse_id
from bot.slack.blocks.rights import parse_more_value as mydata_position
from bot.slack.blocks.summary import parse_more_value as summary_position
from bot.slack.inputs import FORM_UNREADABLE
from bot.slack.pulse import STALE_FORM
from bot.slack.stale import STALE_BUTTON
from bot.slack.web import MAX_BODY_BYTES
from bot.surveys.service import run_pulse_job
from tests import factories, stored
from tests.conftest import PSEUDONYM_KEY
from tests.harness import RunningApp, running_app
from tests.slack_requests import Response, SignedSlack, slack_signature
from tests.slack_server import FakeSlack
from tests.test_pulse_http import buttons

TUESDAY_MORNING = "2026-11-24 09:00"  # 10:00 in Berlin: the pulse goes out
TUESDAY_LATER = "2026-11-24 09:05"
FORM = "application/x-www-form-urlencoded"
JSON = "application/json"
MEGABYTE = 1_000_000

FUZZ = examples(
    max_examples=40,
    deadline=None,
    database=None,  # the examples are cheap to find again; nothing is left in the shared tree
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.large_base_example],
)
FEW = examples(FUZZ, max_examples=12)  # for megabyte bodies


# ---------------------------------------------------------------- the app, seeded with one pulse


class Seeded:
    """The running app with Anna's pulse in her DM, and what a forger would need to know."""

    def __init__(self, app: RunningApp) -> None:
        self.app = app
        message = app.slack.messages["DANNA"][0]
        self.message_ts: str = message["ts"]
        self.buttons = buttons(message)
        self.round_id = int(self.buttons["pulse_comment"]["value"])
        self.errors: list[logging.LogRecord] = []

    @property
    def db(self) -> Database:
        return self.app.db

    @property
    def slack(self) -> FakeSlack:
        return self.app.slack

    def post(self, body: bytes, content_type: str) -> Response:
        return self.app.requests.post_raw(body, self.app.requests.signed_headers(body, content_type))


class _ErrorLog(logging.Handler):
    """Every ERROR logged anywhere, from any thread: Bolt logs a listener's traceback this way."""

    def __init__(self, into: list[logging.LogRecord]) -> None:
        super().__init__(level=logging.ERROR)
        self.into = into

    def emit(self, record: logging.LogRecord) -> None:
        self.into.append(record)


@pytest.fixture
def seeded(settings: Settings, db: Database, slack: FakeSlack) -> Iterator[Seeded]:
    factories.person(db, "UANNA", tz="Europe/Berlin")
    with running_app(settings, db, slack) as app:
        with freeze_time(TUESDAY_MORNING):
            run_pulse_job(app.db, app.services.messenger, app.services.behaviour)
        seeded = Seeded(app)
        handler = _ErrorLog(seeded.errors)
        logging.getLogger().addHandler(handler)
        try:
            yield seeded
        finally:
            logging.getLogger().removeHandler(handler)


# ---------------------------------------------------------------- what "changed nothing" means


def snapshot(db: Database) -> dict[str, list[str]]:
    """Every row of every table, in a stable order."""
    with db.engine.connect() as connection:
        return {
            table.name: sorted(repr(tuple(row)) for row in connection.execute(select(table)))
            for table in Base.metadata.sorted_tables
        }


def web_api_calls(slack: FakeSlack) -> list[str]:
    """What the app asked of Slack, leaving out Bolt's one-off auth.test at its first request."""
    return [call.method for call in slack.calls if call.method != "auth.test"]


def refused_cleanly(seeded: Seeded, response: Response, before: dict[str, list[str]]) -> None:
    """No server error, no traceback in a listener, and the database exactly as it was."""
    assert response.status < 500, f"{response.status}: {response.text[:300]}"
    seeded.app.settle()
    assert [record.getMessage()[:300] for record in seeded.errors] == []
    assert snapshot(seeded.db) == before


def still_records_an_answer(seeded: Seeded) -> None:
    """After the fuzzing, a real click from Anna is recorded and her message updated."""
    button = seeded.buttons["pulse_answer:capability:3"]
    with freeze_time(TUESDAY_LATER):
        response = seeded.app.requests.block_action(
            "UANNA", button["action_id"], button["value"], channel_id="DANNA", message_ts=seeded.message_ts
        )
        seeded.app.settle()
    assert response.status == 200
    assert stored.answers(seeded.db, PSEUDONYM_KEY.encode()) == [("capability", 4.0)]
    assert "1 of 6 answered" in json.dumps(seeded.slack.messages["DANNA"][0]["blocks"])
    assert seeded.errors == []


# ---------------------------------------------------------------- real requests, kept instead of sent


class _Keeper(SignedSlack):
    """SignedSlack's builders, keeping the body and content type instead of sending them."""

    def __init__(self, seeded: Seeded) -> None:
        # Replies still go to the local Slack server should a cut-off request be acted on.
        super().__init__("http://unused", "unused", response_url_factory=seeded.slack.response_url)
        self.kept: tuple[bytes, str] = (b"", "")

    def post_raw(self, body: bytes, headers: dict[str, str]) -> Response:
        self.kept = (body, headers["Content-Type"])
        return Response(200, b"")


Build = Callable[[SignedSlack, Seeded], object]


def built(seeded: Seeded, build: Build) -> tuple[bytes, str]:
    keeper = _Keeper(seeded)
    build(keeper, seeded)
    return keeper.kept


def comment_values(text: str) -> dict[str, Any]:
    return {"comment": {"comment_text": {"type": "plain_text_input", "value": text}}}


def log_form(*, duration: str = "1h30m", category: str = "validation", note: str | None = None) -> dict[str, Any]:
    return {
        "log_category": {"log_category": {"type": "static_select", "selected_option": {"value": category}}},
        "log_duration": {"log_duration": {"type": "plain_text_input", "value": duration}},
        "log_tool": {"log_tool": {"type": "plain_text_input", "value": None}},
        "log_note": {"log_note": {"type": "plain_text_input", "value": note}},
        "log_share": {"log_share": {"type": "checkboxes", "selected_options": []}},
    }


def question_values(text: str) -> dict[str, Any]:
    return {
        "question_text": {"question_text": {"type": "plain_text_input", "value": text}},
        "question_named": {"question_named": {"type": "checkboxes", "selected_options": []}},
    }


# Requests that change data when Slack sends them: refusing them must leave every row alone.
REAL_REQUESTS: dict[str, Build] = {
    "answer click": lambda s, seeded: s.block_action(
        "UANNA", "pulse_answer:capability:3", seeded.buttons["pulse_answer:capability:3"]["value"],
        channel_id="DANNA", message_ts=seeded.message_ts,
    ),
    "skip this week": lambda s, seeded: s.block_action(
        "UANNA", "pulse_skip", str(seeded.round_id), channel_id="DANNA", message_ts=seeded.message_ts
    ),
    "comment": lambda s, seeded: s.view_submission(
        "UANNA", "pulse_comment_modal", comment_values("Too many tools"), private_metadata=str(seeded.round_id)
    ),
    "hidden work form": lambda s, seeded: s.view_submission("UANNA", "log_work_modal", log_form()),
    "/pulse pause": lambda s, seeded: s.command("UANNA", "pause 2w"),
    "/pulse log": lambda s, seeded: s.command("UANNA", "log 45m review checked the forecast"),
    "forget confirmed": lambda s, seeded: s.block_action("UANNA", "forget_confirm", "forget"),
    "home pause": lambda s, seeded: s.block_action("UANNA", "home_pause", "2", view={"id": "VHOME", "type": "home"}),
    "app home opened": lambda s, seeded: s.event({"type": "app_home_opened", "user": "UANNA", "channel": "DANNA", "tab": "home"}),
    "log shortcut": lambda s, seeded: s.shortcut("UANNA", "log_hidden_work"),
}
real_requests = st.sampled_from(sorted(REAL_REQUESTS))
# Everything but slash commands carries JSON (a JSON body, or a form whose `payload` is JSON).
json_requests = st.sampled_from(sorted(name for name in REAL_REQUESTS if not name.startswith("/")))


# ---------------------------------------------------------------- strategies

CONTENT_TYPES = [
    FORM,
    JSON,
    "application/json; charset=utf-8",
    "text/plain",
    "text/html",
    "multipart/form-data; boundary=----x",
    "application/octet-stream",
    "application/xml",
    "",
]
content_types = st.sampled_from(CONTENT_TYPES)
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=4),
    max_leaves=12,
)
garbage_bodies = st.one_of(
    st.binary(max_size=2000),
    st.text(max_size=500).map(str.encode),
    json_values.map(lambda value: json.dumps(value).encode()),
    st.dictionaries(st.text(max_size=12), st.text(max_size=40), max_size=6).map(lambda fields: urlencode(fields).encode()),
)
# Action ids the app listens for, in the shapes its buttons carry values.
VALUE_ACTIONS = [
    "pulse_answer:capability:0",
    "pulse_answer:nosuchquestion:9",
    "pulse_skip",
    "pulse_unskip",
    "pulse_comment",
    "explainer_helpful",
    "explainer_not_helpful",
    "explainer_question",
    "digest_decision:continue",
    "summary_more",
    "mydata_more",
]
KNOWN_ACTIONS = {
    "pulse_skip", "pulse_unskip", "pulse_comment", "home_pause", "home_resume", "home_log_work",
    "log_category", "log_duration", "log_tool", "log_note", "log_share",
    "explainer_helpful", "explainer_not_helpful", "explainer_question", "question_text", "question_named",
    "forget_confirm", "summary_more", "mydata_more",
}
KNOWN_CALLBACKS = {"pulse_comment_modal", "log_work_modal", "explainer_question_modal", "log_hidden_work", "log_hidden_work_message"}
ids = st.text(st.characters(codec="utf-8", exclude_categories=["Cs"]), min_size=1, max_size=255)
unknown_action_ids = ids.filter(
    lambda a: a not in KNOWN_ACTIONS and not a.startswith(("pulse_answer:", "digest_decision:"))
)
unknown_callback_ids = ids.filter(lambda c: c not in KNOWN_CALLBACKS)
forged_numbers = st.one_of(
    st.integers(),
    st.integers(min_value=2**31 - 2, max_value=2**31 + 2),
    st.integers(min_value=2**63 - 2, max_value=2**63 + 2),
    st.integers(min_value=-(2**63) - 2, max_value=-(2**63) + 2),
).map(str)
forged_values = st.one_of(
    st.text(max_size=80),
    forged_numbers,
    st.tuples(forged_numbers, st.sampled_from(["capability", "workload", "", "x" * 300]), forged_numbers).map(":".join),
    st.tuples(forged_numbers, st.text(max_size=10), st.sampled_from(["continue", "pause", "review", ""])).map(":".join),
)


# ---------------------------------------------------------------- garbage in, 4xx out, nothing written


def test_garbage_bodies_never_get_a_server_error(seeded: Seeded) -> None:
    before = snapshot(seeded.db)

    @FUZZ
    @given(body=garbage_bodies, content_type=content_types)
    def send(body: bytes, content_type: str) -> None:
        seeded.slack.reset_calls()
        refused_cleanly(seeded, seeded.post(body, content_type), before)
        assert web_api_calls(seeded.slack) == []

    send()
    still_records_an_answer(seeded)


def test_cut_off_json_is_refused_as_unreadable_and_changes_nothing(seeded: Seeded) -> None:
    before = snapshot(seeded.db)

    @FUZZ
    @given(name=json_requests, cut=st.floats(min_value=0.0, max_value=1.0, exclude_max=True))
    def send(name: str, cut: float) -> None:
        body, content_type = built(seeded, REAL_REQUESTS[name])
        cut_off = body[: max(1, int(len(body) * cut))]
        response = seeded.post(cut_off, content_type)
        # A form cut inside its field name (`payloa`) is no request at all, which Bolt answers as
        # unhandled; from `payload` on, with its value empty or cut, it is an unreadable one.
        assert response.status == (400 if content_type == JSON or b"payload" in cut_off else 404)
        refused_cleanly(seeded, response, before)

    send()
    still_records_an_answer(seeded)


@pytest.mark.parametrize(("body", "status"), [(b"payloa", 404), (b"payload", 400), (b"payload=", 400), (b"payload=%7B", 400)])
def test_a_form_cut_around_its_payload_field_is_refused_the_same_way_every_time(seeded: Seeded, body: bytes, status: int) -> None:
    before = snapshot(seeded.db)
    response = seeded.post(body, FORM)
    assert response.status == status
    refused_cleanly(seeded, response, before)


def test_slash_commands_missing_fields_slack_always_sends_are_refused(seeded: Seeded) -> None:
    before = snapshot(seeded.db)

    @FUZZ
    @given(
        name=st.sampled_from(["/pulse pause", "/pulse log"]),
        missing=st.sets(st.sampled_from(["user_id", "command", "response_url", "trigger_id"]), min_size=1),
    )
    def send(name: str, missing: set[str]) -> None:
        body, content_type = built(seeded, REAL_REQUESTS[name])
        fields = {k: v for k, v in parse_qsl(body.decode()) if k not in missing}
        seeded.slack.reset_calls()
        response = seeded.post(urlencode(fields).encode(), content_type)
        assert response.status in (400, 404)  # 404: without `command` Bolt has nothing to match
        refused_cleanly(seeded, response, before)
        assert web_api_calls(seeded.slack) == []

    send()
    still_records_an_answer(seeded)


def test_real_payloads_under_the_wrong_content_type_get_no_server_error(seeded: Seeded) -> None:
    @FUZZ
    @given(name=real_requests, content_type=content_types)
    def send(name: str, content_type: str) -> None:
        body, _ = built(seeded, REAL_REQUESTS[name])
        response = seeded.post(body, content_type)
        assert response.status < 500, f"{response.status}: {response.text[:300]}"
        seeded.app.settle()
        assert seeded.errors == []

    send()


def test_bodies_that_are_not_utf8_are_refused_as_unreadable(seeded: Seeded) -> None:
    before = snapshot(seeded.db)

    @FUZZ
    @given(name=real_requests, at=st.floats(min_value=0.0, max_value=1.0), bad=st.sampled_from([b"\xff", b"\xc3", b"\xed\xa0\x80", b"\x80\x80"]))
    def send(name: str, at: float, bad: bytes) -> None:
        body, content_type = built(seeded, REAL_REQUESTS[name])
        where = int(len(body) * at)
        response = seeded.post(body[:where] + bad + body[where:], content_type)
        assert response.status == 400
        refused_cleanly(seeded, response, before)

    send()
    still_records_an_answer(seeded)


def test_malformed_payload_fields_never_get_a_server_error(seeded: Seeded) -> None:
    before = snapshot(seeded.db)
    kinds = st.sampled_from(["block_actions", "view_submission", "shortcut", "message_action", "event_callback", "x"])
    payloads = st.one_of(
        st.text(max_size=200),
        json_values.map(json.dumps),
        st.builds(
            lambda kind, extra: json.dumps({"type": kind, **extra}),
            kinds,
            st.dictionaries(st.sampled_from(["user", "actions", "view", "callback_id", "team", "container", "trigger_id"]), json_values, max_size=4),
        ),
    )

    @FUZZ
    @given(payload=payloads, quoted=st.booleans())
    def send(payload: str, quoted: bool) -> None:
        body = ("payload=" + (quote(payload) if quoted else payload)).encode()
        refused_cleanly(seeded, seeded.post(body, FORM), before)

    send()
    still_records_an_answer(seeded)


# ---------------------------------------------------------------- huge fields


def test_megabyte_fields_are_refused_without_a_trace(seeded: Seeded) -> None:
    before = snapshot(seeded.db)

    @FEW
    @given(
        where=st.sampled_from(["button value", "action id", "comment", "hidden work note", "question", "command text", "metadata"]),
        size=st.just(MEGABYTE) | st.integers(min_value=1_001, max_value=MEGABYTE),
        # Not whitespace: a comment of spaces alone is a blank comment, which Slack may send.
        letter=st.sampled_from(["x", "0", "é", "日", "🙂", "<", "&", "%", '"', "\\", ":"]),
    )
    def send(where: str, size: int, letter: str) -> None:
        # `size` bytes as Slack's JSON carries the field, and always past every limit the app sets.
        # (A JSON-escaped quote is two bytes: strip('"') would take its backslash for all of it.)
        huge = letter * max(1_001, size // len(json.dumps(letter)[1:-1]))
        requests = seeded.app.requests
        seeded.slack.reset_calls()
        if where == "button value":
            response = requests.block_action("UANNA", "pulse_answer:capability:0", huge, channel_id="DANNA", message_ts=seeded.message_ts)
        elif where == "action id":
            response = requests.block_action("UANNA", "pulse_answer:" + huge, "0:capability:0")
        elif where == "comment":
            response = requests.view_submission("UANNA", "pulse_comment_modal", comment_values(huge), private_metadata=str(seeded.round_id))
        elif where == "hidden work note":
            response = requests.view_submission("UANNA", "log_work_modal", log_form(note=huge))
        elif where == "question":
            response = requests.view_submission("UANNA", "explainer_question_modal", question_values(huge), private_metadata="go-live")
        elif where == "command text":
            response = requests.command("USTRANGER", huge)
        else:
            response = requests.view_submission("UANNA", "pulse_comment_modal", comment_values("fine"), private_metadata=huge)
        refused_cleanly(seeded, response, before)
        if where in ("comment", "hidden work note", "question", "metadata"):
            assert response.json()["response_action"] == "errors"

    send()
    still_records_an_answer(seeded)


def test_a_whole_body_larger_than_slack_ever_sends_is_answered_413(seeded: Seeded) -> None:
    """The client sends all of it, as any HTTP client does; the app answers without reading it
    and the client still reads that answer (the server drains the rest as it closes)."""
    before = snapshot(seeded.db)
    for field in ("payload", "text"):
        body = urlencode({field: "x" * (MAX_BODY_BYTES + 1)}).encode()
        response = seeded.post(body, FORM)
        assert (response.status, response.text) == (413, "request too large")
        refused_cleanly(seeded, response, before)
    still_records_an_answer(seeded)


def test_a_body_larger_than_slack_ever_sends_is_refused_before_it_is_read(seeded: Seeded) -> None:
    before = snapshot(seeded.db)
    # The request says 64 MiB are coming and sends a few bytes: the answer comes at once, so
    # the app never waited for (or held) the rest.
    connection = http.client.HTTPConnection(seeded.app.url.removeprefix("http://"), timeout=10)
    try:
        connection.putrequest("POST", "/slack/events")
        connection.putheader("Content-Type", "application/x-www-form-urlencoded")
        connection.putheader("Content-Length", str(64 * 1024 * 1024))
        connection.endheaders(b"payload=%7B")
        answer = connection.getresponse()
        status, text = answer.status, answer.read().decode()
    finally:
        connection.close()
    assert (status, text) == (413, "request too large")
    refused_cleanly(seeded, Response(status, text.encode(), {}), before)
    still_records_an_answer(seeded)


# ---------------------------------------------------------------- ids and values the app never made


def test_unknown_action_ids_are_answered_and_unknown_callback_ids_ignored(seeded: Seeded) -> None:
    """A button the app does not know is acknowledged and answered (it comes from an older message
    or version); a form or shortcut it does not know is refused with 404."""
    before = snapshot(seeded.db)

    @FUZZ
    @given(kind=st.sampled_from(["action", "view", "shortcut"]), action_id=unknown_action_ids, callback_id=unknown_callback_ids)
    def send(kind: str, action_id: str, callback_id: str) -> None:
        seeded.slack.reset_calls()
        requests = seeded.app.requests
        if kind == "action":
            response = requests.block_action("UANNA", action_id, "1", channel_id="DANNA", message_ts=seeded.message_ts)
        elif kind == "view":
            response = requests.view_submission("UANNA", callback_id, comment_values("hello"), private_metadata=str(seeded.round_id))
        else:
            response = requests.shortcut("UANNA", callback_id)
        refused_cleanly(seeded, response, before)
        if kind == "action":
            assert response.status == 200
            (reply,) = seeded.slack.calls_to("response_url")
            assert reply.params["response_type"] == "ephemeral" and reply.params["text"] == STALE_BUTTON
            assert web_api_calls(seeded.slack) == ["response_url"]
        else:
            assert response.status == 404
            assert web_api_calls(seeded.slack) == []

    send()
    still_records_an_answer(seeded)


def test_forms_with_unknown_block_ids_are_refused_in_the_modal(seeded: Seeded) -> None:
    before = snapshot(seeded.db)
    state = st.dictionaries(ids, st.dictionaries(ids, st.fixed_dictionaries({"value": st.text(max_size=30)}), max_size=2), max_size=3)

    @FUZZ
    @given(
        callback_id=st.sampled_from(["pulse_comment_modal", "log_work_modal", "explainer_question_modal"]),
        values=state,
        # Not the round's id: a comment form without its input is a blank comment, which is allowed.
        metadata=st.text(max_size=30).filter(lambda m: not m.isdigit()),
    )
    def send(callback_id: str, values: dict[str, Any], metadata: str) -> None:
        known = {"comment", "log_category", "log_duration", "log_tool", "log_note", "log_share", "question_text", "question_named"}
        values = {block: inner for block, inner in values.items() if block not in known}
        response = seeded.app.requests.view_submission("UANNA", callback_id, values, private_metadata=metadata)
        refused_cleanly(seeded, response, before)
        assert response.json()["response_action"] == "errors"

    send()
    still_records_an_answer(seeded)


def test_forged_button_values_are_refused_politely_and_change_nothing(seeded: Seeded) -> None:
    before = snapshot(seeded.db)
    library = seeded.app.settings.explainers

    def legitimate(action_id: str, value: str) -> bool:
        """A value the app itself could have put on the button: it is allowed to act on it."""
        if action_id.startswith("explainer_"):
            return library.get(value) is not None
        if action_id in ("summary_more", "mydata_more"):
            # A position the app could have written: it answers with that part of the reply.
            parse = summary_position if action_id == "summary_more" else mydata_position
            try:
                parse(value)
            except ValueError:
                return False
            return True
        if action_id in ("pulse_skip", "pulse_unskip", "pulse_comment"):
            try:
                return int(value) == seeded.round_id
            except ValueError:
                return False
        return False

    @FUZZ
    @given(action_id=st.sampled_from(VALUE_ACTIONS), value=forged_values)
    def send(action_id: str, value: str) -> None:
        if legitimate(action_id, value):
            return
        seeded.slack.reset_calls()
        response = seeded.app.requests.block_action("UANNA", action_id, value, channel_id="DANNA", message_ts=seeded.message_ts)
        assert response.status == 200
        refused_cleanly(seeded, response, before)
        replies = seeded.slack.calls_to("response_url")
        assert len(replies) == 1 and replies[0].params["response_type"] == "ephemeral"
        assert seeded.slack.calls_to("chat.update") == []

    send()
    still_records_an_answer(seeded)


# ---------------------------------------------------------------- /pulse with any words


def test_any_slash_command_text_from_a_stranger_gets_one_reply_and_changes_nothing(seeded: Seeded) -> None:
    before = snapshot(seeded.db)
    words = st.sampled_from(["", "help", "pause", "resume", "log", "summary", "mydata", "forget", "Sales", "2w", "45m", "&lt;"])
    texts = st.one_of(st.text(max_size=200), st.lists(words | st.text(max_size=8), max_size=6).map(" ".join))

    @FUZZ
    @given(text=texts)
    def send(text: str) -> None:
        seeded.slack.reset_calls()
        response = seeded.app.requests.command("USTRANGER", text)
        assert response.status == 200
        refused_cleanly(seeded, response, before)
        replies = seeded.slack.calls_to("response_url") + seeded.slack.calls_to("views.open")
        assert len(replies) == 1  # a reply, or the hidden-work form for `/pulse log` alone

    send()
    still_records_an_answer(seeded)


def test_any_hidden_work_line_records_one_whole_report_or_nothing(seeded: Seeded) -> None:
    words = st.sampled_from(["45m", "1h", "1h30m", "1.5h", "0m", "13h", "review", "cleanup", "prompt", "work", "spreadsheet", "&amp;", "<!channel>"])
    lines = st.lists(words | st.text(max_size=12), max_size=6).map(" ".join)

    @FUZZ
    @given(line=lines)
    def send(line: str) -> None:
        before = snapshot(seeded.db)
        seeded.slack.reset_calls()
        response = seeded.app.requests.command("UANNA", "log " + line)
        assert response.status == 200
        seeded.app.settle()
        assert seeded.errors == []
        after = snapshot(seeded.db)
        changed = {table for table in after if after[table] != before[table]}
        # A first report in a week also records the reporter in that week's roster, once, and the
        # first thing sealed at all records the key's fingerprint, once.
        assert changed <= {"hidden_work_reports", "week_roster", "key_fingerprints"}
        assert not before["key_fingerprints"] or after["key_fingerprints"] == before["key_fingerprints"]
        assert len(after["key_fingerprints"]) <= 1
        assert len(after["hidden_work_reports"]) - len(before["hidden_work_reports"]) in (0, 1)
        assert set(before["week_roster"]) <= set(after["week_roster"])
        assert len(after["week_roster"]) - len(before["week_roster"]) <= len(after["hidden_work_reports"]) - len(before["hidden_work_reports"])
        if changed:
            assert set(before["hidden_work_reports"]) <= set(after["hidden_work_reports"])
        replies = seeded.slack.calls_to("response_url") + seeded.slack.calls_to("views.open")
        assert len(replies) == 1

    send()
    still_records_an_answer(seeded)


# ---------------------------------------------------------------- requests Slack did not sign

FORGERIES = ["unsigned", "no timestamp", "wrong secret", "random signature", "altered body", "stale", "from the future",
             "timestamp not a number", "timestamp past any clock", "signature of another timestamp"]


def forged_headers(seeded: Seeded, body: bytes, content_type: str, forgery: str, secret: str, shift: int, noise: str) -> tuple[bytes, dict[str, str]]:
    now = int(time.time())
    signing_secret = seeded.app.requests.signing_secret
    headers = {"Content-Type": content_type, "X-Slack-Request-Timestamp": str(now),
               "X-Slack-Signature": slack_signature(signing_secret, str(now), body)}
    if forgery == "unsigned":
        del headers["X-Slack-Signature"], headers["X-Slack-Request-Timestamp"]
    elif forgery == "no timestamp":
        del headers["X-Slack-Request-Timestamp"]
    elif forgery == "wrong secret":
        headers["X-Slack-Signature"] = slack_signature(secret, str(now), body)
    elif forgery == "random signature":
        headers["X-Slack-Signature"] = noise
    elif forgery == "altered body":  # a replay of a real request with the body changed
        body = body + noise.encode() if noise else body[:-1]
    elif forgery in ("stale", "from the future"):
        stamp = str(now - shift if forgery == "stale" else now + shift)
        headers["X-Slack-Request-Timestamp"] = stamp
        headers["X-Slack-Signature"] = slack_signature(signing_secret, stamp, body)
    elif forgery in ("timestamp not a number", "timestamp past any clock"):
        stamp = (noise or "soon") if forgery == "timestamp not a number" else "9" * 400
        headers["X-Slack-Request-Timestamp"] = stamp
        headers["X-Slack-Signature"] = slack_signature(signing_secret, stamp, body)
    else:
        headers["X-Slack-Request-Timestamp"] = str(now - 1)
    return body, headers


def test_requests_not_signed_by_slack_are_refused_before_any_work(seeded: Seeded) -> None:
    before = snapshot(seeded.db)
    seeded.app.requests.command("USTRANGER", "help")  # Bolt's first-request auth.test, out of the way
    seeded.app.settle()

    @FUZZ
    @given(
        name=real_requests,
        forgery=st.sampled_from(FORGERIES),
        secret=st.text(min_size=1, max_size=40).filter(lambda s: s != seeded.app.requests.signing_secret),
        shift=st.integers(min_value=310, max_value=10**9),
        noise=st.text(st.characters(codec="ascii", exclude_categories=["Cc"]), max_size=70).filter(lambda n: not n.strip().lstrip("-").isdigit()),
    )
    def send(name: str, forgery: str, secret: str, shift: int, noise: str) -> None:
        body, content_type = built(seeded, REAL_REQUESTS[name])
        body, headers = forged_headers(seeded, body, content_type, forgery, secret, shift, noise)
        calls = len(seeded.slack.calls)
        response = seeded.app.requests.post_raw(body, headers)
        assert response.status == 401
        refused_cleanly(seeded, response, before)
        assert len(seeded.slack.calls) == calls

    send()
    still_records_an_answer(seeded)


# ---------------------------------------------------------------- regressions the fuzzing found


def test_a_timestamp_that_is_not_a_number_gets_401_not_a_server_error(seeded: Seeded) -> None:
    before = snapshot(seeded.db)
    body, content_type = built(seeded, REAL_REQUESTS["answer click"])
    seeded.slack.reset_calls()
    for stamp in ["soon", "1.5e9", "", "9" * 400]:
        headers = {"Content-Type": content_type, "X-Slack-Request-Timestamp": stamp,
                   "X-Slack-Signature": slack_signature(seeded.app.requests.signing_secret, stamp, body)}
        response = seeded.app.requests.post_raw(body, headers)
        assert response.status == 401, stamp
        refused_cleanly(seeded, response, before)
    assert seeded.slack.calls == []


def test_a_body_that_is_not_a_slack_object_gets_400(seeded: Seeded) -> None:
    before = snapshot(seeded.db)
    answer, _ = built(seeded, REAL_REQUESTS["answer click"])
    unreadable = [
        (b"[1, 2]", JSON), (b"42", JSON), (b"null", JSON), (b'"text"', JSON), (b"{", JSON),
        (b'{"type": "block_actions", "team": 5}', JSON),  # Bolt reads the team id while parsing
        (answer[: len(answer) // 2], FORM), (b"payload=%7B", FORM), (b"payload=not+json", FORM),
        (answer.replace(b"payload=", b"payload=["), FORM), (answer, JSON),
    ]
    for body, content_type in unreadable:
        response = seeded.post(body, content_type)
        assert response.status == 400, body[:40]
        refused_cleanly(seeded, response, before)


def _payload(seeded: Seeded, name: str) -> dict[str, Any]:
    body, _ = built(seeded, REAL_REQUESTS[name])
    return dict(json.loads(dict(parse_qsl(body.decode()))["payload"]))


NOT_SLACKS_SHAPE: list[tuple[str, Callable[[dict[str, Any]], object]]] = [
    ("answer click", lambda p: p["actions"][0].update(action_id=5)),  # Bolt's matcher would raise: a 500
    ("answer click", lambda p: p["actions"][0].update(value=5)),
    ("answer click", lambda p: p.update(actions=[])),
    ("answer click", lambda p: p.update(user=["UANNA"])),
    ("answer click", lambda p: p.update(response_url="http%3")),
    ("skip this week", lambda p: p.update(type="something_new", view=["a", "list"])),  # Bolt's log line would raise
    ("comment", lambda p: p["view"].update(state={"values": {"comment": ["comment_text"]}})),
    ("comment", lambda p: p["view"].update(state={"values": {"comment": {"comment_text": {"selected_options": "x"}}}})),
    ("comment", lambda p: p["view"].pop("state")),
    ("log shortcut", lambda p: p.pop("trigger_id")),
]


def test_a_signed_payload_without_slacks_shape_gets_400_before_any_listener(seeded: Seeded) -> None:
    before = snapshot(seeded.db)
    for number, (name, change) in enumerate(NOT_SLACKS_SHAPE):
        payload = _payload(seeded, name)
        change(payload)
        seeded.slack.reset_calls()
        response = seeded.post(urlencode({"payload": json.dumps(payload)}).encode(), FORM)
        assert response.status == 400, number
        refused_cleanly(seeded, response, before)
        assert web_api_calls(seeded.slack) == []


def test_a_slash_command_without_a_usable_response_url_gets_400_not_a_traceback(seeded: Seeded) -> None:
    before = snapshot(seeded.db)
    body, _ = built(seeded, REAL_REQUESTS["/pulse pause"])
    for broken in ["", "http%3", "not a url"]:
        fields = dict(parse_qsl(body.decode()))
        fields["response_url"] = broken
        response = seeded.post(urlencode(fields).encode(), FORM)
        assert response.status == 400, broken
        refused_cleanly(seeded, response, before)


def test_a_button_value_past_the_databases_integers_is_refused_politely(seeded: Seeded) -> None:
    before = snapshot(seeded.db)
    forged: list[tuple[str, str | None]] = [
        ("pulse_answer:capability:0", None),  # a button without a value
        ("pulse_skip", None),
        ("digest_decision:continue", None),
        ("pulse_answer:capability:0", "2147483648:capability:0"),
        ("pulse_answer:capability:0", "99999999999999999999:capability:0"),
        ("pulse_answer:capability:0", f"{seeded.round_id}:capability:-1"),
        ("pulse_skip", "2147483648"),
        ("pulse_unskip", "9223372036854775808"),
        ("pulse_comment", "-1"),
        ("digest_decision:continue", "9223372036854775808:2026-W47:continue"),
    ]
    for action_id, value in forged:
        seeded.slack.reset_calls()
        response = seeded.app.requests.block_action("UANNA", action_id, value, channel_id="DANNA", message_ts=seeded.message_ts)
        assert response.status == 200
        refused_cleanly(seeded, response, before)
        (reply,) = seeded.slack.calls_to("response_url")
        assert reply.params["response_type"] == "ephemeral" and "no longer works" in reply.params["text"], value


def test_a_comment_that_is_not_text_is_refused_in_the_modal(seeded: Seeded) -> None:
    before = snapshot(seeded.db)
    values = {"comment": {"comment_text": {"type": "plain_text_input", "value": {"not": "text"}}}}
    response = seeded.app.requests.view_submission("UANNA", "pulse_comment_modal", values, private_metadata=str(seeded.round_id))
    refused_cleanly(seeded, response, before)
    assert response.json() == {"response_action": "errors", "errors": {"comment": FORM_UNREADABLE}}


def test_a_comment_form_with_a_round_id_the_app_never_wrote_says_so_in_the_modal(seeded: Seeded) -> None:
    before = snapshot(seeded.db)
    for metadata in ["2147483648", "9223372036854775808", "-1", "0", "\u0661"]:
        response = seeded.app.requests.view_submission("UANNA", "pulse_comment_modal", comment_values("hi"), private_metadata=metadata)
        refused_cleanly(seeded, response, before)
        assert response.json() == {"response_action": "errors", "errors": {"comment": STALE_FORM}}


@pytest.mark.parametrize("text", ["1", "2147483647"])
def test_row_ids_on_buttons_are_plain_positive_database_integers(text: str) -> None:
    assert parse_id(text) == int(text)


@pytest.mark.parametrize("text", ["0", "-1", "+1", " 1", "1_0", "\u0661", "2147483648", "9" * 5000, "", None, 7])
def test_anything_else_is_not_a_row_id(text: object) -> None:
    with pytest.raises(ValueError, match="not a row id"):
        parse_id(text)
