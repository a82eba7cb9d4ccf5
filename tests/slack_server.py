"""A small Slack-compatible Web API server on loopback, for tests.

The app's WebClient is pointed at it through SLACK_API_URL, so tests exercise the real HTTP
path (serialisation, retries, timeouts) while seeing every call and injecting faults.
"""

from __future__ import annotations

import base64
import json
import math
import secrets
import select
import socket
import threading
import time
import urllib.request
from collections import defaultdict, deque
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit
from zoneinfo import ZoneInfo

import yaml

# Slack sends these as JSON strings in form bodies; decoding them lets tests assert on structure.
_JSON_PARAMS = frozenset({"blocks", "attachments", "view", "metadata", "files", "users", "user_ids"})

Handler = Callable[["FakeSlack", dict[str, Any]], dict[str, Any]]
_METHODS: dict[str, Handler] = {}

MANIFEST = Path(__file__).resolve().parent.parent / "manifest.yml"


def manifest_bot_scopes() -> frozenset[str]:
    """The bot scopes the app's manifest asks for: what an install of it grants."""
    manifest = yaml.safe_load(MANIFEST.read_text(encoding="utf-8"))
    return frozenset(manifest["oauth_config"]["scopes"]["bot"])


# The scope each Web API method needs, as Slack's method pages list them; a call without it is
# answered `missing_scope`. Methods not listed need none (or none the tests take away).
_NEEDED_SCOPES = {
    "chat.postMessage": "chat:write",
    "chat.update": "chat:write",
    "conversations.open": "im:write",
    "conversations.history": "im:history",
    "users.list": "users:read",
    "users.info": "users:read",
    "users.lookupByEmail": "users:read.email",
    "files.getUploadURLExternal": "files:write",
    "files.completeUploadExternal": "files:write",
}


def _api(name: str) -> Callable[[Handler], Handler]:
    def register(handler: Handler) -> Handler:
        _METHODS[name] = handler
        return handler

    return register


class SlackError(Exception):
    """An `{"ok": false}` answer; Slack reports these with HTTP 200."""

    def __init__(self, error: str) -> None:
        super().__init__(error)
        self.error = error


class ScopeMissing(SlackError):
    """`missing_scope`, with the scope the method needed."""

    def __init__(self, needed: str) -> None:
        super().__init__("missing_scope")
        self.needed = needed


class Headers(dict[str, str]):
    """A plain dict whose look-ups ignore case, as HTTP header names do."""

    def __init__(self, items: Any) -> None:
        super().__init__((key.lower(), value) for key, value in items)

    def __getitem__(self, key: str) -> str:
        return super().__getitem__(key.lower())

    def __contains__(self, key: object) -> bool:
        return isinstance(key, str) and super().__contains__(key.lower())

    def get(self, key: str, default: Any = None) -> Any:  # type: ignore[override]
        return super().get(key.lower(), default)


@dataclass
class Call:
    method: str
    params: dict[str, Any]
    path: str
    headers: dict[str, str]
    token: str | None


@dataclass
class _Fault:
    status: int
    retry_after: int | None
    error: str | None
    processed: bool = False  # the call takes effect (a message is posted) before the fault
    drop: bool = False  # the connection closes without an answer


@dataclass
class _Delay:
    seconds: float
    processed: bool  # the call takes effect first, then the answer is late


@dataclass
class _RateLimit:
    """A fixed window, as Slack's per-minute tiers: `limit` calls per `window` seconds."""

    limit: int
    window: float
    started: float = 0.0
    used: int = 0


# Methods Slack answers only for the app-level token (xapp-), not the bot token.
APP_TOKEN_METHODS = frozenset({"apps.connections.open"})
# Methods the app calls with its client id and secret (HTTP Basic auth), not a token.
CLIENT_METHODS = frozenset({"oauth.v2.access"})
TOKEN_LIFETIME = 12 * 60 * 60  # seconds a rotating token lasts, as Slack issues them


@dataclass
class Install:
    """Who an OAuth install is for: a workspace, or (org_wide) an Enterprise Grid organisation."""

    team_id: str | None
    team_name: str | None
    enterprise_id: str | None = None
    enterprise_name: str | None = None
    org_wide: bool = False
    installer: str = "UADMIN"
    rotating: bool = False


@dataclass
class _Issued:
    install: Install
    expires_at: float | None  # None: the token never expires (token rotation off)


