"""Send requests into the app the way Slack does: same shapes, same encodings, same signature.

Only the fields the app (or Bolt) reads are filled in, with the values Slack would send.
"""

from __future__ import annotations

import hashlib
import hmac
import itertools
import json
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

VERIFICATION_TOKEN = "legacy-verification-token"  # deprecated by Slack but still sent
DEFAULT_RESPONSE_URL = "https://hooks.slack.com/actions/T0001/1/unused"
_event_numbers = itertools.count(1)


def slack_signature(signing_secret: str, timestamp: str, body: bytes) -> str:
    base = b"v0:" + timestamp.encode() + b":" + body
    return "v0=" + hmac.new(signing_secret.encode(), base, hashlib.sha256).hexdigest()


@dataclass
class Response:
    status: int
    body: bytes
    headers: dict[str, str] = field(default_factory=dict)

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", errors="replace")

    def json(self) -> Any:
        return json.loads(self.body)


class SignedSlack:
    def __init__(
        self,
        base_url: str,
        signing_secret: str,
        *,
        team_id: str = "T0001",
        api_app_id: str = "A0001",
        response_url_factory: Callable[[], str] | None = None,
        enterprise_id: str | None = None,
        org_wide: bool = False,
    ) -> None:
        """Requests from workspace `team_id`; with `enterprise_id`, a workspace of that Enterprise
        Grid organisation, and `org_wide` when the app is installed for the whole organisation."""
        self.events_url = base_url.rstrip("/") + "/slack/events"
        self.signing_secret = signing_secret
        self.team_id = team_id
        self.enterprise_id = enterprise_id
        self.org_wide = org_wide
        self.api_app_id = api_app_id
        self.response_url_factory = response_url_factory or (lambda: DEFAULT_RESPONSE_URL)

    # -- transport -------------------------------------------------------------------------------

    def post_raw(self, body: bytes, headers: dict[str, str]) -> Response:
        request = urllib.request.Request(self.events_url, data=body, headers=headers, method="POST")
        try:
            with urllib.request.urlopen(request, timeout=10) as answer:
                return Response(answer.status, answer.read(), dict(answer.headers.items()))
        except urllib.error.HTTPError as error:
            # A rejected request is an outcome tests assert on, not a failure of the helper.
            with error:
                return Response(error.code, error.read(), dict(error.headers.items()))

    def signed_headers(self, body: bytes, content_type: str, timestamp: int | None = None) -> dict[str, str]:
        # time.time() is looked up at call time so freezegun's clock is the one signed with.
        stamp = str(int(time.time()) if timestamp is None else timestamp)
        return {
            "Content-Type": content_type,
            "X-Slack-Request-Timestamp": stamp,
            "X-Slack-Signature": slack_signature(self.signing_secret, stamp, body),
        }

    def _post_form(self, fields: dict[str, str]) -> Response:
        body = urlencode(fields).encode()
        return self.post_raw(body, self.signed_headers(body, "application/x-www-form-urlencoded"))

    def _post_payload(self, payload: dict[str, Any]) -> Response:
        return self._post_form({"payload": json.dumps(payload)})

    def _post_json(self, payload: dict[str, Any]) -> Response:
        body = json.dumps(payload).encode()
        return self.post_raw(body, self.signed_headers(body, "application/json"))

    # -- shared payload parts --------------------------------------------------------------------

    def _user(self, user_id: str) -> dict[str, str]:
        return {"id": user_id, "username": user_id.lower(), "name": user_id.lower(), "team_id": self.team_id}

    def _envelope(self, kind: str, user_id: str, trigger_id: str) -> dict[str, Any]:
        return {
            "type": kind,
            "token": VERIFICATION_TOKEN,
            "team": {"id": self.team_id, "domain": "test"},
            "user": self._user(user_id),
            "api_app_id": self.api_app_id,
            "trigger_id": trigger_id,
            "is_enterprise_install": self.org_wide,
            "enterprise": None if self.enterprise_id is None else {"id": self.enterprise_id, "name": "Acme"},
        }

    # -- what users do ---------------------------------------------------------------------------

    def command(
        self,
        user_id: str,
        text: str = "",
        command: str = "/pulse",
        channel_id: str = "C0001",
        trigger_id: str = "trig-1",
    ) -> Response:
        grid = {} if self.enterprise_id is None else {
            "enterprise_id": self.enterprise_id,
            "enterprise_name": "Acme",
            "is_enterprise_install": "true" if self.org_wide else "false",
        }
        return self._post_form({
            **grid,
            "token": VERIFICATION_TOKEN,
            "team_id": self.team_id,
            "team_domain": "test",
            "channel_id": channel_id,
            "channel_name": _channel_name(channel_id),
            "user_id": user_id,
            "user_name": user_id.lower(),
            "command": command,
            "text": text,
            "api_app_id": self.api_app_id,
            "response_url": self.response_url_factory(),
            "trigger_id": trigger_id,
        })

    def block_action(
        self,
        user_id: str,
        action_id: str,
        value: str | None = None,
        *,
        block_id: str = "b",
        channel_id: str | None = None,
        message_ts: str | None = None,
        thread_ts: str | None = None,
        view: dict | None = None,
        action_type: str = "button",
        selected_option_value: str | None = None,
        trigger_id: str = "trig-1",
    ) -> Response:
        payload = self._envelope("block_actions", user_id, trigger_id)
        payload["actions"] = [_action(action_id, block_id, action_type, value, selected_option_value)]
        payload["state"] = {"values": {}}
        if view is not None:
            # Slack sends no response_url for actions inside a view; Bolt's respond() fails there too.
            view = {"id": "V1", **view}
            payload["container"] = {"type": "view", "view_id": view["id"]}
            payload["view"] = view
            return self._post_payload(payload)
        # Pulses are DMs, so an action without a channel comes from the user's DM with the bot.
        channel = channel_id or "D" + user_id[1:]
        payload["channel"] = {"id": channel, "name": _channel_name(channel)}
        payload["response_url"] = self.response_url_factory()
        if message_ts is not None:
            payload["container"] = {"type": "message", "message_ts": message_ts, "channel_id": channel,
                                    "is_ephemeral": False}
            payload["message"] = {"type": "message", "ts": message_ts, "bot_id": "BBOT", "user": "UBOT",
                                  "text": "", "blocks": []}
            if thread_ts is not None:
                # A button in a thread's reply: Slack names the thread in both places.
                payload["container"]["thread_ts"] = thread_ts
                payload["message"]["thread_ts"] = thread_ts
        return self._post_payload(payload)

    def view_submission(
        self,
        user_id: str,
        callback_id: str,
        values: dict,
        *,
        private_metadata: str = "",
        view_id: str = "V1",
    ) -> Response:
        payload = self._envelope("view_submission", user_id, "trig-1")
        payload["view"] = {
            "id": view_id,
            "team_id": self.team_id,
            "type": "modal",
            "callback_id": callback_id,
            "private_metadata": private_metadata,
            "state": {"values": values},
            "hash": "1700000000.abcdef",
            "blocks": [],
            "app_id": self.api_app_id,
            "bot_id": "BBOT",
            "root_view_id": view_id,
            "previous_view_id": None,
        }
        payload["response_urls"] = []
        return self._post_payload(payload)

    def shortcut(
        self,
        user_id: str,
        callback_id: str,
        *,
        message: dict | None = None,
        channel_id: str = "C0001",
    ) -> Response:
        kind = "shortcut" if message is None else "message_action"
        payload = self._envelope(kind, user_id, "trig-1")
        payload["callback_id"] = callback_id
        payload["action_ts"] = f"{time.time():.6f}"
        if message is not None:
            payload["message"] = message
            payload["message_ts"] = message.get("ts")
            payload["channel"] = {"id": channel_id, "name": _channel_name(channel_id)}
            payload["response_url"] = self.response_url_factory()
        return self._post_payload(payload)

    def event(self, event: dict, *, event_id: str | None = None) -> Response:
        grid = {} if self.enterprise_id is None else {
            "enterprise_id": self.enterprise_id,
            "context_team_id": self.team_id,
            "context_enterprise_id": self.enterprise_id,
        }
        # An org-wide installation is the organisation's: Slack names no workspace in it.
        authorized_team = None if self.org_wide else self.team_id
        return self._post_json({
            "token": VERIFICATION_TOKEN,
            "team_id": self.team_id,
            **grid,
            "api_app_id": self.api_app_id,
            "event": event,
            "type": "event_callback",
            "event_id": event_id or f"Ev{next(_event_numbers):08d}",
            "event_time": int(time.time()),
            "authorizations": [{"enterprise_id": self.enterprise_id, "team_id": authorized_team, "user_id": "UBOT",
                                "is_bot": True, "is_enterprise_install": self.org_wide}],
            "is_ext_shared_channel": False,
        })


def _action(
    action_id: str,
    block_id: str,
    action_type: str,
    value: str | None,
    selected_option_value: str | None,
) -> dict[str, Any]:
    action: dict[str, Any] = {"action_id": action_id, "block_id": block_id, "type": action_type,
                              "action_ts": f"{time.time():.6f}"}
    if selected_option_value is not None:
        action["selected_option"] = {"text": {"type": "plain_text", "text": selected_option_value},
                                     "value": selected_option_value}
    else:
        action["value"] = value
        action["text"] = {"type": "plain_text", "text": action_id}
    return action


def _channel_name(channel_id: str) -> str:
    # Slack names every DM "directmessage" in these payloads.
    return "directmessage" if channel_id.startswith("D") else "general"
