"""Slack's user directory over the Web API: users.list, one paginated pass (one a workspace for
an org-wide install on Enterprise Grid, whose token lists a workspace only when named)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackClientError

from bot.errors import RosterError
from bot.slack.client import refusal, unreachable
from bot.roster.directory import SlackUser
from bot.weeks import UTC

PAGE_SIZE = 200


def slack_user(raw: dict[str, Any]) -> SlackUser:
    """A user object from users.list or a `user_change` event."""
    profile = raw.get("profile") or {}
    expiration = int(profile.get("status_expiration") or 0)
    return SlackUser(
        user_id=str(raw.get("id", "")),
        email=(profile.get("email") or None),
        tz=raw.get("tz") or None,
        deleted=bool(raw.get("deleted", False)),
        is_bot=bool(raw.get("is_bot", False)) or raw.get("id") == "USLACKBOT",
        status_emoji=str(profile.get("status_emoji") or ""),
        status_text=str(profile.get("status_text") or ""),
        status_expiration=dt.datetime.fromtimestamp(expiration, UTC) if expiration else None,
        name=str(profile.get("real_name") or raw.get("real_name") or profile.get("display_name") or raw.get("name") or ""),
        locale=_locale(raw.get("locale")),
    )


def _locale(value: Any) -> str | None:
    return value.strip()[:16] or None if isinstance(value, str) else None


class SlackDirectory:
    def __init__(self, client: WebClient, *, org_wide: bool = False) -> None:
        self.client = client
        self.org_wide = org_wide

    def user(self, user_id: str) -> SlackUser:
        """One user, with their locale (users.info with include_locale)."""
        try:
            return slack_user(self.client.users_info(user=user_id, include_locale=True)["user"])
        except SlackApiError as error:
            raise RosterError(f"Slack refused users.info: {refusal(error.response)}") from None
        except (SlackClientError, OSError) as error:
            reason = unreachable(error, self.client.base_url, self.client.timeout)
            raise RosterError(f"cannot reach Slack for users.info: {reason}") from None

    def all_users(self) -> Iterator[SlackUser]:
        if not self.org_wide:
            yield from self._users(None)
            return
        # An org-wide token lists one workspace at a time; someone in several is listed once.
        seen: set[str] = set()
        for team_id in self.workspaces():
            for user in self._users(team_id):
                if user.user_id not in seen:
                    seen.add(user.user_id)
                    yield user

    def workspaces(self) -> list[str]:
        """The workspaces of the organisation the app is added to (auth.teams.list)."""
        return [str(team.get("id")) for page in self._pages("auth.teams.list", None) for team in page.get("teams", [])]

    def _users(self, team_id: str | None) -> Iterator[SlackUser]:
        for page in self._pages("users.list", team_id):
            members: list[dict[str, Any]] = page.get("members", [])
            for raw in members:
                yield slack_user(raw)

    def _pages(self, method: str, team_id: str | None) -> Iterator[Any]:
        call = self.client.auth_teams_list if method == "auth.teams.list" else self.client.users_list
        where: dict[str, Any] = {} if team_id is None else {"team_id": team_id}
        if method == "users.list":
            where["include_locale"] = True  # each person's Slack locale: they read the app in its language
        cursor: str | None = None
        while True:
            try:
                page = call(limit=PAGE_SIZE, cursor=cursor, **where)
            except SlackApiError as error:
                raise RosterError(f"Slack refused {method}: {refusal(error.response)}") from None
            except (SlackClientError, OSError) as error:
                reason = unreachable(error, self.client.base_url, self.client.timeout)
                raise RosterError(f"cannot reach Slack for {method}: {reason}") from None
            yield page
            cursor = (page.get("response_metadata") or {}).get("next_cursor") or None
            if not cursor:
                return