class FakeSlack:
    def __init__(
        self, bot_token: str = "xoxb-test-token", app_token: str = "xapp-test-token", scopes: frozenset[str] | None = None
    ) -> None:
        self.bot_token = bot_token
        self.app_token = app_token
        self.socket_mode_url: str | None = None  # what apps.connections.open answers: a ws:// URL on loopback
        # Granted to the token, and sent back on every answer in `x-oauth-scopes`, as Slack does.
        self.scopes: set[str] = set(manifest_bot_scopes() if scopes is None else scopes)
        self.calls: list[Call] = []
        self.users: dict[str, dict] = {}
        # Channels set up by a test; any other C… channel is a public channel the bot is in.
        self.channels: dict[str, dict | None] = {}
        self.user_groups: dict[str, dict] = {}  # by id, as usergroups.list describes them
        self.group_members: dict[str, list[str]] = {}
        self.profile_fields: list[dict] = []  # the workspace's custom profile fields (team.profile.get)
        self.profile_values: dict[str, dict[str, str]] = {}  # user id → field id → value
        self.messages: dict[str, list[dict]] = defaultdict(list)
        self.uploads: dict[str, bytes] = {}
        self.url = ""
        self._changed = threading.Condition(threading.RLock())
        self._faults: dict[str, deque[_Fault]] = defaultdict(deque)
        self._delays: dict[str, deque[_Delay]] = defaultdict(deque)
        self._limits: dict[str, _RateLimit] = {}
        self._hooks: dict[tuple[str, int], Callable[[], None]] = {}
        self._processed: dict[str, int] = defaultdict(int)
        self._in_flight = 0
        self._idle: set[socket.socket] = set()  # kept-alive connections waiting for their next call
        self.connections = 0  # connections accepted so far: clients that keep theirs alive open few
        self._stopping = threading.Event()
        self._last_ts = 0
        self._counter = 0
        self._file_ids: dict[str, str] = {}  # file id → file name
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        # OAuth: the app's credentials, codes Slack handed installers, and tokens it issued.
        self.client_id: str | None = None
        self.client_secret: str | None = None
        self.app_id = "A0001"
        self._codes: dict[str, Install] = {}
        self.issued: dict[str, _Issued] = {}
        self._refresh_tokens: dict[str, Install] = {}
        self._caller: _Issued | None = None  # the issued token of the call being answered

    # -- lifecycle -------------------------------------------------------------------------------

    def start(self) -> FakeSlack:
        server = _Server(("127.0.0.1", 0), _RequestHandler)
        server.fake = self  # type: ignore[attr-defined]
        self._server = server
        self.url = f"http://127.0.0.1:{server.server_address[1]}/api/"
        # A short poll interval keeps stop() (and so every test's teardown) quick.
        self._thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stopping.set()  # wakes slowed answers so shutdown never waits on them
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        self._close_idle()

    def close_idle_connections(self, timeout: float = 5.0) -> None:
        """Close every kept-alive connection once it waits for its next call, as Slack closes
        those idle for a while: the client finds each closed when it next wants one."""
        with self._changed:
            # An answer can reach the client before its connection is counted idle here.
            if not self._changed.wait_for(lambda: self._in_flight == 0, timeout):
                raise AssertionError(f"{self._in_flight} call(s) still being handled after {timeout}s")
        self._close_idle()

    def _close_idle(self) -> None:
        with self._changed:
            idle = list(self._idle)
        for connection in idle:
            # Ends the thread waiting on the kept-alive connection; the client sees it closed.
            try:
                connection.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass  # the client closed it first

    def __enter__(self) -> FakeSlack:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    @property
    def base(self) -> str:
        return self.url.removesuffix("/api/")

    # -- inspection ------------------------------------------------------------------------------

    def calls_to(self, method: str) -> list[Call]:
        with self._changed:
            return [call for call in self.calls if call.method == method]

    def wait_for(self, method: str, count: int = 1, timeout: float = 5.0) -> list[Call]:
        with self._changed:
            # Condition.wait_for keeps real time even under freezegun, which leaves threading alone.
            if self._changed.wait_for(lambda: len(self.calls_to(method)) >= count, timeout):
                return self.calls_to(method)
            seen = [call.method for call in self.calls]
        raise AssertionError(f"expected {count} call(s) to {method} within {timeout}s; calls were: {seen}")

    def settle(self, timeout: float = 5.0) -> None:
        """Wait until every call made so far has been handled, even one whose caller has died.

        Connections are accepted in order, so once a request of our own has been answered, every
        connection opened before it has been accepted and counted; then they are waited for. A
        call sent on a kept-alive connection is in that connection's socket by then: an idle
        connection with something to read is waited for too."""
        with urllib.request.urlopen(f"{self.base}/settle", timeout=timeout) as answer:  # noqa: S310 — loopback
            answer.read()
        with self._changed:
            # Condition.wait keeps real time even under freezegun, which leaves threading alone;
            # only waits that time out count towards the timeout.
            waits = max(1, math.ceil(timeout / _SETTLE_POLL))
            while self._in_flight or _any_readable(self._idle):
                if not self._changed.wait(_SETTLE_POLL):
                    waits -= 1
                    if waits == 0:
                        raise AssertionError(f"{self._in_flight} call(s) still being handled after {timeout}s")

    def reset_calls(self) -> None:
        with self._changed:
            self.calls.clear()

    # -- setup -----------------------------------------------------------------------------------

    def add_user(
        self,
        user_id: str,
        *,
        email: str | None = None,
        tz: str = "UTC",
        deleted: bool = False,
        is_bot: bool = False,
        status_emoji: str = "",
        status_text: str = "",
        status_expiration: int = 0,
        real_name: str | None = None,
        team_id: str = "T0001",
        locale: str = "en-US",
    ) -> dict:
        name = email.split("@")[0] if email else user_id.lower()
        full_name = real_name or name
        user = {
            "id": user_id,
            "team_id": team_id,
            "name": name,
            "real_name": full_name,
            "deleted": deleted,
            "is_bot": is_bot,
            "tz": tz,
            "profile": {
                "email": email,
                "real_name": full_name,
                "display_name": name,
                "status_text": status_text,
                "status_emoji": status_emoji,
                "status_expiration": status_expiration,
            },
            # Slack answers with it only when asked (include_locale): see _with_locale.
            "_locale": locale,
        }
        _refresh_tz(user)
        with self._changed:
            self.users[user_id] = user
        return user

    def oauth_app(self, client_id: str, client_secret: str) -> None:
        """The app's client id and secret (Basic Information), which oauth.v2.access checks."""
        with self._changed:
            self.client_id, self.client_secret = client_id, client_secret

    def grant(self, install: Install) -> str:
        """An installer approved the app: the code Slack sends them back to the redirect URL with."""
        with self._changed:
            code = f"code-{secrets.token_hex(6)}"
            self._codes[code] = install
            return code

    def issue(self, install: Install) -> dict[str, Any]:
        """A bot token for `install`, with a refresh token when the app rotates tokens."""
        with self._changed:
            number = secrets.token_hex(8)
            if not install.rotating:
                token = f"xoxb-{number}"
                self.issued[token] = _Issued(install, None)
                return {"access_token": token}
            token, refresh = f"xoxe.xoxb-1-{number}", f"xoxe-1-{secrets.token_hex(8)}"
            self.issued[token] = _Issued(install, time.time() + TOKEN_LIFETIME)
            self._refresh_tokens[refresh] = install
            return {"access_token": token, "refresh_token": refresh, "expires_in": TOKEN_LIFETIME}

    def add_channel(self, channel_id: str, name: str, *, member: bool = True, private: bool = False) -> dict:
        channel = {"id": channel_id, "name": name, "is_channel": not private, "is_private": private, "is_member": member}
        with self._changed:
            self.channels[channel_id] = channel
        return channel

    def no_channel(self, channel_id: str) -> None:
        """Slack has no such channel (deleted, or an id from another workspace)."""
        with self._changed:
            self.channels[channel_id] = None
    def add_user_group(
        self, handle: str, members: list[str] | tuple[str, ...] = (), *, name: str | None = None, disabled: bool = False,
        team_id: str = "T0001",
    ) -> str:
        """A user group (Slack calls them subteams, ids starting with S); returns its id."""
        with self._changed:
            group_id = self.next_id("S")
            stamp = int(time.time())
            self.user_groups[group_id] = {
                "id": group_id,
                "team_id": team_id,
                "is_usergroup": True,
                "is_subteam": True,
                "name": name or handle.replace("-", " ").title(),
                "description": "",
                "handle": handle,
                "is_external": False,
                "date_create": stamp,
                "date_update": stamp,
                "date_delete": stamp if disabled else 0,
                "auto_type": None,
                "created_by": "UADMIN",
                "updated_by": "UADMIN",
                "deleted_by": "UADMIN" if disabled else None,
                "prefs": {"channels": [], "groups": []},
            }
            self.group_members[group_id] = list(members)
        return group_id

    def set_group_members(self, handle: str, members: list[str]) -> None:
        with self._changed:
            group_id = next(gid for gid, group in self.user_groups.items() if group["handle"] == handle)
            self.group_members[group_id] = list(members)
            self.user_groups[group_id]["date_update"] = int(time.time())

    def add_profile_field(self, field_id: str, label: str) -> None:
        with self._changed:
            self.profile_fields.append({
                "id": field_id, "ordering": len(self.profile_fields), "label": label, "hint": "", "type": "text",
                "possible_values": None, "options": None, "is_hidden": False, "section_id": "S0ABOUT",
            })

    def set_profile_field(self, user_id: str, field_id: str, value: str) -> None:
        with self._changed:
            self.profile_values.setdefault(user_id, {})[field_id] = value

    def fail(
        self,
        method: str,
        *,
        status: int = 429,
        retry_after: int | None = None,
        times: int = 1,
        error: str | None = None,
        processed: bool = False,
    ) -> None:
        """The next `times` calls fail. `processed` faults come after the call took effect: the
        message is posted but the answer is an error, as when Slack fails late."""
        with self._changed:
            self._faults[method].extend(_Fault(status, retry_after, error, processed) for _ in range(times))

    def drop(self, method: str, *, times: int = 1, processed: bool = True) -> None:
        """The next `times` calls get no answer at all: the connection closes (after the call took
        effect, unless `processed` is False)."""
        with self._changed:
            self._faults[method].extend(_Fault(0, None, None, processed, drop=True) for _ in range(times))

    def slow(self, method: str, seconds: float, times: int = 1, *, processed: bool = False) -> None:
        """The next `times` calls are answered `seconds` late; `processed` ones take effect at once."""
        with self._changed:
            self._delays[method].extend(_Delay(seconds, processed) for _ in range(times))

    def rate_limit(self, method: str, limit: int, window: float = 60.0) -> None:
        """Allow `limit` calls per `window` seconds; beyond that, 429 with the wait in Retry-After."""
        with self._changed:
            self._limits[method] = _RateLimit(limit, window)

    def when_processed(self, method: str, nth: int, action: Callable[[], None]) -> None:
        """Run `action` once the `nth` call of `method` has taken effect, before it is answered."""
        with self._changed:
            self._hooks[(method, nth)] = action

    def messages_with_metadata(self, channel: str) -> list[dict]:
        with self._changed:
            return [m for m in self.messages.get(self.dm_channel(channel), []) if m.get("metadata")]

    def response_url(self, name: str = "r") -> str:
        return f"{self.base}/response/{name}"

    # -- request handling (called from server threads) -------------------------------------------

    def record(self, call: Call) -> None:
        with self._changed:
            self.calls.append(call)
            self._changed.notify_all()

    def take_fault(self, method: str) -> _Fault | None:
        with self._changed:
            queue = self._faults.get(method)
            return queue.popleft() if queue else None

    def begin_call(self) -> None:
        with self._changed:
            self._in_flight += 1

    def end_call(self) -> None:
        with self._changed:
            self._in_flight -= 1
            self._changed.notify_all()

    def connection_idle(self, connection: socket.socket) -> None:
        """A kept-alive connection has been answered and waits for its next call."""
        with self._changed:
            self._idle.add(connection)
        self.end_call()

    def connection_busy(self, connection: socket.socket) -> None:
        """A kept-alive connection has something to read again: a call, or its end."""
        with self._changed:
            self._idle.discard(connection)
        self.begin_call()

    def take_delay(self, method: str) -> _Delay | None:
        with self._changed:
            queue = self._delays.get(method)
            return queue.popleft() if queue else None

    def wait(self, delay: _Delay | None) -> None:
        if delay is not None and delay.seconds:
            self._stopping.wait(delay.seconds)

    def rate_limited(self, method: str) -> int | None:
        """Seconds to wait when this call is over the method's rate limit, else None."""
        with self._changed:
            limit = self._limits.get(method)
            if limit is None:
                return None
            clock = time.monotonic()
            if clock - limit.started >= limit.window:
                limit.started, limit.used = clock, 0
            if limit.used < limit.limit:
                limit.used += 1
                return None
            return max(1, math.ceil(limit.started + limit.window - clock))

    def processed(self, method: str) -> None:
        with self._changed:
            self._processed[method] += 1
            action = self._hooks.pop((method, self._processed[method]), None)
        if action is not None:
            action()

    def answer(self, method: str, params: dict[str, Any], token: str | None) -> dict[str, Any]:
        handler = _METHODS.get(method)
        if handler is None:
            return {"ok": False, "error": "unknown_method"}
        with self._changed:
            issued = self.issued.get(token or "")
        if method in APP_TOKEN_METHODS:
            if token != self.app_token:
                return {"ok": False, "error": "not_allowed_token_type" if token == self.bot_token else "invalid_auth"}
        elif method in CLIENT_METHODS:
            pass  # the handler checks the client id and secret
        elif issued is not None:
            if issued.expires_at is not None and time.time() >= issued.expires_at:
                return {"ok": False, "error": "token_expired"}
        elif method != "api.test" and token != self.bot_token:
            return {"ok": False, "error": "not_allowed_token_type" if token == self.app_token else "invalid_auth"}
        needed = _NEEDED_SCOPES.get(method)
        if needed is not None and needed not in self.scopes:
            return self.missing_scope(needed)
        try:
            with self._changed:
                self._caller = issued
                try:
                    return {"ok": True, **handler(self, params)}
                finally:
                    self._caller = None
        except ScopeMissing as error:
            return self.missing_scope(error.needed)
        except SlackError as error:
            return {"ok": False, "error": error.error}
        except (ValueError, TypeError, AttributeError):
            return {"ok": False, "error": "invalid_arguments"}  # e.g. limit=abc, as Slack answers

    # -- helpers for the method handlers ---------------------------------------------------------

    def next_ts(self) -> str:
        # Follows the (possibly frozen) clock like Slack, but never repeats within one server.
        self._last_ts = max(int(time.time() * 1_000_000), self._last_ts + 1)
        return f"{self._last_ts // 1_000_000}.{self._last_ts % 1_000_000:06d}"

    def next_id(self, prefix: str) -> str:
        self._counter += 1
        return f"{prefix}{self._counter:06d}"

    def dm_channel(self, channel: str) -> str:
        """Posting to a user id lands in that user's DM, as Slack does."""
        if not channel.startswith("U"):
            return channel
        user = self.users.get(channel)
        if user is not None and user["deleted"]:
            raise SlackError("user_disabled")
        caller = self._caller
        if user is not None and caller is not None and not caller.install.org_wide and caller.install.team_id != user["team_id"]:
            # A workspace's token reaches only that workspace's people; an org-wide one, the organisation's.
            raise SlackError("channel_not_found")
        return "D" + channel[1:]

    def find_message(self, params: dict[str, Any], ts_key: str = "ts") -> tuple[list[dict], dict]:
        channel = self.dm_channel(str(params.get("channel") or ""))
        ts = params.get(ts_key)
        for message in self.messages.get(channel, []):
            if message["ts"] == ts:
                return self.messages[channel], message
        raise SlackError("message_not_found")

    def issue_file_id(self, filename: str = "") -> str:
        file_id = self.next_id("F")
        self._file_ids[file_id] = filename
        return file_id

    def file_name(self, file_id: str) -> str:
        return self._file_ids.get(file_id, "")

    def store_upload(self, file_id: str, data: bytes) -> bool:
        with self._changed:
            if file_id not in self._file_ids:
                return False
            self.uploads[file_id] = data
            return True

    def missing_scope(self, needed: str) -> dict[str, Any]:
        return {"ok": False, "error": "missing_scope", "needed": needed, "provided": ",".join(sorted(self.scopes))}

    def channel(self, channel_id: str) -> dict:
        """The channel as the bot sees it; SlackError when Slack would say it does not exist."""
        if channel_id not in self.channels:
            return {"id": channel_id, "name": channel_id.lower(), "is_channel": True, "is_private": False, "is_member": True}
        channel = self.channels[channel_id]
        if channel is None or (channel["is_private"] and not channel["is_member"]):
            raise SlackError("channel_not_found")  # a private channel the bot is not in is invisible to it
        return channel

    def postable(self, channel_id: str) -> None:
        """Posting to a channel needs the bot in it (chat:write alone reaches no other channel)."""
        if channel_id[:1] in ("C", "G") and not self.channel(channel_id)["is_member"]:
            raise SlackError("not_in_channel")

    def user(self, user_id: str | None, error: str = "user_not_found", *, with_locale: bool = False) -> dict:
        user = self.users.get(user_id or "")
        if user is None:
            raise SlackError(error)
        answer = {k: v for k, v in _refresh_tz(user).items() if k != "_locale"}
        if with_locale:
            answer["locale"] = user["_locale"]
        return answer


