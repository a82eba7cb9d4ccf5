"""`/pulse summary [team] [Nw]`: a manager's or council member's view of a team, ephemeral."""

from __future__ import annotations

from typing import Any

from slack_bolt import Ack, App, Respond
from slack_sdk import WebClient

from bot.errors import PulseError
from bot.i18n import N_
from bot.labour.credit import credit_for_manager
from bot.reports.summary import team_summaries
from bot.slack.blocks.credit import credit_messages
from bot.slack.blocks.layout import Position, Reply
from bot.slack.blocks.replies import problem_message, problem_text
from bot.slack.blocks.summary import parse_more_value, summary_replies
from bot.slack.commands import send
from bot.slack.ids import Action
from bot.slack.services import Services
from bot.slack.inputs import SlashCommand, Summary

STALE = N_("That button no longer works; ask again with `/pulse summary`.")
REPLY_MESSAGES = 5  # what one response_url takes


def _continues(messages: list[Reply]) -> bool:
    """The reply ends with the button for the next teams: the summary is not finished yet."""
    last = messages[-1].blocks if messages else []
    return any(e.get("action_id") == Action.SUMMARY_MORE for b in last for e in b.get("elements", []))


def register(app: App, services: Services) -> None:
    def reply(respond: Respond, user_id: str, team: str | None, weeks: int, start: Position) -> None:
        t = services.translator(user_id)
        summaries = team_summaries(services.db, services.behaviour, services.key, user_id, team, weeks, t=t)
        # A manager also sees, by name, the hidden work their people shared with them for credit
        # (nothing more when nobody did), after the summary's last page, in what is left of the
        # reply's five messages: a summary that would fill all five keeps one for it.
        credit = credit_for_manager(services.db, user_id, team, weeks)
        shared = credit is not None and bool(credit.people)
        messages = summary_replies(
            summaries, team=team, weeks=weeks, min_group=services.min_group, start=start, credit_follows=shared, t=t
        )
        send(respond, messages)
        if credit is None or not shared or _continues(messages):
            return  # the reports shared with the caller follow the summary's last page
        for text, blocks in credit_messages(credit, budget=REPLY_MESSAGES - len(messages), t=t):
            respond(blocks=blocks, text=text, response_type="ephemeral", replace_original=False)

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
            stale = services.translator(body["user"]["id"]).gettext(STALE)
            respond(blocks=problem_message(stale), text=problem_text(stale), response_type="ephemeral", replace_original=False)
            return
        try:
            # Asked again, as the person clicking: a button passed on grants nothing.
            reply(respond, body["user"]["id"], team, weeks, start)
        except PulseError as error:
            text = error.in_language(services.translator(body["user"]["id"]))
            respond(blocks=problem_message(text), text=problem_text(text), response_type="ephemeral", replace_original=False)
