"""`/pulse summary [team] [Nw]`: a manager's or council member's view of a team, ephemeral."""

from __future__ import annotations

from typing import Any

from slack_bolt import Ack, App, Respond
from slack_sdk import WebClient

from bot.errors import PulseError
from bot.reports.summary import team_summaries
from bot.slack.app import Services
from bot.slack.commands import send
from bot.slack.blocks.layout import Position
from bot.slack.blocks.replies import problem_message, problem_text
from bot.slack.blocks.summary import parse_more_value, summary_replies
from bot.slack.ids import Action
from bot.slack.inputs import SlashCommand, Summary

STALE = "That button no longer works; ask again with `/pulse summary`."


def register(app: App, services: Services) -> None:
    def reply(respond: Respond, user_id: str, team: str | None, weeks: int, start: Position) -> None:
        summaries = team_summaries(services.db, services.behaviour, services.key, user_id, team, weeks)
        send(respond, summary_replies(summaries, team=team, weeks=weeks, min_group=services.min_group, start=start))

    @services.commands.handles(Summary)
    def summary_command(parsed: SlashCommand, command: dict[str, Any], respond: Respond, client: WebClient) -> None:
        assert isinstance(parsed, Summary)
        reply(respond, command["user_id"], parsed.team, parsed.weeks, Position())

    @app.action(Action.SUMMARY_MORE)
    def more(ack: Ack, body: dict[str, Any], action: dict[str, Any], respond: Respond) -> None:
        ack()
        try:
            weeks, start, team = parse_more_value(action.get("value"))
        except ValueError:
            respond(blocks=problem_message(STALE), text=problem_text(STALE), response_type="ephemeral", replace_original=False)
            return
        try:
            # Asked again, as the person clicking: a button passed on grants nothing.
            reply(respond, body["user"]["id"], team, weeks, start)
        except PulseError as error:
            respond(blocks=problem_message(str(error)), text=problem_text(str(error)), response_type="ephemeral", replace_original=False)
