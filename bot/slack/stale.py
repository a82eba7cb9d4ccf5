"""Buttons the app no longer knows: from an older message, or from an older version of the app.

Slack puts an error icon beside a click it saw no acknowledgement for, which tells the person
nothing. Every block action no feature's listener takes is acknowledged here instead, and
answered: the button no longer works, and this is what to use. Registered after every feature,
so it only sees what none of them matched.
"""

from __future__ import annotations

import logging
import re
from typing import Any

from slack_bolt import Ack, App, Respond
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackClientError

from bot.i18n import N_
from bot.slack.services import Services
from bot.slack.blocks.replies import problem_message
from bot.slack.home import publish_home

log = logging.getLogger(__name__)

STALE_BUTTON = N_(
    "This button no longer works: it comes from an older message or an older version of Rollout Pulse. "
    "Type `/pulse help` to see what you can do, or open the app's Home tab."
)
_ANY_ACTION = re.compile("")


def tell_stale(services: Services, body: dict[str, Any], respond: Respond, client: WebClient, text: str) -> None:
    """Answer a click that can do nothing, where the person clicked.

    Under a message, an ephemeral reply. App Home and modals have no response_url: the Home tab is
    shown afresh (its buttons become the current ones) and the reply goes to the person's DM with
    the app. `text` is the English message, shown in the person's language.
    """
    user_id = body["user"]["id"]
    text = services.translator(user_id).gettext(text)
    if body.get("response_url"):
        respond(blocks=problem_message(text), text=text, response_type="ephemeral", replace_original=False)
        return
    try:
        if (body.get("view") or {}).get("type") == "home":
            publish_home(services, client, user_id)
        client.chat_postMessage(channel=user_id, text=text, blocks=problem_message(text))
    except (SlackApiError, SlackClientError, OSError) as error:
        log.warning("slack.stale_reply_failed reason=%s", type(error).__name__)


def register(app: App, services: Services) -> None:
    @app.block_action(_ANY_ACTION)
    def stale_button(ack: Ack, body: dict[str, Any], respond: Respond, client: WebClient) -> None:
        ack()
        action_id = str(body["actions"][0].get("action_id", ""))
        log.info("slack.stale_button action_id=%r", action_id[:80])
        tell_stale(services, body, respond, client, STALE_BUTTON)