def _refresh_tz(user: dict) -> dict:
    # Offsets follow DST, so they are computed at the (possibly frozen) time of asking.
    now = datetime.now(ZoneInfo(user["tz"]))
    offset = now.utcoffset()
    user["tz_offset"] = int(offset.total_seconds()) if offset is not None else 0
    user["tz_label"] = now.tzname() or user["tz"]
    return user


def _truthy(value: Any) -> bool:
    return value in (True, 1, "1", "true", "True")


def _require(params: dict[str, Any], name: str, error: str) -> Any:
    if not params.get(name):
        raise SlackError(error)
    return params[name]


# -- Web API methods -----------------------------------------------------------------------------


@_api("api.test")
def _api_test(fake: FakeSlack, params: dict[str, Any]) -> dict[str, Any]:
    return {"args": params}


@_api("auth.test")
def _auth_test(fake: FakeSlack, params: dict[str, Any]) -> dict[str, Any]:
    caller = fake._caller
    if caller is None:
        return {"url": "https://test.slack.com/", "team": "Test", "user": "pulse", "team_id": "T0001",
                "user_id": "UBOT", "bot_id": "BBOT"}
    install = caller.install
    if install.org_wide:
        # An org-wide token answers for the organisation: its id stands where a workspace's would.
        slug = (install.enterprise_name or "org").lower()
        return {"url": f"https://{slug}.enterprise.slack.com/", "team": install.enterprise_name, "user": "pulse",
                "team_id": install.enterprise_id, "user_id": "UBOT", "bot_id": "BBOT",
                "enterprise_id": install.enterprise_id, "is_enterprise_install": True}
    answer = {"url": f"https://{(install.team_name or 'test').lower()}.slack.com/", "team": install.team_name,
              "user": "pulse", "team_id": install.team_id, "user_id": "UBOT", "bot_id": "BBOT",
              "is_enterprise_install": False}
    if install.enterprise_id is not None:
        answer["enterprise_id"] = install.enterprise_id
    return answer


