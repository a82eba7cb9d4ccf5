"""Keep time zones, away statuses and deactivations current from Slack's `user_change` events."""

from __future__ import annotations

from typing import Any

from slack_bolt import App

from bot.roster.service import apply_slack_user
from bot.slack.services import Services
from bot.slack.directory import slack_user


def register(app: App, services: Services) -> None:
    @app.event("user_change")
    def user_changed(event: dict[str, Any]) -> None:
        raw = event.get("user")
        if isinstance(raw, dict) and raw.get("id"):
            apply_slack_user(services.db, slack_user(raw), away=services.behaviour.away_status)
