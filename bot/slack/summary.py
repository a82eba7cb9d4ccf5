"""`/pulse summary [team] [Nw]`: a manager's or council member's view of a team, ephemeral."""

from __future__ import annotations

from typing import Any

from slack_bolt import App, Respond
from slack_sdk import WebClient

from bot.labour.credit import credit_for_manager
from bot.reports.summary import team_summaries
from bot.slack.blocks.credit import credit_messages
from bot.slack.services import Services
from bot.slack.blocks.summary import summary_message, summary_text
from bot.slack.inputs import SlashCommand, Summary


def register(app: App, services: Services) -> None:
    @services.commands.handles(Summary)
    def summary_command(parsed: SlashCommand, command: dict[str, Any], respond: Respond, client: WebClient) -> None:
        assert isinstance(parsed, Summary)
        summaries = team_summaries(
            services.db, services.behaviour, services.key, command["user_id"], parsed.team, parsed.weeks
        )
        respond(
            blocks=summary_message(summaries, weeks=parsed.weeks, min_group=services.min_group),
            text=summary_text(summaries),
            response_type="ephemeral",
        )
        # A manager also sees, by name, the hidden work their people shared with them for credit
        # (nothing more when nobody did).
        credit = credit_for_manager(services.db, command["user_id"], parsed.team, parsed.weeks)
        if credit is not None and credit.people:
            for text, blocks in credit_messages(credit):
                respond(blocks=blocks, text=text, response_type="ephemeral", replace_original=False)
