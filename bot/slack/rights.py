"""`/pulse mydata` and `/pulse forget` (with a confirmation)."""

from __future__ import annotations

from typing import Any

from slack_bolt import Ack, App, Respond
from slack_sdk import WebClient

from bot import rights
from bot.slack.services import Services
from bot.slack.blocks.rights import forget_confirmation, forgotten_message, my_data_message
from bot.slack.ids import Action
from bot.slack.inputs import Forget, MyData, SlashCommand


def register(app: App, services: Services) -> None:
    @services.commands.handles(MyData)
    def my_data(parsed: SlashCommand, command: dict[str, Any], respond: Respond, client: WebClient) -> None:
        data = rights.my_data(services.db, services.key, command["user_id"])
        respond(blocks=my_data_message(data), text="Everything Rollout Pulse stores about you", response_type="ephemeral")

    @services.commands.handles(Forget)
    def forget(parsed: SlashCommand, command: dict[str, Any], respond: Respond, client: WebClient) -> None:
        respond(blocks=forget_confirmation(), text="Delete everything you answered and logged?", response_type="ephemeral")

    @app.action(Action.FORGET_CONFIRM)
    def confirm(ack: Ack, body: dict[str, Any], respond: Respond) -> None:
        ack()
        result = rights.forget(services.db, services.key, body["user"]["id"])
        respond(blocks=forgotten_message(result), text=result.summary(), replace_original=True)
