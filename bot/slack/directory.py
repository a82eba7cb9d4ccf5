"""Slack's user directory over the Web API: users.list, one paginated pass."""

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
    def __init__(self, client: WebClient) -> None:
        self.client = client

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
        cursor: str | None = None
        while True:
            try:
                # With each person's Slack locale, from which they read the app in their language.
                page = self.client.users_list(limit=PAGE_SIZE, cursor=cursor, include_locale=True)
            except SlackApiError as error:
                raise RosterError(f"Slack refused users.list: {refusal(error.response)}") from None
            except (SlackClientError, OSError) as error:
                reason = unreachable(error, self.client.base_url, self.client.timeout)
                raise RosterError(f"cannot reach Slack for users.list: {reason}") from None
            members: list[dict[str, Any]] = page.get("members", [])
            for raw in members:
                yield slack_user(raw)
            cursor = (page.get("response_metadata") or {}).get("next_cursor") or None
            if not cursor:
                return
