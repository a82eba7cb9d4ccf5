"""The weekly pulse in Slack: answer buttons, skip, the comment modal, and `/pulse`."""

from __future__ import annotations

import logging
import threading
from typing import Any

from slack_bolt import Ack, App, Respond
from slack_sdk import WebClient

from bot.errors import PulseError
from bot.messenger import MessageRef
from bot.slack.app import Services
from bot.slack.blocks.common import parse_id
from bot.slack.blocks.pulse import comment_modal, parse_answer_value
from bot.slack.blocks.replies import paused_message, problem_message, resumed_message
from bot.slack.ids import PULSE_ANSWER_PATTERN, Action, Block, Callback
from bot.slack.inputs import Pause, Resume, SlashCommand, comment_from_state
from bot.surveys import service
from bot.surveys.views import PulseView

log = logging.getLogger(__name__)

STALE_BUTTON = "That button no longer works. Your latest pulse is in your messages with this app."


# Clicks on one message are handled in parallel threads; updates to it are serialised here.
_MESSAGE_LOCKS = tuple(threading.Lock() for _ in range(64))


def register(app: App, services: Services) -> None:
    def show(body: dict[str, Any], view: PulseView) -> None:
        """Update the message with the latest recorded state, not the state this click saw.

        Two quick clicks finish in any order; re-reading under a per-message lock means the last
        update Slack receives always shows every answer recorded so far.
        """
        container = body.get("container", {})
        channel, ts = container.get("channel_id"), container.get("message_ts")
        if not (channel and ts):
            return
        with _MESSAGE_LOCKS[hash((channel, ts)) % len(_MESSAGE_LOCKS)]:
            latest = service.pulse_for(services.db, services.key, body["user"]["id"], view.round_id)
            services.messenger.update_pulse(MessageRef(channel, ts), latest)

    def refuse(respond: Respond, error: Exception) -> None:
        respond(blocks=problem_message(str(error)), text=str(error), response_type="ephemeral", replace_original=False)

    def record(body: dict[str, Any], action: dict[str, Any], respond: Respond) -> None:
        try:
            round_id, question_key, option = parse_answer_value(action.get("value", ""))
        except ValueError:
            refuse(respond, PulseError(STALE_BUTTON))
            return
        try:
            view = service.record_answer(services.db, services.key, body["user"]["id"], round_id, question_key, option)
        except PulseError as error:
            refuse(respond, error)
            return
        show(body, view)

    # Answer clicks come in bursts when a pulse goes out: each is acknowledged at once and
    # recorded after, so no click waits for the ones before it to be stored and shown.
    @app.action(PULSE_ANSWER_PATTERN)
    def answer(ack: Ack, body: dict[str, Any], action: dict[str, Any], respond: Respond) -> None:
        ack()
        services.after_ack("pulse.answer", lambda: record(body, action, respond))

    def round_action(action_name: str, change: Any) -> None:
        def apply(body: dict[str, Any], action: dict[str, Any], respond: Respond) -> None:
            try:
                view = change(services.db, services.key, body["user"]["id"], parse_id(action.get("value", "")))
            except ValueError:
                refuse(respond, PulseError(STALE_BUTTON))
                return
            except PulseError as error:
                refuse(respond, error)
                return
            show(body, view)

        @app.action(action_name)
        def handle(ack: Ack, body: dict[str, Any], action: dict[str, Any], respond: Respond) -> None:
            ack()
            services.after_ack(action_name, lambda: apply(body, action, respond))

    round_action(Action.PULSE_SKIP, service.skip_week)
    round_action(Action.PULSE_UNSKIP, service.answer_after_all)

    @app.action(Action.PULSE_COMMENT)
    def open_comment(ack: Ack, body: dict[str, Any], action: dict[str, Any], client: WebClient, respond: Respond) -> None:
        ack()
        try:
            view = service.pulse_for(services.db, services.key, body["user"]["id"], parse_id(action.get("value", "")))
        except ValueError:
            refuse(respond, PulseError(STALE_BUTTON))
            return
        except PulseError as error:
            refuse(respond, error)
            return
        client.views_open(trigger_id=body["trigger_id"], view=comment_modal(view))

    @app.view(Callback.PULSE_COMMENT)
    def save_comment(ack: Ack, body: dict[str, Any], view: dict[str, Any]) -> None:
        user_id = body["user"]["id"]
        try:
            text = comment_from_state(view["state"]["values"])
            round_id = parse_id(view.get("private_metadata", ""))
            current = service.pulse_for(services.db, services.key, user_id, round_id)
            if current.closed:
                raise PulseError(f"The pulse for {current.week} has closed; comments are no longer recorded.")
            if len(text.strip()) > service.COMMENT_MAX_CHARS:
                raise PulseError(f"Keep the comment under {service.COMMENT_MAX_CHARS} characters.")
        except ValueError:
            ack(response_action="errors", errors={Block.COMMENT_INPUT: STALE_BUTTON})
            return
        except PulseError as error:
            ack(response_action="errors", errors={Block.COMMENT_INPUT: str(error)})
            return
        ack()
        try:
            updated = service.record_comment(services.db, services.key, user_id, round_id, text)
        except PulseError as error:
            log.info("pulse.comment_refused reason=%s", type(error).__name__)
            return
        ref = service.delivery_message(services.db, user_id, round_id)
        if ref is not None:
            services.messenger.update_pulse(ref, updated)

    @services.commands.handles(Pause)
    def pause_command(parsed: SlashCommand, command: dict[str, Any], respond: Respond, client: WebClient) -> None:
        assert isinstance(parsed, Pause)
        respond(text=paused_message(service.pause(services.db, command["user_id"], parsed.weeks)), response_type="ephemeral")

    @services.commands.handles(Resume)
    def resume_command(parsed: SlashCommand, command: dict[str, Any], respond: Respond, client: WebClient) -> None:
        respond(text=resumed_message(service.resume(services.db, command["user_id"])), response_type="ephemeral")
