"""`pulse check`'s questions to Slack: does the token work, does it carry the scopes the manifest
asks for, and is the bot in the council channel."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackClientError

from bot.messenger import channel_problem
from bot.slack.client import make_web_client, refusal, unreachable

MANIFEST = Path(__file__).resolve().parent.parent.parent / "manifest.yml"


@dataclass(frozen=True)
class Finding:
    """One line of the check: `ok` True (fine), False (a problem, with its fix) or None (not checked)."""

    subject: str
    ok: bool | None
    text: str


def manifest_scopes(path: Path = MANIFEST) -> frozenset[str] | None:
    """The bot scopes manifest.yml asks for, or None without a manifest to read."""
    try:
        manifest = yaml.safe_load(path.read_text(encoding="utf-8"))
        return frozenset(manifest["oauth_config"]["scopes"]["bot"])
    except (OSError, yaml.YAMLError, KeyError, TypeError):
        return None


def check_slack(
    token: str, api_url: str, council_channel: str | None, *, token_name: str = "SLACK_BOT_TOKEN"
) -> list[Finding]:
    client = make_web_client(token, api_url)
    try:
        answer = client.auth_test()
    except SlackApiError as error:
        reason = refusal(error.response)
        if token_name != "SLACK_BOT_TOKEN":  # OAuth mode: the fix is a new install, not a new setting
            reason = f"{error.response.get('error', 'unknown_error')}: install the app again at /slack/install"
        return [
            Finding("Slack", False, f"Slack refused {token_name} (auth.test): {reason}"),
            *_not_checked(council_channel, "the token does not work"),
        ]
    except (SlackClientError, OSError) as error:
        return [
            Finding("Slack", False, f"cannot reach Slack at {api_url}: {unreachable(error, api_url, client.timeout)}"),
            *_not_checked(council_channel, "Slack was out of reach"),
        ]
    who = f"@{answer.get('user')}" if answer.get("user") else "the bot"
    team = f" in {answer.get('team')}" if answer.get("team") else ""
    findings = [Finding("Slack", True, f"the token works for {who}{team} (auth.test)")]
    oauth = token_name != "SLACK_BOT_TOKEN"
    findings.append(_scopes(answer.headers, "then install the app again at /slack/install" if oauth else "reinstall the app and copy the new token"))
    if council_channel is not None:
        findings.append(_council_channel(client, council_channel))
    return findings


def _not_checked(council_channel: str | None, why: str) -> list[Finding]:
    skipped = [Finding("scopes", None, f"not checked: {why}")]
    if council_channel is not None:
        skipped.append(Finding("council channel", None, f"not checked: {why}"))
    return skipped


def _scopes(headers: dict[str, Any], fix: str) -> Finding:
    wanted = manifest_scopes()
    if wanted is None:
        return Finding("scopes", None, f"not checked: no manifest to compare with at {MANIFEST}")
    header = next((str(value) for name, value in headers.items() if name.lower() == "x-oauth-scopes"), None)
    if header is None:
        return Finding("scopes", None, "not checked: Slack sent no x-oauth-scopes header")
    granted = {scope.strip() for scope in header.split(",") if scope.strip()}
    missing = sorted(wanted - granted)
    if missing:
        return Finding(
            "scopes",
            False,
            f"the token lacks {', '.join(missing)}, which manifest.yml asks for: add "
            f"{'it' if len(missing) == 1 else 'them'} to the app's bot scopes (OAuth & Permissions, or "
            f"update the app from manifest.yml), {fix}",
        )
    extra = sorted(granted - wanted)
    more = f"; also granted, and not used: {', '.join(extra)}" if extra else ""
    return Finding("scopes", True, f"all {len(wanted)} bot scopes manifest.yml asks for are granted{more}")


def _council_channel(client: WebClient, channel: str) -> Finding:
    try:
        found = client.conversations_info(channel=channel)["channel"]
    except SlackApiError as error:
        code = str(error.response.get("error", "unknown_error"))
        if code in ("channel_not_found", "not_in_channel"):
            return Finding("council channel", False, channel_problem(code, channel, None))
        return Finding(
            "council channel", False, f"cannot tell whether the bot is in {channel}: {refusal(error.response)}"
        )
    except (SlackClientError, OSError) as error:
        reason = unreachable(error, client.base_url, client.timeout)
        return Finding("council channel", False, f"cannot tell whether the bot is in {channel}: {reason}")
    name = found.get("name")
    where = f"#{name} ({channel})" if name else channel
    if found.get("is_archived"):
        return Finding(
            "council channel", False, f"{where} is archived: unarchive it, or set PULSE_COUNCIL_CHANNEL to another channel"
        )
    if not found.get("is_member"):
        return Finding("council channel", False, channel_problem("not_in_channel", channel, name))
    return Finding("council channel", True, f"the bot is a member of {where}")
