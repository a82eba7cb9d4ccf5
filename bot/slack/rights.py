"""`/pulse mydata` and `/pulse forget` (with a confirmation)."""

from __future__ import annotations

from typing import Any

from slack_bolt import Ack, App, Respond
from slack_sdk import WebClient

from bot import rights
from bot.slack.blocks.replies import problem_message, problem_text
from bot.slack.blocks.rights import forget_confirmation, forgotten_message, my_data_replies, parse_more_value
from bot.slack.commands import send
from bot.slack.services import Services
from bot.slack.ids import Action
from bot.slack.inputs import Forget, MyData, SlashCommand

STALE = "That button no longer works; ask again with `/pulse mydata`."


def register(app: App, services: Services) -> None:
    @services.commands.handles(MyData)
    def my_data(parsed: SlashCommand, command: dict[str, Any], respond: Respond, client: WebClient) -> None:
        data = rights.my_data(services.db, services.key, command["user_id"])
        send(respond, my_data_replies(data))

    @app.action(Action.MYDATA_MORE)
    def more(ack: Ack, body: dict[str, Any], action: dict[str, Any], respond: Respond) -> None:
        ack()
        try:
            start = parse_more_value(action.get("value"))
        except ValueError:
            respond(blocks=problem_message(STALE), text=problem_text(STALE), response_type="ephemeral", replace_original=False)
            return
        # Read again for the person clicking: the button holds a position, never their data.
        send(respond, my_data_replies(rights.my_data(services.db, services.key, body["user"]["id"]), start=start))

    @services.commands.handles(Forget)
    def forget(parsed: SlashCommand, command: dict[str, Any], respond: Respond, client: WebClient) -> None:
        respond(blocks=forget_confirmation(), text="Delete everything you answered and logged?", response_type="ephemeral")

    @app.action(Action.FORGET_CONFIRM)
    def confirm(ack: Ack, body: dict[str, Any], respond: Respond) -> None:
        ack()
        result = rights.forget(services.db, services.key, body["user"]["id"])
        respond(blocks=forgotten_message(result), text=result.summary(), replace_original=True)
