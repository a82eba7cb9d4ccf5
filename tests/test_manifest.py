"""`manifest.yml` creates the app in Slack as it stands: Slack accepts it, it asks for exactly the
scopes the code needs, and everything it declares reaches a listener.

Slack checks a pasted manifest against its published JSON Schema (github.com/slackapi/manifest-schema,
MIT). A manifest without `_metadata.major_version`, like ours, is read against
`schemas/manifest.schema.1.0.0.json` (release v0.5.0); MANIFEST_RULES below restates that schema's
rules for every key it allows at the levels we use: required keys, lengths, patterns, enums and
`additionalProperties: false`. Where the schema writes `"regex"` (background_color), which no JSON
Schema validator reads, the rule is stated as the `pattern` it means. Keys we do not use are allowed
by name only.
"""

from __future__ import annotations

import ast
import json
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import yaml
from jsonschema import Draft7Validator
from slack_sdk import WebClient
from slack_sdk.web.base_client import BaseClient
from sqlalchemy import select

from bot.db import Database
from bot.models import Person
from bot.settings import Settings
from bot.slack.ids import Callback
from tests import factories
from tests.harness import running_app
from tests.slack_server import FakeSlack

ROOT = Path(__file__).resolve().parent.parent
MANIFEST = yaml.safe_load((ROOT / "manifest.yml").read_text(encoding="utf-8"))
HTTP_URL = {"type": "string", "pattern": r"^https?:\/\/"}


def _strings(max_length: int, max_items: int) -> dict[str, Any]:
    return {"type": "array", "items": {"type": "string", "maxLength": max_length}, "maxItems": max_items}


def _closed(properties: dict[str, Any], *, required: tuple[str, ...] = ()) -> dict[str, Any]:
    return {"type": "object", "additionalProperties": False, "required": list(required), "properties": properties}


