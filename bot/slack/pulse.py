"""The weekly pulse in Slack: answer buttons, skip, the comment modal, and `/pulse`."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from slack_bolt import Ack, App, BoltResponse, Respond
from slack_sdk import WebClient

from bot.errors import Gone, PulseError
from bot.i18n import N_
from bot.messenger import MessageRef
from bot.slack.services import Services
from bot.slack.blocks.common import parse_id
from bot.slack.blocks.pulse import comment_modal, parse_answer_value
from bot.slack.blocks.replies import paused_message, problem_message, problem_text, resumed_message
from bot.slack.ids import PULSE_ANSWER_PATTERN, Action, Block, Callback
from bot.slack.inputs import Pause, Resume, SlashCommand, comment_from_state
from bot.surveys import service
from bot.surveys.views import PulseView

log = logging.getLogger(__name__)

STALE_BUTTON = N_(
    "This button no longer works: it comes from an older pulse or an older version of Rollout Pulse. "
    "Your latest pulse is in your messages with this app, and the app's Home tab shows this week's."
)
STALE_FORM = N_("This form no longer works: its pulse is gone. Open the comment again from your latest pulse.")


# Clicks on one message are handled in parallel threads; updates to it are serialised here.
_MESSAGE_LOCKS = tuple(threading.Lock() for _ in range(64))
# A message is sent again while what is recorded changes under it; past this, another update
# is certainly on its way (someone is clicking faster than Slack answers).
MAX_REFRESHES = 5


@dataclass(frozen=True, slots=True)
class _Click:
    """What a pulse button's work needs after the ack.

    A few strings rather than the whole payload, which would otherwise wait in memory (and in
    the garbage collector's way) for as long as a burst of clicks is queued.
    """

    user_id: str
    value: Any
    message: MessageRef | None

    @classmethod
    def of(cls, body: dict[str, Any], action: dict[str, Any]) -> _Click:
        container = body.get("container") or {}
        channel, ts = container.get("channel_id"), container.get("message_ts")
        return cls(body["user"]["id"], action.get("value", ""), MessageRef(channel, ts) if channel and ts else None)


def register(app: App, services: Services) -> None:
    def show(click: _Click, view: PulseView) -> None:
        if click.message is not None:
            show_latest(click.message, click.user_id, view.round_id)

    def show_latest(message: MessageRef, user_id: str, round_id: int) -> None:
        """Update the message with the latest recorded state, not the state this click saw.

        Clicks finish in any order, in this process and in others serving the same app. Within a
        process, a per-message lock keeps one update in flight. Across processes, an update can
        still land after a newer one; so once Slack has applied ours, the recorded state is read
        again and, if it changed meanwhile, sent again. Whoever changes the state last re-reads
        it after that change, so the last update Slack applies shows every answer recorded.
        """
        lang = services.language(user_id)
        with _MESSAGE_LOCKS[hash(message) % len(_MESSAGE_LOCKS)]:
            latest = service.pulse_for(services.db, services.key, user_id, round_id)
            for _ in range(MAX_REFRESHES):
                services.messenger.update_pulse(message, latest, lang=lang)
                again = service.pulse_for(services.db, services.key, user_id, round_id)
                if again == latest:
                    return
                latest = again

    def refuse(respond: Respond, error: PulseError, user_id: str) -> None:
        text = error.in_language(services.translator(user_id))
        respond(blocks=problem_message(text), text=problem_text(text), response_type="ephemeral", replace_original=False)

    def record(click: _Click, respond: Respond) -> None:
        try:
            round_id, question_key, option = parse_answer_value(click.value)
            view = service.record_answer(services.db, services.key, click.user_id, round_id, question_key, option)
        except (ValueError, Gone):
            refuse(respond, PulseError(STALE_BUTTON), click.user_id)
            return
        except PulseError as error:
            refuse(respond, error, click.user_id)
            return
        show(click, view)

    def round_change(change: Callable[..., PulseView]) -> Callable[[_Click, Respond], None]:
        def apply(click: _Click, respond: Respond) -> None:
            try:
                view = change(services.db, services.key, click.user_id, parse_id(click.value))
            except (ValueError, Gone):
                refuse(respond, PulseError(STALE_BUTTON), click.user_id)
                return
            except PulseError as error:
                refuse(respond, error, click.user_id)
                return
            show(click, view)

        return apply

    round_changes = {Action.PULSE_SKIP: round_change(service.skip_week),
                     Action.PULSE_UNSKIP: round_change(service.answer_after_all)}

    def button_work(body: dict[str, Any]) -> tuple[Callable[[_Click, Respond], None], dict[str, Any]] | None:
        """The work for a click on a pulse button (answer, skip, unskip), or None for anything else."""
        actions = body.get("actions") if body.get("type") == "block_actions" else None
        if not (isinstance(actions, list) and len(actions) == 1 and isinstance(actions[0], dict)):
            return None
        action_id = actions[0].get("action_id")
        if not isinstance(action_id, str):
            return None
        if PULSE_ANSWER_PATTERN.match(action_id):
            return record, actions[0]
        work = round_changes.get(action_id)
        return None if work is None else (work, actions[0])

    # Pulse buttons are the app's one burst of traffic: when the pulse goes out, hundreds of
    # people click within minutes. A listener's ack reaches Slack only once Bolt has handed the
    # listener to its pool and seen the ack (it looks every 10 ms); these clicks are acknowledged
    # here instead, after Bolt's checks and before any listener, and their work is done after.
    @app.middleware
    def acknowledge_pulse_buttons(
        body: dict[str, Any], respond: Respond, next_: Callable[[], BoltResponse | None]
    ) -> BoltResponse | None:
        found = button_work(body)
        if found is None:
            return next_()
        work, action = found
        click = _Click.of(body, action)
        services.after_ack(str(action["action_id"]), lambda: work(click, respond))
        return BoltResponse(status=200, body="")

    @app.action(Action.PULSE_COMMENT)
    def open_comment(ack: Ack, body: dict[str, Any], action: dict[str, Any], client: WebClient, respond: Respond) -> None:
        ack()
        user_id = body["user"]["id"]
        try:
            view = service.pulse_for(services.db, services.key, user_id, parse_id(action.get("value", "")))
        except (ValueError, Gone):
            refuse(respond, PulseError(STALE_BUTTON), user_id)
            return
        except PulseError as error:
            refuse(respond, error, user_id)
            return
        modal = comment_modal(view, min_group=services.min_group, t=services.translator(user_id))
        client.views_open(trigger_id=body["trigger_id"], view=modal)

    @app.view(Callback.PULSE_COMMENT)
    def save_comment(ack: Ack, body: dict[str, Any], view: dict[str, Any]) -> None:
        user_id = body["user"]["id"]
        try:
            text = comment_from_state(view["state"]["values"])
            round_id = parse_id(view.get("private_metadata", ""))
            current = service.pulse_for(services.db, services.key, user_id, round_id)
            if current.closed:
                raise PulseError(
                    N_("The pulse for {week} has closed; comments are no longer recorded."), week=current.week
                )
            if len(text.strip()) > service.COMMENT_MAX_CHARS:
                raise PulseError(N_("Keep the comment under {most} characters."), most=service.COMMENT_MAX_CHARS)
        except (ValueError, Gone):
            ack(response_action="errors", errors={Block.COMMENT_INPUT: services.translator(user_id).gettext(STALE_FORM)})
            return
        except PulseError as error:
            ack(response_action="errors", errors={Block.COMMENT_INPUT: error.in_language(services.translator(user_id))})
            return
        ack()
        try:
            updated = service.record_comment(services.db, services.key, user_id, round_id, text)
        except PulseError as error:
            log.info("pulse.comment_refused reason=%s", type(error).__name__)
            return
        ref = service.delivery_message(services.db, user_id, round_id)
        if ref is not None:
            show_latest(ref, user_id, updated.round_id)

    @services.commands.handles(Pause)
    def pause_command(parsed: SlashCommand, command: dict[str, Any], respond: Respond, client: WebClient) -> None:
        assert isinstance(parsed, Pause)
        until = service.pause(services.db, command["user_id"], parsed.weeks)
        respond(text=paused_message(until, services.translator(command["user_id"])), response_type="ephemeral")

    @services.commands.handles(Resume)
    def resume_command(parsed: SlashCommand, command: dict[str, Any], respond: Respond, client: WebClient) -> None:
        was_paused = service.resume(services.db, command["user_id"])
        respond(text=resumed_message(was_paused, services.translator(command["user_id"])), response_type="ephemeral")
