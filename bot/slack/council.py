"""The council channel: decision buttons on the digest (continue / pause / review next week)."""

from __future__ import annotations

from typing import Any

from slack_bolt import Ack, App, Respond
from slack_sdk import WebClient

from bot.errors import Gone, PulseError
from bot.i18n import N_, translator
from bot.reports.text import decision_label
from bot.rollouts.decisions import record_decision
from bot.slack.services import Services
from bot.slack.blocks.common import escape
from bot.slack.blocks.digest import parse_decision_value
from bot.slack.blocks.replies import problem_message, problem_text
from bot.slack.ids import DIGEST_DECISION_PATTERN


STALE_BUTTON = N_(
    "This button no longer works: it comes from an older digest, or its rollout is gone. "
    "The latest digest in this channel has current ones."
)


def register(app: App, services: Services) -> None:
    @app.action(DIGEST_DECISION_PATTERN)
    def decide(ack: Ack, body: dict[str, Any], action: dict[str, Any], respond: Respond, client: WebClient) -> None:
        ack()
        user_id = body["user"]["id"]
        try:
            rollout_id, week, decision = parse_decision_value(action.get("value", ""))
            name, recorded = record_decision(services.db, user_id, rollout_id, week, decision)
        except (ValueError, Gone):
            stale = services.translator(user_id).gettext(STALE_BUTTON)  # only the one who clicked sees it
            respond(blocks=problem_message(stale), text=problem_text(stale), response_type="ephemeral", replace_original=False)
            return
        except PulseError as error:
            text = error.in_language(services.translator(user_id))
            respond(blocks=problem_message(text), text=problem_text(text), response_type="ephemeral", replace_original=False)
            return
        container = body.get("container", {})
        # The whole council reads it: in the council's language, as the digest is.
        t = translator(services.behaviour.language)
        text = t.gettext(
            "Decision on *{rollout}* for {week}: *{decision}*, by {person}.",
            rollout=escape(name), week=week, decision=decision_label(recorded.decision, t), person=f"<@{user_id}>",
        )
        # In the digest's thread, so the whole council sees who decided what, and when. The buttons
        # sit in a reply of that thread: Slack names the thread's main message in `thread_ts`.
        thread = container.get("thread_ts") or container.get("message_ts")
        client.chat_postMessage(channel=container.get("channel_id"), thread_ts=thread, text=text)