# manifest.schema.1.0.0.json, definition by definition (named in the comments).
MANIFEST_RULES: dict[str, Any] = _closed(
    {
        "$schema": {"type": "string"},
        "_metadata": {},
        "app_directory": {},
        # app-manifests.v1.display_information.schema
        "display_information": _closed(
            {
                "name": {"type": "string", "minLength": 1, "maxLength": 35},
                "description": {"type": "string", "minLength": 1, "maxLength": 140},
                "background_color": {"type": "string", "minLength": 4, "maxLength": 7,
                                     "pattern": "^#[0-9a-fA-F]{3}([0-9a-fA-F]{3})?$"},
                "long_description": {"type": "string", "minLength": 175, "maxLength": 4000},
            },
            required=("name",),
        ),
        # app-manifests.v1.features.schema
        "features": _closed(
            {
                "app_home": _closed({
                    "home_tab_enabled": {"type": "boolean"},
                    "messages_tab_enabled": {"type": "boolean"},
                    "messages_tab_read_only_enabled": {"type": "boolean"},
                }),
                "bot_user": _closed(
                    {"display_name": {"type": "string", "minLength": 1, "maxLength": 80}, "always_online": {"type": "boolean"}},
                    required=("display_name",),
                ),
                # app-manifests.v1.features.shortcuts
                "shortcuts": {
                    "type": "array",
                    "minItems": 1,
                    "maxItems": 10,
                    "items": _closed(
                        {
                            "name": {"type": "string", "minLength": 1, "maxLength": 24},
                            "type": {"type": "string", "enum": ["message", "global"]},
                            "callback_id": {"type": "string", "minLength": 1, "maxLength": 255},
                            "description": {"type": "string", "minLength": 1, "maxLength": 150},
                        },
                        required=("name", "type", "callback_id", "description"),
                    ),
                },
                # app-manifests.v1.features.slash_commands
                "slash_commands": {
                    "type": "array",
                    "minItems": 1,
                    "maxItems": 50,
                    "items": _closed(
                        {
                            "command": {"type": "string", "minLength": 2, "maxLength": 32, "pattern": r"^\/"},
                            "url": {**HTTP_URL, "maxLength": 3000},
                            "description": {"type": "string", "minLength": 1, "maxLength": 2000},
                            "usage_hint": {"type": "string", "minLength": 1, "maxLength": 1000},
                            "should_escape": {"type": "boolean"},
                        },
                        required=("command", "description"),
                    ),
                },
                "functions": {},
                "workflow_steps": {},
                "unfurl_domains": {},
                "assistant_view": {},
                "agent_view": {},
            }
        ),
        # app-manifests.v1.oauth_config.schema
        "oauth_config": _closed(
            {
                "redirect_urls": {"type": "array", "uniqueItems": True, "maxItems": 1000,
                                  "items": {"type": "string", "maxLength": 2500}},
                # app-manifests.v1.oauth_config.scopes
                "scopes": _closed({
                    "user": _strings(50, 255),
                    "bot": _strings(50, 255),
                    "user_optional": _strings(50, 255),
                    "bot_optional": _strings(50, 255),
                }),
                "token_management_enabled": {"type": "boolean"},
                "pkce_enabled": {"type": "boolean"},
            }
        ),
        # app-manifests.v1.settings.schema
        "settings": _closed(
            {
                "allowed_ip_address_ranges": {},
                # app-manifests.v1.settings.event_subscriptions
                "event_subscriptions": _closed({
                    "request_url": {**HTTP_URL, "maxLength": 3500},
                    "user_events": {**_strings(50, 100), "uniqueItems": True},
                    "bot_events": {**_strings(50, 100), "uniqueItems": True},
                    "metadata_subscriptions": {},
                }),
                "incoming_webhooks": {},
                # app-manifests.v1.settings.interactivity
                "interactivity": _closed(
                    {
                        "is_enabled": {"type": "boolean"},
                        "request_url": {**HTTP_URL, "maxLength": 3500},
                        "message_menu_options_url": {**HTTP_URL, "maxLength": 3500},
                    },
                    required=("is_enabled",),
                ),
                "org_deploy_enabled": {"type": "boolean"},
                "socket_mode_enabled": {"type": "boolean"},
                "is_hosted": {"type": "boolean"},
                "token_rotation_enabled": {"type": "boolean"},
                "siws_links": {},
                "hermes_app_type": {"type": "string"},
                "function_runtime": {"type": "string"},
                "is_mcp_enabled": {"type": "boolean"},
            }
        ),
        "functions": {},
        "workflows": {},
        "datastores": {},
        "outgoing_domains": {},
        "types": {},
        "external_auth_providers": {},
        "mcp_servers": {},
    },
    required=("display_information",),
)


def manifest_problems(manifest: dict[str, Any]) -> list[str]:
    validator = Draft7Validator(MANIFEST_RULES)
    return sorted(f"{'.'.join(map(str, error.absolute_path)) or 'manifest'}: {error.message}"
                  for error in validator.iter_errors(manifest))


def test_the_manifest_passes_slacks_manifest_schema() -> None:
    assert manifest_problems(MANIFEST) == []


@pytest.mark.parametrize(
    ("change", "problem"),
    [
        (lambda m: m["features"]["shortcuts"][1].update(name="Log hidden AI work about this"),
         "features.shortcuts.1.name: 'Log hidden AI work about this' is too long"),
        (lambda m: m["features"]["shortcuts"][0].update(type="channel"), "features.shortcuts.0.type: 'channel' is not one of"),
        (lambda m: m["features"]["slash_commands"][0].update(command="pulse"), "features.slash_commands.0.command: 'pulse' does not match"),
        (lambda m: m["display_information"].update(background_color="2c3e50"), "display_information.background_color: '2c3e50'"),
        (lambda m: m["display_information"].update(long_description="Too short."), "display_information.long_description: 'Too short.' is too short"),
        (lambda m: m["settings"]["interactivity"].pop("is_enabled"), "settings.interactivity: 'is_enabled' is a required property"),
        (lambda m: m["features"].update(shortcut=[]), "features: Additional properties are not allowed ('shortcut' was unexpected)"),
    ],
)
def test_the_schema_rules_catch_what_slack_would_refuse(change: Any, problem: str) -> None:
    broken = json.loads(json.dumps(MANIFEST))
    change(broken)
    problems = manifest_problems(broken)
    assert len(problems) == 1 and problems[0].startswith(problem), problems


