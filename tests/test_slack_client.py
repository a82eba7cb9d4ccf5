"""What the app's WebClient does when Slack misbehaves, observed through the local Slack server."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest
from slack_sdk.errors import SlackApiError

from bot.slack.client import make_web_client, without_unsafe_retries
from tests.slack_server import FakeSlack

TOKEN = "xoxb-client-test"


@pytest.fixture
def fake() -> Iterator[FakeSlack]:
    with FakeSlack(bot_token=TOKEN) as server:
        yield server


def test_a_rate_limited_message_still_arrives(fake: FakeSlack) -> None:
    fake.fail("chat.postMessage", status=429, retry_after=0)
    client = make_web_client(TOKEN, fake.url)

    answer = client.chat_postMessage(channel="C0001", text="How did AI help you this week?")

    assert answer["ok"] is True
    assert len(fake.calls_to("chat.postMessage")) == 2
    assert [m["text"] for m in fake.messages["C0001"]] == ["How did AI help you this week?"]


def test_a_message_is_delivered_once_after_slack_was_briefly_unavailable(fake: FakeSlack) -> None:
    fake.fail("chat.postMessage", status=503)
    client = make_web_client(TOKEN, fake.url)

    answer = client.chat_postMessage(channel="UALICE", text="Your weekly pulse")

    assert answer["channel"] == "DALICE"
    assert len(fake.calls_to("chat.postMessage")) == 2
    assert len(fake.messages["DALICE"]) == 1


def test_a_permanent_error_is_raised_without_retrying(fake: FakeSlack) -> None:
    fake.fail("chat.postMessage", error="channel_not_found")
    client = make_web_client(TOKEN, fake.url)

    with pytest.raises(SlackApiError) as raised:
        client.chat_postMessage(channel="CGONE", text="hello")

    assert raised.value.response["error"] == "channel_not_found"
    assert len(fake.calls_to("chat.postMessage")) == 1
    assert fake.messages.get("CGONE", []) == []


def test_the_client_talks_to_the_server_named_by_slack_api_url(
    fake: FakeSlack, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Without its trailing slash too: a bare ".../api" must not lose the /api segment.
    monkeypatch.setenv("SLACK_API_URL", fake.url.rstrip("/"))
    client = make_web_client(TOKEN, os.environ["SLACK_API_URL"])

    answer = client.auth_test()

    assert answer["user_id"] == "UBOT"
    [call] = fake.calls_to("auth.test")
    assert call.path == "/api/auth.test"
    assert call.token == TOKEN


def test_a_wrong_token_is_refused_with_invalid_auth(fake: FakeSlack) -> None:
    client = make_web_client("xoxb-not-the-right-one", fake.url)

    with pytest.raises(SlackApiError) as raised:
        client.chat_postMessage(channel="C0001", text="hello")

    assert raised.value.response["error"] == "invalid_auth"
    assert fake.messages.get("C0001", []) == []


def test_calls_go_over_one_kept_alive_connection(fake: FakeSlack) -> None:
    client = make_web_client(TOKEN, fake.url)

    for number in range(20):
        client.chat_postMessage(channel="C0001", text=f"Pulse {number}")

    assert len(fake.messages["C0001"]) == 20
    assert fake.connections == 1


def test_a_connection_slack_closed_while_idle_is_replaced_and_the_message_goes_once(fake: FakeSlack) -> None:
    # The client a fan-out posts with, which never repeats a call that failed after it was sent.
    client = without_unsafe_retries(make_web_client(TOKEN, fake.url))
    client.chat_postMessage(channel="C0001", text="The first")
    fake.close_idle_connections()

    answer = client.chat_postMessage(channel="C0001", text="The second")

    assert answer["ok"] is True
    assert [m["text"] for m in fake.messages["C0001"]] == ["The first", "The second"]
    assert len(fake.calls_to("chat.postMessage")) == 2  # no failed attempt, no retry
    assert fake.connections == 2


def test_a_rate_limited_call_waits_on_its_kept_alive_connection(fake: FakeSlack) -> None:
    fake.fail("chat.postMessage", status=429, retry_after=0)
    fake.fail("chat.postMessage", status=503)
    client = make_web_client(TOKEN, fake.url)

    answer = client.chat_postMessage(channel="UALICE", text="Your weekly pulse")

    assert answer["channel"] == "DALICE"
    assert len(fake.calls_to("chat.postMessage")) == 3
    assert len(fake.messages["DALICE"]) == 1
    assert fake.connections == 1  # a 429 or a 503 answer leaves the connection usable