@_api("auth.teams.list")
def _auth_teams_list(fake: FakeSlack, params: dict[str, Any]) -> dict[str, Any]:
    """The workspaces the token reaches: every workspace of the people set up, for an org-wide token."""
    caller = fake._caller
    if caller is not None and caller.install.org_wide:
        teams = sorted({user["team_id"] for user in fake.users.values()})
    else:
        teams = [caller.install.team_id if caller is not None else "T0001"]
    return {"teams": [{"id": team, "name": team} for team in teams], "response_metadata": {"next_cursor": ""}}


@_api("oauth.v2.access")
def _oauth_v2_access(fake: FakeSlack, params: dict[str, Any]) -> dict[str, Any]:
    if fake.client_id is None or params.get("client_id") != fake.client_id:
        raise SlackError("invalid_client_id")
    if params.get("client_secret") != fake.client_secret:
        raise SlackError("bad_client_secret")
    if params.get("grant_type") == "refresh_token":
        install = fake._refresh_tokens.pop(str(params.get("refresh_token") or ""), None)
        if install is None:
            raise SlackError("invalid_refresh_token")
    else:
        install = fake._codes.pop(str(params.get("code") or ""), None)
        if install is None:
            raise SlackError("invalid_code")
    answer: dict[str, Any] = {
        "app_id": fake.app_id,
        "authed_user": {"id": install.installer},
        "scope": ",".join(sorted(fake.scopes)),
        "token_type": "bot",
        "bot_user_id": "UBOT",
        "team": None if install.org_wide else {"id": install.team_id, "name": install.team_name},
        "enterprise": None if install.enterprise_id is None else {"id": install.enterprise_id, "name": install.enterprise_name},
        "is_enterprise_install": install.org_wide,
        **fake.issue(install),
    }
    return answer


