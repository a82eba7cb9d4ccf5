"""OAuth mode: the app installed through /slack/install, its tokens kept in our database.

slack_sdk's SQLAlchemy stores keep the installations and the OAuth states (their tables:
bot/slack/installation_tables.py, created by migration 0015, never by the stores themselves).
Requests are authorised by Bolt from the store; work outside a request (the scheduled jobs, the
roster commands) asks `Installations.bot_token` for the token, which follows token rotation.

One installation is served: an org-wide install on Enterprise Grid (every workspace of the
organisation resolves to it), or one workspace. An install for another organisation or
workspace is refused, so nobody who finds /slack/install can take the app over.
"""

from __future__ import annotations

import html
import logging
import threading
import time
from typing import Any

from slack_bolt import App, BoltContext
from slack_bolt.authorization.authorize import InstallationStoreAuthorize
from slack_bolt.error import BoltError
from slack_bolt.oauth import OAuthFlow
from slack_bolt.oauth.callback_options import CallbackOptions, FailureArgs, SuccessArgs
from slack_bolt.oauth.oauth_settings import OAuthSettings
from slack_bolt.request import BoltRequest
from slack_bolt.response import BoltResponse
from slack_sdk import WebClient
from slack_sdk.errors import SlackClientError, SlackTokenRotationError
from slack_sdk.oauth.installation_store import Installation
from slack_sdk.oauth.installation_store.sqlalchemy import SQLAlchemyInstallationStore
from slack_sdk.oauth.state_store.sqlalchemy import SQLAlchemyOAuthStateStore
from slack_sdk.oauth.token_rotation import TokenRotator
from sqlalchemy import select
from sqlalchemy.engine import Engine

from bot.errors import PulseError
from bot.settings import Settings
from bot.slack.client import make_web_client, refusal, unreachable
from bot.slack.directory import SlackDirectory

log = logging.getLogger(__name__)

# The bot scopes an install asks for: exactly manifest.yml's (tests/test_oauth.py holds them equal).
BOT_SCOPES = (
    "channels:history",
    "channels:read",
    "chat:write",
    "commands",
    "files:write",
    "groups:history",
    "groups:read",
    "im:history",
    "im:write",
    "usergroups:read",
    "users:read",
    "users:read.email",
    "users.profile:read",
)
INSTALL_PATH = "/slack/install"
REDIRECT_PATH = "/slack/oauth_redirect"
STATE_SECONDS = 600  # how long an install link stays good
ROTATE_MINUTES = 120  # a rotating token is refreshed this long before it expires (Slack's last 12 hours)
CACHE_SECONDS = 60  # how long a process reuses the token it read, before looking again

# What a person is told when their request comes from where the app is not (or no longer) installed.
NOT_INSTALLED_HERE = (
    "Rollout Pulse is not installed where you are in Slack. Ask whoever runs Rollout Pulse to install it "
    f"again at {INSTALL_PATH} (for the whole organisation on Enterprise Grid)."
)


class NotInstalled(PulseError):
    """OAuth mode, and no installation to act with."""


def describe(installation: Installation) -> str:
    """Where the app is installed, in words: `the organisation Acme (E012) — org-wide` or a workspace."""
    if installation.is_enterprise_install:
        name = installation.enterprise_name or installation.enterprise_id
        return f"the organisation {name} ({installation.enterprise_id}), org-wide"
    name = installation.team_name or installation.team_id
    return f"the workspace {name} ({installation.team_id})"


def _same_owner(installed: Installation, new: Installation) -> bool:
    """Whether `new` installs the app for the organisation (or workspace) it already serves. A
    workspace install of a Grid organisation may become the organisation's org-wide install."""
    if installed.enterprise_id is not None and installed.enterprise_id == new.enterprise_id:
        return True
    return not installed.is_enterprise_install and not new.is_enterprise_install and installed.team_id == new.team_id


