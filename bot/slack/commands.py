"""`/pulse`: acknowledge at once, parse the text in one place, hand the command to its feature."""

from __future__ import annotations

from typing import Any

from slack_bolt import Ack, App, Respond
from slack_sdk import WebClient

from bot.errors import PulseError
from bot.slack.blocks.layout import Reply
from bot.slack.blocks.replies import help_message, problem_message, problem_text
from bot.slack.inputs import UsageError, parse_slash
from bot.slack.services import Services


def register(app: App, services: Services) -> None:
    def show_help(respond: Respond, problem: str | None = None) -> None:
        blocks = help_message(min_group=services.min_group, problem=problem)
        respond(blocks=blocks, text=problem_text(problem) if problem else "Rollout Pulse help", response_type="ephemeral")

    @app.command("/pulse")
    def pulse_command(ack: Ack, command: dict[str, Any], respond: Respond, client: WebClient) -> None:
        ack()
        try:
            parsed = parse_slash(command.get("text", ""))
        except UsageError as error:
            show_help(respond, str(error))
            return
        handler = services.commands.handler(parsed)
        if handler is None:
            show_help(respond)
            return
        try:
            handler(parsed, command, respond, client)
        except PulseError as error:
            respond(blocks=problem_message(str(error)), text=problem_text(str(error)), response_type="ephemeral")


def send(respond: Respond, messages: list[Reply]) -> None:
    """The messages of one ephemeral reply, in order, each a message of its own."""
    for message in messages:
        respond(blocks=message.blocks, text=message.text, response_type="ephemeral", replace_original=False)