@_api("chat.postMessage")
def _chat_post_message(fake: FakeSlack, params: dict[str, Any]) -> dict[str, Any]:
    channel = fake.dm_channel(_require(params, "channel", "channel_not_found"))
    fake.postable(channel)
    if not (params.get("text") or params.get("blocks") or params.get("attachments")):
        raise SlackError("no_text")
    message = {
        "type": "message",
        "channel": channel,
        "ts": fake.next_ts(),
        "text": params.get("text"),
        "blocks": params.get("blocks"),
        "attachments": params.get("attachments"),
        "metadata": params.get("metadata"),
        "thread_ts": params.get("thread_ts"),
        "user": "UBOT",
        "bot_id": "BBOT",
    }
    fake.messages[channel].append(message)
    return {"channel": channel, "ts": message["ts"], "message": dict(message)}


@_api("chat.update")
def _chat_update(fake: FakeSlack, params: dict[str, Any]) -> dict[str, Any]:
    _, message = fake.find_message(params)
    for key in ("text", "blocks", "attachments", "metadata"):
        if key in params:
            message[key] = params[key]
    return {"channel": message["channel"], "ts": message["ts"], "text": message["text"]}


@_api("chat.delete")
def _chat_delete(fake: FakeSlack, params: dict[str, Any]) -> dict[str, Any]:
    messages, message = fake.find_message(params)
    messages.remove(message)
    return {"channel": message["channel"], "ts": message["ts"]}


@_api("chat.postEphemeral")
def _chat_post_ephemeral(fake: FakeSlack, params: dict[str, Any]) -> dict[str, Any]:
    _require(params, "channel", "channel_not_found")
    _require(params, "user", "user_not_in_channel")
    return {"message_ts": fake.next_ts()}


