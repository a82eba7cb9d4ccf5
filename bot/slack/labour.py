"""Hidden AI work in Slack: `/pulse log`, the two shortcuts, the App Home button and the modal."""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt import Ack, App, Respond
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackClientError

from bot.errors import PulseError
from bot.labour import service
from bot.labour.durations import parse_duration
from bot.models import NOTE_MAX_CHARS
from bot.slack.services import Services
from bot.slack.blocks.labour import (
    form_errors,
    form_unreadable,
    log_modal,
    logged_message,
    logged_text,
    opened_from_home,
)
from bot.slack.blocks.replies import problem_message, problem_text
from bot.slack.client import make_web_client
from bot.slack.home import publish_home
from bot.slack.ids import Action, Callback
from bot.slack.inputs import Log, LogForm, SlashCommand, UsageError

log = logging.getLogger(__name__)

# A trigger id expires three seconds after the click; the permalink is a nicety that must not
# use them up, so it is asked for once, briefly, without the usual retries.
PERMALINK_TIMEOUT_SECONDS = 1


def register(app: App, services: Services) -> None:
    def open_form(
        client: WebClient, trigger_id: str, user_id: str, *, note: str | None = None, from_home: bool = False
    ) -> None:
        view = log_modal(min_group=services.min_group, note=note, from_home=from_home, t=services.translator(user_id))
        client.views_open(trigger_id=trigger_id, view=view)

    @services.commands.handles(Log)
    def log_command(parsed: SlashCommand, command: dict[str, Any], respond: Respond, client: WebClient) -> None:
        assert isinstance(parsed, Log)
        if parsed.minutes is None or parsed.category is None:
            open_form(client, command["trigger_id"], command["user_id"])
            return
        logged = service.log_hidden_work(
            services.db, services.key, command["user_id"], minutes=parsed.minutes, category=parsed.category, note=parsed.note
        )
        t = services.translator(command["user_id"])
        respond(
            blocks=logged_message(logged, min_group=services.min_group, t=t), text=logged_text(logged, t),
            response_type="ephemeral",
        )

    @app.shortcut(Callback.LOG_WORK_SHORTCUT)
    def global_shortcut(ack: Ack, shortcut: dict[str, Any], client: WebClient) -> None:
        ack()
        open_form(client, shortcut["trigger_id"], shortcut["user"]["id"])

    @app.shortcut(Callback.LOG_WORK_MESSAGE_SHORTCUT)
    def message_shortcut(ack: Ack, shortcut: dict[str, Any], client: WebClient) -> None:
        ack()
        open_form(client, shortcut["trigger_id"], shortcut["user"]["id"], note=_permalink(client, shortcut))

    @app.action(Action.HOME_LOG_WORK)
    def home_button(ack: Ack, body: dict[str, Any], client: WebClient) -> None:
        ack()
        open_form(client, body["trigger_id"], body["user"]["id"], from_home=True)

    @app.view(Callback.LOG_WORK_MODAL)
    def submit(ack: Ack, body: dict[str, Any], view: dict[str, Any], client: WebClient) -> None:
        user_id = body["user"]["id"]
        try:
            form = LogForm.from_state(view.get("state", {}).get("values", {}))
        except UsageError as error:
            ack(response_action="errors", errors=form_unreadable(error.in_language(services.translator(user_id))))
            return
        problems = service.report_problems(duration=form.duration, category=form.category, tool=form.tool, note=form.note)
        if problems:
            ack(response_action="errors", errors=form_errors(problems, services.translator(user_id)))
            return
        ack()
        t = services.translator(user_id)
        try:
            logged = service.log_hidden_work(
                services.db,
                services.key,
                user_id,
                minutes=parse_duration(form.duration),
                category=form.category or "",
                tool=form.tool,
                note=form.note,
                share_with_manager=form.share_with_manager,
            )
        except PulseError as error:
            text = error.in_language(t)
            _dm(client, user_id, text=problem_text(text), blocks=problem_message(text))
            return
        _dm(client, user_id, text=logged_text(logged, t), blocks=logged_message(logged, min_group=services.min_group, t=t))
        if opened_from_home(view.get("private_metadata")):
            publish_home(services, client, user_id)


def _permalink(client: WebClient, shortcut: dict[str, Any]) -> str | None:
    """A link to the message the shortcut was used on, or None when Slack will not say."""
    channel = (shortcut.get("channel") or {}).get("id")
    ts = shortcut.get("message_ts") or (shortcut.get("message") or {}).get("ts")
    if not channel or not ts:
        return None
    quick = make_web_client(client.token, client.base_url, timeout=PERMALINK_TIMEOUT_SECONDS, max_retries=0)
    try:
        link = quick.chat_getPermalink(channel=channel, message_ts=ts).get("permalink")
    except (SlackApiError, SlackClientError, OSError) as error:
        log.info("labour.permalink_unavailable reason=%s", type(error).__name__)
        return None
    return link if isinstance(link, str) and len(link) <= NOTE_MAX_CHARS else None


def _dm(client: WebClient, user_id: str, *, text: str, blocks: list[dict[str, Any]]) -> None:
    """A modal has no channel to answer in: the confirmation goes to the person's DM with the app."""
    try:
        client.chat_postMessage(channel=user_id, text=text, blocks=blocks)
    except (SlackApiError, SlackClientError, OSError) as error:
        log.warning("labour.confirmation_failed reason=%s", type(error).__name__)
