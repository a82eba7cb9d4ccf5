"""Slack's user groups and profile fields over the Web API, for the roster's user-group sync.

Scopes: `usergroups:read` (usergroups.list, usergroups.users.list) and, only when the behaviour
file names a `roster.level_field`, `users.profile:read` (team.profile.get, users.profile.get).
Neither user-group method is paginated: Slack answers each with the whole list. An org-wide
token must name the workspace (`team_id`) of both: the groups are listed workspace by workspace,
and each group's members asked for in the workspace it was listed in.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from typing import Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackClientError
from slack_sdk.web import SlackResponse

from bot.errors import RosterError
from bot.roster.usergroups import UserGroup
from bot.slack.directory import SlackDirectory

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


def user_groups_of(directory: SlackDirectory) -> SlackUserGroups:
    """The user groups the install sees: for an org-wide install, those of every workspace of the
    organisation the app is added to."""
    return SlackUserGroups(directory.client, workspaces=directory.workspaces if directory.org_wide else None)


class SlackUserGroups:
    def __init__(self, client: WebClient, *, workspaces: Callable[[], Sequence[str]] | None = None) -> None:
        self.client = client
        self.workspaces = workspaces  # set for an org-wide token, which lists one workspace at a time
        self._workspace_of: dict[str, str] = {}

    def user_groups(self) -> Iterator[UserGroup]:
        teams: Sequence[str | None] = [None] if self.workspaces is None else self.workspaces()
        seen: set[str] = set()
        for team_id in teams:
            where = {} if team_id is None else {"team_id": team_id}
            # Disabled groups too, so a mapping that names one says so rather than "no such handle".
            page = _call("usergroups.list", lambda: self.client.usergroups_list(include_disabled=True, **where))
            groups: list[dict[str, Any]] = page.get("usergroups") or []
            for raw in groups:
                group_id = str(raw.get("id", ""))
                if group_id in seen:  # an organisation's group is listed in each of its workspaces
                    continue
                seen.add(group_id)
                if team_id is not None:
                    self._workspace_of[group_id] = team_id
                yield UserGroup(id=group_id, handle=str(raw.get("handle") or ""), disabled=bool(raw.get("date_delete")))

    def group_members(self, group_id: str) -> list[str]:
        team_id = self._workspace_of.get(group_id)
        where = {} if team_id is None else {"team_id": team_id}
        page = _call("usergroups.users.list", lambda: self.client.usergroups_users_list(usergroup=group_id, **where))
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