@_api("chat.getPermalink")
def _chat_get_permalink(fake: FakeSlack, params: dict[str, Any]) -> dict[str, Any]:
    _, message = fake.find_message(params, ts_key="message_ts")
    link = f"https://test.slack.com/archives/{message['channel']}/p{message['ts'].replace('.', '')}"
    return {"channel": message["channel"], "permalink": link}


@_api("conversations.open")
def _conversations_open(fake: FakeSlack, params: dict[str, Any]) -> dict[str, Any]:
    users = params.get("users") or params.get("channel")
    if not users:
        raise SlackError("users_list_not_supplied")
    user_ids = users if isinstance(users, list) else str(users).split(",")
    if len(user_ids) == 1:
        return {"channel": {"id": fake.dm_channel(user_ids[0])}}
    return {"channel": {"id": "G" + "".join(sorted(uid[1:] for uid in user_ids))}}


@_api("conversations.info")
def _conversations_info(fake: FakeSlack, params: dict[str, Any]) -> dict[str, Any]:
    channel = fake.channel(str(_require(params, "channel", "channel_not_found")))
    needed = "groups:read" if channel["is_private"] else "channels:read"
    if needed not in fake.scopes:
        raise ScopeMissing(needed)
    return {"channel": dict(channel)}


@_api("conversations.history")
def _conversations_history(fake: FakeSlack, params: dict[str, Any]) -> dict[str, Any]:
    channel = fake.dm_channel(_require(params, "channel", "channel_not_found"))
    inclusive = _truthy(params.get("inclusive"))
    oldest, latest = float(params.get("oldest") or 0), float(params.get("latest") or "inf")

    def in_range(ts: float) -> bool:
        return oldest <= ts <= latest if inclusive else oldest < ts < latest

    # The channel's own messages, newest first: replies in a thread are not part of its history.
    found = [
        m for m in reversed(fake.messages.get(channel, []))
        if in_range(float(m["ts"])) and m.get("thread_ts") in (None, m["ts"])
    ]
    return _messages_page(found, params)


@_api("conversations.replies")
def _conversations_replies(fake: FakeSlack, params: dict[str, Any]) -> dict[str, Any]:
    channel = fake.dm_channel(_require(params, "channel", "channel_not_found"))
    ts = _require(params, "ts", "thread_not_found")
    messages = fake.messages.get(channel, [])
    parent = [m for m in messages if m["ts"] == ts]
    if not parent:
        raise SlackError("thread_not_found")
    # The thread's first message, then its replies, oldest first.
    return _messages_page(parent + [m for m in messages if m.get("thread_ts") == ts and m["ts"] != ts], params)


def _messages_page(found: list[dict], params: dict[str, Any]) -> dict[str, Any]:
    limit = int(params.get("limit") or 100)
    cursor = str(params.get("cursor") or "0")
    if not cursor.isdigit():
        raise SlackError("invalid_cursor")
    start = int(cursor)
    with_metadata = _truthy(params.get("include_all_metadata"))
    page = [
        {k: v for k, v in m.items() if v is not None and (with_metadata or k != "metadata")}
        for m in found[start : start + limit]
    ]
    more = len(found) > start + limit
    return {"messages": page, "has_more": more, "response_metadata": {"next_cursor": str(start + limit) if more else ""}}


def _view_answer(fake: FakeSlack, params: dict[str, Any], view_id: str | None = None) -> dict[str, Any]:
    view = _require(params, "view", "invalid_arguments")
    return {"view": {**view, "id": view_id or fake.next_id("V"), "team_id": "T0001", "app_id": "A0001",
                     "bot_id": "BBOT", "hash": fake.next_id("h")}}


@_api("views.publish")
def _views_publish(fake: FakeSlack, params: dict[str, Any]) -> dict[str, Any]:
    _require(params, "user_id", "invalid_arguments")
    return _view_answer(fake, params)


@_api("views.open")
@_api("views.push")
def _views_open(fake: FakeSlack, params: dict[str, Any]) -> dict[str, Any]:
    _require(params, "trigger_id", "invalid_trigger_id")
    return _view_answer(fake, params)


@_api("views.update")
def _views_update(fake: FakeSlack, params: dict[str, Any]) -> dict[str, Any]:
    view_id = params.get("view_id") or params.get("external_id")
    if not view_id:
        raise SlackError("not_found")
    return _view_answer(fake, params, view_id=view_id)


@_api("users.info")
def _users_info(fake: FakeSlack, params: dict[str, Any]) -> dict[str, Any]:
    return {"user": fake.user(params.get("user"), with_locale=_truthy(params.get("include_locale")))}


@_api("users.list")
def _users_list(fake: FakeSlack, params: dict[str, Any]) -> dict[str, Any]:
    cursor = str(params.get("cursor") or "0")
    if not cursor.isdigit():
        raise SlackError("invalid_cursor")
    start = int(cursor)
    limit = int(params.get("limit") or 200)
    team_id = params.get("team_id")
    with_locale = _truthy(params.get("include_locale"))
    everyone = [fake.user(uid, with_locale=with_locale) for uid in fake.users
                if team_id is None or fake.users[uid]["team_id"] == team_id]
    more = start + limit < len(everyone)
    return {"members": everyone[start : start + limit],
            "response_metadata": {"next_cursor": str(start + limit) if more else ""}}


@_api("users.profile.get")
def _users_profile_get(fake: FakeSlack, params: dict[str, Any]) -> dict[str, Any]:
    user = fake.user(_require(params, "user", "user_not_found"))
    # Custom fields come only from this method (users.list and users.info leave them out); a
    # profile without any has an empty list, not an object.
    values = {fid: {"value": value, "alt": ""} for fid, value in fake.profile_values.get(user["id"], {}).items() if value}
    return {"profile": {**user["profile"], "fields": values or []}}


