"""Slack's user groups and profile fields over the Web API, for the roster's user-group sync.

Scopes: `usergroups:read` (usergroups.list, usergroups.users.list) and, only when the behaviour
file names a `roster.level_field`, `users.profile:read` (team.profile.get, users.profile.get).
Neither user-group method is paginated: Slack answers each with the whole list.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackClientError
from slack_sdk.web import SlackResponse

from bot.errors import RosterError
from bot.roster.usergroups import UserGroup

# What an operator can do about the refusals a sync meets most.
_HINTS = {
    "missing_scope": "add the scope to the app (manifest.yml) and reinstall it",
    "plan_upgrade_required": "user groups need a paid Slack plan; use the CSV roster instead",
    "no_such_subteam": "the user group was deleted while the sync ran; run it again",
}


def _call(method: str, call: Callable[[], SlackResponse]) -> SlackResponse:
    try:
        return call()
    except SlackApiError as error:
        code = str(error.response.get("error", "unknown_error"))
        needed = error.response.get("needed")
        detail = f" {needed}" if code == "missing_scope" and needed else ""
        hint = f" ({_HINTS[code]})" if code in _HINTS else ""
        raise RosterError(f"Slack refused {method}: {code}{detail}{hint}") from None
    except (SlackClientError, OSError) as error:
        raise RosterError(f"Slack could not be reached for {method}: {type(error).__name__}") from None


class SlackUserGroups:
    def __init__(self, client: WebClient) -> None:
        self.client = client

    def user_groups(self) -> Iterator[UserGroup]:
        # Disabled groups too, so a mapping that names one says so rather than "no such handle".
        page = _call("usergroups.list", lambda: self.client.usergroups_list(include_disabled=True))
        groups: list[dict[str, Any]] = page.get("usergroups") or []
        for raw in groups:
            yield UserGroup(
                id=str(raw.get("id", "")),
                handle=str(raw.get("handle") or ""),
                disabled=bool(raw.get("date_delete")),
            )

    def group_members(self, group_id: str) -> list[str]:
        page = _call("usergroups.users.list", lambda: self.client.usergroups_users_list(usergroup=group_id))
        return [str(user_id) for user_id in page.get("users") or []]

    def profile_field_ids(self) -> set[str]:
        page = _call("team.profile.get", lambda: self.client.team_profile_get())
        fields: list[dict[str, Any]] = (page.get("profile") or {}).get("fields") or []
        return {str(item.get("id")) for item in fields}

    def profile_field(self, user_id: str, field_id: str) -> str | None:
        page = _call("users.profile.get", lambda: self.client.users_profile_get(user=user_id))
        fields = (page.get("profile") or {}).get("fields") or {}
        value = (fields.get(field_id) or {}).get("value") if isinstance(fields, dict) else None
        return str(value) if value is not None else None
