"""The roster from Slack's events: `user_change` keeps time zones, away statuses and deactivations
current; `team_join` places a new hire the day they join, when the mapped user groups place them,
with the Slack locale they read the app in."""

from __future__ import annotations

import logging
from dataclasses import replace
from typing import Any

from slack_bolt import App

from bot.errors import RosterError
from bot.roster.directory import SlackUser
from bot.roster.service import apply_slack_user
from bot.roster.usergroups import enrol_new_member
from bot.slack.directory import SlackDirectory, slack_user
from bot.slack.services import Services
from bot.slack.usergroups import user_groups_of

log = logging.getLogger(__name__)


def register(app: App, services: Services) -> None:
    @app.event("user_change")
    def user_changed(event: dict[str, Any]) -> None:
        raw = event.get("user")
        if isinstance(raw, dict) and raw.get("id"):
            apply_slack_user(services.db, slack_user(raw), away=services.behaviour.away_status)

    @app.event("team_join")
    def member_joined(event: dict[str, Any]) -> None:
        raw = event.get("user")
        if isinstance(raw, dict) and raw.get("id"):
            user = slack_user(raw)
            # Reading every mapped group takes several Slack calls: after the acknowledgement.
            services.after_ack("roster.team_join", lambda: _enrol(services, user))


def _enrol(services: Services, user: SlackUser) -> None:
    behaviour = services.behaviour
    directory = SlackDirectory(services.messenger.client, org_wide=services.org_wide)
    try:
        # The event leaves the locale out; users.info says it, so a new hire reads their language.
        user = replace(user, locale=directory.user(user.user_id).locale)
    except RosterError as error:
        log.info("roster.locale_unknown user=%s reason=%s", user.user_id, str(error).splitlines()[0])
    try:
        outcome = enrol_new_member(
            services.db, user, user_groups_of(directory), behaviour.roster, away=behaviour.away_status
        )
    except RosterError as error:
        outcome = f"not recorded: {str(error).splitlines()[0]}"
    log.info("roster.team_join user=%s %s", user.user_id, outcome)