# ---------------------------------------------------------------- scopes


# The bot scope each Web API method the code calls needs with a bot token, from the method's page
# in Slack's reference ("Required scopes"); None: the method needs none.
METHOD_SCOPES: dict[str, set[str]] = {
    "chat.postMessage": {"chat:write"},
    "chat.update": {"chat:write"},
    "chat.getPermalink": set(),
    "conversations.open": {"im:write"},  # only DMs are opened
    # DMs (a pulse already sent?) and the council channel, public or private (a digest already posted?).
    "conversations.history": {"im:history", "channels:history", "groups:history"},
    "conversations.replies": {"channels:history", "groups:history"},  # the digest's thread
    "conversations.info": {"channels:read", "groups:read"},  # is the bot in the council channel
    "auth.test": set(),
    "auth.teams.list": set(),  # an org-wide install: the organisation's workspaces the app is added to
    # The roster from Slack user groups, and a level from a profile field.
    "usergroups.list": {"usergroups:read"},
    "usergroups.users.list": {"usergroups:read"},
    "users.profile.get": {"users.profile:read"},
    "team.profile.get": {"users.profile:read"},
    "views.open": set(),
    "views.publish": set(),
    # The roster matches people by profile.email, which users.list returns only with users:read.email.
    "users.list": {"users:read", "users:read.email"},
    "users.info": {"users:read"},
    "files.getUploadURLExternal": {"files:write"},
    "files.completeUploadExternal": {"files:write"},
}
# Called with the app-level token, whose scope is granted when the token is made (README, Socket
# Mode), not by the manifest.
APP_TOKEN_SCOPES: dict[str, str] = {"apps.connections.open": "connections:write"}
# slack_sdk helpers that call several Web API methods.
COMPOSITE = {"files_upload_v2": ("files.getUploadURLExternal", "files.completeUploadExternal")}
# Events the app subscribes to, and the scope each needs (the event's reference page).
EVENT_SCOPES: dict[str, set[str]] = {
    "app_home_opened": set(),
    "user_change": {"users:read"},
    "team_join": {"users:read"},
    "app_uninstalled": set(),
    "tokens_revoked": set(),
}
# Slash commands and shortcuts need `commands`.
FEATURE_SCOPES = {"commands"}


def web_api_methods_called() -> dict[str, set[str]]:
    """Every WebClient method named anywhere in bot/, as the Web API methods it calls, and where."""
    client_methods = {name for name in dir(WebClient) if not name.startswith("_")} - set(dir(BaseClient))
    found: dict[str, set[str]] = {}
    for path in sorted((ROOT / "bot").rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Attribute):
                name = node.attr
            elif isinstance(node, ast.Constant) and isinstance(node.value, str):
                name = node.value  # SlackMessenger._call("chat_update", …)
            else:
                continue
            if name in client_methods:
                for method in COMPOSITE.get(name, (name.replace("_", "."),)):
                    found.setdefault(method, set()).add(str(path.relative_to(ROOT)))
    return found


def test_the_code_calls_the_web_api_methods_this_test_knows_the_scopes_of() -> None:
    called = web_api_methods_called()
    assert {"chat.postMessage", "conversations.history", "users.list", "files.completeUploadExternal"} <= called.keys()
    unknown = {method: where for method, where in called.items() if method not in METHOD_SCOPES | APP_TOKEN_SCOPES}
    assert unknown == {}, "add the method's required scope to METHOD_SCOPES"


def test_the_manifest_asks_for_exactly_the_bot_scopes_the_code_needs() -> None:
    needed = set(FEATURE_SCOPES)
    for method in web_api_methods_called().keys() - APP_TOKEN_SCOPES.keys():
        needed |= METHOD_SCOPES[method]
    for event in MANIFEST["settings"]["event_subscriptions"]["bot_events"]:
        needed |= EVENT_SCOPES[event]
    scopes = MANIFEST["oauth_config"]["scopes"]
    assert sorted(scopes["bot"]) == sorted(needed)
    assert set(scopes) == {"bot"}  # no user token: the app never acts as a person