class Installations:
    """The installation store, the state store, and the bot token to act with outside a request."""

    def __init__(self, settings: Settings, engine: Engine) -> None:
        settings.require("slack_client_id", "slack_client_secret", purpose="for OAuth mode")
        assert settings.slack_client_id is not None and settings.slack_client_secret is not None
        self.client_id = settings.slack_client_id
        self.client_secret = settings.slack_client_secret
        self.redirect_uri = settings.slack_redirect_uri
        self.engine = engine
        self.store = SQLAlchemyInstallationStore(self.client_id, engine, logger=log)
        self.states = SQLAlchemyOAuthStateStore(STATE_SECONDS, engine, logger=log)
        self.api = make_web_client(None, settings.slack_api_url)
        self.rotator = TokenRotator(client_id=self.client_id, client_secret=self.client_secret, client=self.api)
        self._lock = threading.Lock()
        self._cached: tuple[str, float] | None = None

    # -- the installation the app works for ------------------------------------------------------

    def current(self) -> Installation | None:
        """The organisation's org-wide installation when there is one, else the newest workspace's."""
        c = self.store.installations.c
        query = (
            select(c.enterprise_id, c.team_id, c.is_enterprise_install)
            .where(c.client_id == self.client_id, c.bot_token.is_not(None))
            .order_by(c.is_enterprise_install.desc(), c.installed_at.desc())
            .limit(1)
        )
        with self.engine.connect() as connection:
            row = connection.execute(query).first()
        if row is None:
            return None
        return self.store.find_installation(
            enterprise_id=row.enterprise_id, team_id=row.team_id, is_enterprise_install=row.is_enterprise_install
        )

    def bot_token(self) -> str:
        """The bot token of the installation, refreshed first when it expires within ROTATE_MINUTES.

        For an org-wide install this is the organisation's token, which acts in every workspace
        of the organisation the app is added to."""
        with self._lock:
            if self._cached is not None and time.time() < self._cached[1]:
                return self._cached[0]
            installation = self.current()
            if installation is None or installation.bot_token is None:
                raise NotInstalled(
                    f"Rollout Pulse is not installed in Slack yet: open {INSTALL_PATH} on the app's address "
                    "(pulse serve) and install it, org-wide on Enterprise Grid"
                )
            installation = self._rotated(installation)
            assert installation.bot_token is not None
            until = time.time() + CACHE_SECONDS
            if installation.bot_token_expires_at is not None:
                until = min(until, installation.bot_token_expires_at - ROTATE_MINUTES * 60)
            self._cached = (installation.bot_token, until)
            return installation.bot_token

    def _rotated(self, installation: Installation) -> Installation:
        try:
            refreshed = self.rotator.perform_token_rotation(
                installation=installation, minutes_before_expiration=ROTATE_MINUTES
            )
        except SlackTokenRotationError as error:
            cause = error.api_error.response if error.api_error is not None else {}
            raise PulseError(
                f"Slack refused to refresh the bot token (oauth.v2.access): {refusal(cause)}; "
                f"install the app again at {INSTALL_PATH}"
            ) from None
        except (SlackClientError, OSError) as error:
            raise PulseError(
                f"cannot refresh the bot token: {unreachable(error, self.api.base_url, self.api.timeout)}"
            ) from None
        if refreshed is None:
            return installation
        self.store.save(refreshed)
        log.info("slack.token_rotated %s", _where(refreshed))
        return refreshed

    def forget(self) -> None:
        """Read the installation again at the next call (after an install or an uninstall)."""
        with self._lock:
            self._cached = None

    # -- changes Slack tells us of ---------------------------------------------------------------

    def uninstalled(self, enterprise_id: str | None, team_id: str | None) -> None:
        """The app was uninstalled: every token of that installation goes."""
        self.store.delete_all(enterprise_id=enterprise_id, team_id=team_id)
        self.forget()

    def bot_revoked(self, enterprise_id: str | None, team_id: str | None) -> None:
        """The bot token was revoked; the installation, which only holds bot tokens, is no use either."""
        self.store.delete_bot(enterprise_id=enterprise_id, team_id=team_id)
        self.store.delete_installation(enterprise_id=enterprise_id, team_id=team_id)
        self.forget()

    def user_revoked(self, enterprise_id: str | None, team_id: str | None, user_id: str) -> None:
        self.store.delete_installation(enterprise_id=enterprise_id, team_id=team_id, user_id=user_id)

    # -- Bolt ------------------------------------------------------------------------------------

    def bolt_arguments(self, client: WebClient, logger: logging.Logger) -> dict[str, Any]:
        """What Bolt's App takes for OAuth mode: the store, an authorize that reads it (rotating
        tokens as they near expiry), and the install flow of /slack/install and /slack/oauth_redirect."""
        authorize = InstallationStoreAuthorize(
            logger=logger,
            installation_store=self.store,
            client_id=self.client_id,
            client_secret=self.client_secret,
            token_rotation_expiration_minutes=ROTATE_MINUTES,
            # auth.test once per token, not once per request: acks stay quick. An uninstalled
            # app's token is gone from the store, so it is never found to be looked up.
            cache_enabled=True,
            client=client,
        )
        settings = OAuthSettings(
            client_id=self.client_id,
            client_secret=self.client_secret,
            scopes=list(BOT_SCOPES),
            user_scopes=[],
            redirect_uri=self.redirect_uri,
            install_path=INSTALL_PATH,
            redirect_uri_path=REDIRECT_PATH,
            installation_store=self.store,
            token_rotation_expiration_minutes=ROTATE_MINUTES,
            state_store=self.states,
            state_expiration_seconds=STATE_SECONDS,
            callback_options=CallbackOptions(success=self._installed, failure=_install_failed),
            logger=logger,
        )
        flow = _OneOwnerFlow(self, client=client, logger=logger, settings=settings)
        return {
            "authorize": authorize,
            "installation_store": self.store,
            "oauth_flow": flow,
            "user_facing_authorize_error_message": NOT_INSTALLED_HERE,
        }

    def _installed(self, args: SuccessArgs) -> BoltResponse:
        self.forget()
        log.info("slack.installed %s", _where(args.installation))
        return args.default.success(args)


