"""`/pulse mydata` and `/pulse forget` (with a confirmation)."""

from __future__ import annotations

from typing import Any

from slack_bolt import Ack, App, Respond
from slack_sdk import WebClient

from bot import rights
from bot.i18n import translator
from bot.slack.blocks.replies import problem_message, problem_text
from bot.i18n import N_
from bot.slack.blocks.rights import forget_confirmation, forget_text, forgotten_message, my_data_replies, parse_more_value
from bot.slack.commands import send
from bot.slack.services import Services
from bot.slack.ids import Action
from bot.slack.inputs import Forget, MyData, SlashCommand

STALE = N_("That button no longer works; ask again with `/pulse mydata`.")


def register(app: App, services: Services) -> None:
    @services.commands.handles(MyData)
    def my_data(parsed: SlashCommand, command: dict[str, Any], respond: Respond, client: WebClient) -> None:
        lang = services.language(command["user_id"])
        data = rights.my_data(services.db, services.key, command["user_id"], lang=lang)
        send(respond, my_data_replies(data, t=translator(lang)))

    @app.action(Action.MYDATA_MORE)
    def more(ack: Ack, body: dict[str, Any], action: dict[str, Any], respond: Respond) -> None:
        ack()
        user_id = body["user"]["id"]
        lang = services.language(user_id)
        try:
            start = parse_more_value(action.get("value"))
        except ValueError:
            stale = translator(lang).gettext(STALE)
            respond(blocks=problem_message(stale), text=problem_text(stale), response_type="ephemeral", replace_original=False)
            return
        # Read again for the person clicking: the button holds a position, never their data.
        data = rights.my_data(services.db, services.key, user_id, lang=lang)
        send(respond, my_data_replies(data, start=start, t=translator(lang)))

    @services.commands.handles(Forget)
    def forget(parsed: SlashCommand, command: dict[str, Any], respond: Respond, client: WebClient) -> None:
        t = services.translator(command["user_id"])
        respond(blocks=forget_confirmation(t), text=forget_text(t), response_type="ephemeral")

    @app.action(Action.FORGET_CONFIRM)
    def confirm(ack: Ack, body: dict[str, Any], respond: Respond) -> None:
        ack()
        result = rights.forget(services.db, services.key, body["user"]["id"])
        t = services.translator(body["user"]["id"])
        respond(blocks=forgotten_message(result, t), text=result.summary(t), replace_original=True)