def test_the_readme_lists_the_manifests_scopes() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    for scope in [*MANIFEST["oauth_config"]["scopes"]["bot"], *APP_TOKEN_SCOPES.values()]:
        assert f"`{scope}`" in readme


# ---------------------------------------------------------------- what the manifest declares reaches the app


def test_every_request_url_is_the_apps_one_entry_point() -> None:
    settings = MANIFEST["settings"]
    urls = [command["url"] for command in MANIFEST["features"]["slash_commands"]]
    urls += [settings["event_subscriptions"]["request_url"], settings["interactivity"]["request_url"]]
    assert {urlsplit(url).path for url in urls} == {"/slack/events"}
    assert settings["interactivity"]["is_enabled"] is True  # every pulse answer is a button


def test_the_manifests_shortcuts_are_the_ones_the_app_listens_for() -> None:
    shortcuts = {s["callback_id"]: s["type"] for s in MANIFEST["features"]["shortcuts"]}
    assert shortcuts == {Callback.LOG_WORK_SHORTCUT: "global", Callback.LOG_WORK_MESSAGE_SHORTCUT: "message"}


def test_every_command_shortcut_and_event_in_the_manifest_has_a_listener(
    settings: Settings, db: Database, slack: FakeSlack
) -> None:
    factories.person(db, "UANNA")
    slack.add_user("UANNA")
    channel = "C0001"
    slack.messages[channel].append({"type": "message", "channel": channel, "ts": "1700000000.000100", "text": "the forecast"})
    with running_app(settings, db, slack) as app:
        for command in MANIFEST["features"]["slash_commands"]:
            slack.reset_calls()
            assert app.requests.command("UANNA", "help", command=command["command"]).status == 200, command
            app.settle()
            (reply,) = slack.calls_to("response_url")
            assert "Rollout Pulse" in reply.params["text"] + json.dumps(reply.params.get("blocks"))
        for shortcut in MANIFEST["features"]["shortcuts"]:
            slack.reset_calls()
            message = slack.messages[channel][0] if shortcut["type"] == "message" else None
            response = app.requests.shortcut("UANNA", shortcut["callback_id"], message=message, channel_id=channel)
            assert response.status == 200, shortcut
            app.settle()
            (opened,) = slack.calls_to("views.open")
            assert opened.params["view"]["title"]["text"], shortcut  # the hidden-work form opens
        slack.reset_calls()
        home = {"type": "app_home_opened", "user": "UANNA", "channel": "DANNA", "tab": "home", "event_ts": "1.0"}
        assert app.requests.event(home).status == 200
        away = {"type": "user_change", "user": {**slack.users["UANNA"], "tz": "Asia/Tokyo"}, "event_ts": "2.0"}
        assert app.requests.event(away).status == 200
        # A new hire with no user groups mapped: acknowledged, logged, nothing recorded.
        joined = {"type": "team_join", "user": {**slack.users["UANNA"], "id": "UNEW"}, "event_ts": "3.0"}
        assert app.requests.event(joined).status == 200
        # Token mode keeps no installation to delete: both are acknowledged and logged
        # (tests/test_oauth.py has what they do in OAuth mode).
        revoked = {"type": "tokens_revoked", "tokens": {"bot": ["UBOT"]}, "event_ts": "4.0"}
        assert app.requests.event(revoked).status == 200
        uninstalled = {"type": "app_uninstalled", "event_ts": "5.0"}
        assert app.requests.event(uninstalled).status == 200
        app.settle()
        events = [event["type"] for event in (home, away, joined, revoked, uninstalled)]
        assert sorted(events) == sorted(MANIFEST["settings"]["event_subscriptions"]["bot_events"])
    assert slack.calls_to("views.publish")[0].params["user_id"] == "UANNA"
    with db.session() as session:
        assert session.scalar(select(Person.tz).where(Person.slack_user_id == "UANNA")) == "Asia/Tokyo"