@_api("team.profile.get")
def _team_profile_get(fake: FakeSlack, params: dict[str, Any]) -> dict[str, Any]:
    return {"profile": {"fields": [dict(f) for f in fake.profile_fields], "sections": []}}


def _workspace_named(fake: FakeSlack, params: dict[str, Any]) -> str | None:
    """The `team_id` a user-group call names; an org-wide token must name one."""
    team_id = params.get("team_id")
    caller = fake._caller
    if team_id is None and caller is not None and caller.install.org_wide:
        raise SlackError("missing_argument")
    return str(team_id) if team_id is not None else None


@_api("usergroups.list")
def _usergroups_list(fake: FakeSlack, params: dict[str, Any]) -> dict[str, Any]:
    # Not paginated: Slack answers with every group, in no particular order. An org-wide token
    # names the workspace whose groups it wants.
    team_id = _workspace_named(fake, params)
    groups = []
    for group_id, group in fake.user_groups.items():
        if group["date_delete"] and not _truthy(params.get("include_disabled")):
            continue
        if team_id is not None and group["team_id"] != team_id:
            continue
        answer = dict(group)
        if _truthy(params.get("include_count")):
            answer["user_count"] = str(len(fake.group_members[group_id]))
        if _truthy(params.get("include_users")):
            answer["users"] = list(fake.group_members[group_id])
        groups.append(answer)
    return {"usergroups": list(reversed(groups))}


@_api("usergroups.users.list")
def _usergroups_users_list(fake: FakeSlack, params: dict[str, Any]) -> dict[str, Any]:
    # Not paginated either: the whole list of member ids in one answer.
    team_id = _workspace_named(fake, params)
    group = fake.user_groups.get(str(params.get("usergroup") or ""))
    if group is None or (group["date_delete"] and not _truthy(params.get("include_disabled"))):
        raise SlackError("no_such_subteam")
    if team_id is not None and group["team_id"] != team_id:
        raise SlackError("no_such_subteam")
    return {"users": list(fake.group_members[group["id"]])}


@_api("users.lookupByEmail")
def _users_lookup_by_email(fake: FakeSlack, params: dict[str, Any]) -> dict[str, Any]:
    email = str(params.get("email") or "").lower()
    for user in fake.users.values():
        if (user["profile"]["email"] or "").lower() == email and email:
            return {"user": fake.user(user["id"])}
    raise SlackError("users_not_found")


@_api("apps.connections.open")
def _apps_connections_open(fake: FakeSlack, params: dict[str, Any]) -> dict[str, Any]:
    if fake.socket_mode_url is None:
        raise SlackError("internal_error")  # no Socket Mode peer is running in this test
    return {"url": fake.socket_mode_url}


@_api("files.getUploadURLExternal")
def _files_get_upload_url(fake: FakeSlack, params: dict[str, Any]) -> dict[str, Any]:
    filename = _require(params, "filename", "invalid_arguments")
    _require(params, "length", "invalid_arguments")
    file_id = fake.issue_file_id(str(filename))
    return {"upload_url": f"{fake.base}/upload/{file_id}", "file_id": file_id}


@_api("files.completeUploadExternal")
def _files_complete_upload(fake: FakeSlack, params: dict[str, Any]) -> dict[str, Any]:
    files = _require(params, "files", "invalid_arguments")
    if any(f.get("id") not in fake.uploads for f in files):
        raise SlackError("file_not_found")
    shared = [{"id": f["id"], "name": fake.file_name(f["id"]), "title": f.get("title") or f["id"]} for f in files]
    channel = params.get("channel_id")
    if channel:
        # Sharing files posts a message with them, in the thread when thread_ts is given.
        fake.messages[str(channel)].append({
            "type": "message", "channel": channel, "ts": fake.next_ts(), "text": params.get("initial_comment") or "",
            "files": shared, "thread_ts": params.get("thread_ts"), "user": "UBOT", "bot_id": "BBOT",
        })
    return {"files": [{"id": f["id"], "title": f["title"]} for f in shared]}


# -- HTTP ----------------------------------------------------------------------------------------


class _Server(ThreadingHTTPServer):
    """Counts each connection from its acceptance to its end, for FakeSlack.settle()."""

    fake: FakeSlack

    def process_request(self, request: Any, client_address: Any) -> None:
        self.fake.connections += 1  # only this thread accepts
        self.fake.begin_call()
        super().process_request(request, client_address)

    def process_request_thread(self, request: Any, client_address: Any) -> None:
        try:
            super().process_request_thread(request, client_address)
        finally:
            self.fake.end_call()