class _OneOwnerFlow(OAuthFlow):
    """Bolt's install flow, refusing an install for an organisation other than the one served."""

    def __init__(self, installations: Installations, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.installations = installations

    def store_installation(self, request: BoltRequest, installation: Installation) -> None:
        installed = self.installations.current()
        if installed is not None and not _same_owner(installed, installation):
            raise BoltError(f"Rollout Pulse already serves {describe(installed)}")
        super().store_installation(request, installation)


# The install page's words for each way an install can fail (Bolt's reason codes).
_FAILURES = {
    "invalid_state": "This install link has expired or was already used.",
    "invalid_browser": "This install was started in another browser, or the page was reloaded.",
    "missing_code": "Slack sent no install code.",
    "invalid_code": "Slack did not accept the install code (it may have been used already).",
    "access_denied": "The install was cancelled in Slack.",
}


def _install_failed(args: FailureArgs) -> BoltResponse:
    status = args.suggested_status_code
    if isinstance(args.error, BoltError):  # _OneOwnerFlow: installed for someone else already
        why, status = str(args.error), 403
    elif args.reason == "storage_error":
        why = "The installation could not be saved; whoever runs Rollout Pulse can see why with pulse check."
    else:
        why = _FAILURES.get(args.reason, f"Slack reported {args.reason!r}.")
    log.info("slack.install_failed reason=%s", args.reason[:40])
    page = (
        "<!DOCTYPE html><html><head><meta charset=\"utf-8\"><title>Rollout Pulse: not installed</title></head>"
        f"<body><h1>Rollout Pulse was not installed</h1><p>{html.escape(why)}</p>"
        f"<p><a href=\"{INSTALL_PATH}\">Start the install again</a>.</p></body></html>"
    )
    return BoltResponse(
        status=status,
        body=page,
        headers={
            "Content-Type": "text/html; charset=utf-8",
            "Set-Cookie": args.settings.state_utils.build_set_cookie_for_deletion(),
        },
    )


def _where(installation: Installation) -> str:
    return (
        f"enterprise={installation.enterprise_id or '-'} team={installation.team_id or '-'} "
        f"org_wide={str(bool(installation.is_enterprise_install)).lower()}"
    )


def installations_for(settings: Settings, engine: Engine) -> Installations | None:
    """The installations in OAuth mode; None in token mode (SLACK_BOT_TOKEN)."""
    return Installations(settings, engine) if settings.oauth else None


def acting_client(settings: Settings, engine: Engine, installations: Installations | None = None) -> WebClient:
    """The client the app acts with outside a request: SLACK_BOT_TOKEN in token mode; in OAuth
    mode the installation's bot token (the organisation's for an org-wide install), read at each
    call so a refreshed token is used as soon as it is saved."""
    settings.require("slack_bot_token", purpose="to talk to Slack")
    if not settings.oauth:
        return make_web_client(settings.slack_bot_token, settings.slack_api_url)
    source = installations or Installations(settings, engine)
    return make_web_client(source.bot_token, settings.slack_api_url)


def slack_directory(settings: Settings, engine: Engine) -> SlackDirectory:
    """Slack's user directory as the install sees it: for an org-wide install, every workspace
    of the organisation the app is added to."""
    installations = installations_for(settings, engine)
    return SlackDirectory(acting_client(settings, engine, installations), org_wide=org_wide(installations))


def org_wide(installations: Installations | None) -> bool:
    """Whether the app acts through an org-wide install of an Enterprise Grid organisation (never
    in token mode, where `installations` is None)."""
    installed = installations.current() if installations is not None else None
    return bool(installed is not None and installed.is_enterprise_install)


# -- app_uninstalled and tokens_revoked ------------------------------------------------------------


def _installed_where(context: BoltContext) -> tuple[str | None, str | None]:
    """The installation an event is about: an org-wide one is stored without a workspace."""
    return context.enterprise_id, None if context.is_enterprise_install else context.team_id


def register(app: App, services: Any) -> None:
    installations: Installations | None = services.installations

    @app.event("app_uninstalled")
    def app_uninstalled(context: BoltContext) -> None:
        if installations is None:
            log.warning("slack.app_uninstalled: SLACK_BOT_TOKEN no longer works; reinstall the app and set the new token")
            return
        enterprise_id, team_id = _installed_where(context)
        services.after_ack("app_uninstalled", lambda: installations.uninstalled(enterprise_id, team_id))

    @app.event("tokens_revoked")
    def tokens_revoked(event: dict[str, Any], context: BoltContext) -> None:
        tokens = event.get("tokens") or {}
        if installations is None:
            if tokens.get("bot"):
                log.warning("slack.tokens_revoked: SLACK_BOT_TOKEN no longer works; reinstall the app and set the new token")
            return
        enterprise_id, team_id = _installed_where(context)
        users = [str(user) for user in tokens.get("oauth") or []]
        bot = bool(tokens.get("bot"))

        def revoke() -> None:
            for user_id in users:
                installations.user_revoked(enterprise_id, team_id, user_id)
            if bot:
                installations.bot_revoked(enterprise_id, team_id)

        services.after_ack("tokens_revoked", revoke)


def check_installation(installations: Installations) -> tuple[str | None, str]:
    """For `pulse check`: the installation's bot token and where it is installed, or None and why not."""
    installation = installations.current()
    if installation is None:
        return None, (
            f"no installation yet: open {INSTALL_PATH} on the app's address (pulse serve) and install "
            "the app, org-wide on Enterprise Grid"
        )
    try:
        return installations.bot_token(), describe(installation)
    except PulseError as error:
        return None, str(error)