class _RequestHandler(BaseHTTPRequestHandler):
    """HTTP/1.1, so a client may keep its connection open for the next call, as Slack allows."""

    server: ThreadingHTTPServer
    protocol_version = "HTTP/1.1"
    # An answer is written as headers, then body: without this, the body of a kept-alive
    # connection's answer waits on the client's delayed acknowledgement of the headers.
    disable_nagle_algorithm = True

    def log_message(self, format: str, *args: Any) -> None:
        pass  # test output stays clean

    def handle(self) -> None:
        # BaseHTTPRequestHandler.handle, with the wait between two calls counted as idle.
        self.close_connection = True
        self.handle_one_request()
        while not self.close_connection:
            self.fake.connection_idle(self.connection)
            try:
                _wait_readable(self.connection)
            finally:
                self.fake.connection_busy(self.connection)
            self.handle_one_request()

    def do_GET(self) -> None:
        self._handle()

    def do_POST(self) -> None:
        self._handle()

    @property
    def fake(self) -> FakeSlack:
        return self.server.fake  # type: ignore[attr-defined,no-any-return]

    def _handle(self) -> None:
        url = urlsplit(self.path)
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        headers = Headers(self.headers.items())
        if url.path.startswith("/upload/"):
            self._upload(url.path.removeprefix("/upload/"), body, headers)
        elif url.path == "/settle":
            self._send(200, {"ok": True})
        elif url.path.startswith("/response/"):
            params = _parse_body(body, headers.get("content-type", ""))
            self.fake.record(Call("response_url", params, url.path, headers, None))
            self._send(200, {"ok": True})
        elif url.path.startswith("/api/"):
            params = {**_parse_query(url.query), **_parse_body(body, headers.get("content-type", ""))}
            self._web_api(url.path.removeprefix("/api/"), params, url.path, headers)
        else:
            self._send(404, {"ok": False, "error": "not_found"})

    def _web_api(self, method: str, params: dict[str, Any], path: str, headers: Headers) -> None:
        authorization = headers.get("authorization", "")
        bearer = authorization.removeprefix("Bearer ") if authorization.startswith("Bearer ") else None
        if authorization.startswith("Basic "):
            # oauth.v2.access: the client id and secret, which Slack also takes as form fields.
            client_id, _, client_secret = base64.b64decode(authorization.removeprefix("Basic ")).decode().partition(":")
            params = {**params, "client_id": client_id, "client_secret": client_secret}
        token = bearer or params.get("token")
        self.fake.record(Call(method, params, path, headers, token))
        wait = self.fake.rate_limited(method)
        if wait is not None:
            self._send(429, {"ok": False, "error": "ratelimited"}, {"Retry-After": str(wait)})
            return
        fault = self.fake.take_fault(method)  # faults go to calls in arrival order, delayed or not
        delay = self.fake.take_delay(method)
        if delay is not None and not delay.processed:
            self.fake.wait(delay)
        answer: dict[str, Any] = {}
        if fault is None or fault.processed:
            answer = self.fake.answer(method, params, token)
            if answer.get("ok"):
                self.fake.processed(method)
        if delay is not None and delay.processed:
            self.fake.wait(delay)
        scopes = {"x-oauth-scopes": ",".join(sorted(self.fake.scopes))}
        if fault is None:
            self._send(200, answer, scopes)
        elif fault.drop:
            self.close_connection = True  # the socket closes with nothing written
        elif fault.error is not None:
            self._send(200, {"ok": False, "error": fault.error})
        else:
            extra = {} if fault.retry_after is None else {"Retry-After": str(fault.retry_after)}
            error = "ratelimited" if fault.status == 429 else "service_unavailable"
            self._send(fault.status, {"ok": False, "error": error}, extra)

    def _upload(self, file_id: str, body: bytes, headers: Headers) -> None:
        self.fake.record(Call("upload", {"file_id": file_id, "length": len(body)}, self.path, headers, None))
        if self.fake.store_upload(file_id, body):
            self._send_text(200, f"OK - {len(body)}")
        else:
            self._send(404, {"ok": False, "error": "file_not_found"})

    def _send(self, status: int, payload: dict[str, Any], extra: dict[str, str] | None = None) -> None:
        self._send_bytes(status, json.dumps(payload).encode(), "application/json; charset=utf-8", extra or {})

    def _send_text(self, status: int, text: str) -> None:
        self._send_bytes(status, text.encode(), "text/plain; charset=utf-8", {})

    def _send_bytes(self, status: int, body: bytes, content_type: str, extra: dict[str, str]) -> None:
        try:
            self._write(status, body, content_type, extra)
        except (BrokenPipeError, ConnectionResetError):
            # The client gave up waiting (a timeout test): nothing left to tell it.
            self.close_connection = True

    def _write(self, status: int, body: bytes, content_type: str, extra: dict[str, str]) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        for name, value in extra.items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(body)


_SETTLE_POLL = 0.005  # seconds between two looks at idle connections while settling


def _wait_readable(connection: socket.socket) -> None:
    poll = select.poll()
    poll.register(connection, select.POLLIN)
    poll.poll()


def _any_readable(connections: set[socket.socket]) -> bool:
    if not connections:
        return False
    poll = select.poll()
    for connection in connections:
        try:
            poll.register(connection, select.POLLIN)
        except (OSError, ValueError):
            continue  # closed meanwhile: its thread is ending, and counted as in flight
    return bool(poll.poll(0))


def _parse_query(query: str) -> dict[str, Any]:
    # Slack takes the last value of a repeated key; tests never need repeats.
    pairs = parse_qs(query, keep_blank_values=True)
    return _decode_json_params({key: values[-1] for key, values in pairs.items()})


def _parse_body(body: bytes, content_type: str) -> dict[str, Any]:
    if not body:
        return {}
    if content_type.startswith("application/json"):
        decoded = json.loads(body)
        # Slack reads blocks (and the like) given as a JSON string in a JSON body as well.
        return _decode_json_params(decoded) if isinstance(decoded, dict) else {"_body": decoded}
    return _parse_query(body.decode())


def _decode_json_params(params: dict[str, Any]) -> dict[str, Any]:
    for key in _JSON_PARAMS & params.keys():
        value = params[key]
        if isinstance(value, str) and value[:1] in ("[", "{"):
            try:
                params[key] = json.loads(value)
            except ValueError:
                pass  # left as sent, so a test can see the malformed value
    return params
