"""The App Home tab and its pause / resume buttons."""

from __future__ import annotations

from typing import Any

from slack_bolt import Ack, App
from slack_sdk import WebClient

from bot.errors import NotEnrolled, PulseError
from bot.labour import service as labour
from bot.labour.credit import SharedByMe, shared_by_person
from bot.labour.views import HiddenWorkSummary
from bot.slack.services import Services
from bot.slack.blocks.home import home_view
from bot.slack.ids import Action
from bot.surveys import service


def publish_home(services: Services, client: WebClient, user_id: str) -> None:
    """Render the person's App Home afresh: their pulse week and their hidden work."""
    status = service.week_status(services.db, services.behaviour, services.key, user_id)
    hidden_work: HiddenWorkSummary | None = None
    shared: SharedByMe | None = None
    if status.enrolled:
        try:
            hidden_work = labour.hidden_work_summary(services.db, services.key, user_id)
            shared = shared_by_person(services.db, user_id)
        except NotEnrolled:
            pass  # left the roster between the reads: the next refresh says so
    view = home_view(status, min_group=services.min_group, pause_weeks=services.behaviour.schedule.home_pause_weeks,
                     hidden_work=hidden_work, shared=shared, t=services.translator(user_id))
    client.views_publish(user_id=user_id, view=view)


def register(app: App, services: Services) -> None:
    def publish(client: WebClient, user_id: str) -> None:
        publish_home(services, client, user_id)

    @app.event("app_home_opened")
    def home_opened(event: dict[str, Any], client: WebClient) -> None:
        if event.get("tab", "home") == "home":
            publish(client, event["user"])

    @app.action(Action.HOME_PAUSE)
    def pause(ack: Ack, body: dict[str, Any], client: WebClient) -> None:
        ack()
        try:
            # The weeks the button showed when it was pressed, not today's setting; never past the limit.
            service.pause(services.db, body["user"]["id"], _weeks(body, services.behaviour.schedule.home_pause_weeks))
        except PulseError:
            pass  # not enrolled: the refreshed home says so
        publish(client, body["user"]["id"])

    @app.action(Action.HOME_RESUME)
    def resume(ack: Ack, body: dict[str, Any], client: WebClient) -> None:
        ack()
        try:
            service.resume(services.db, body["user"]["id"])
        except PulseError:
            pass
        publish(client, body["user"]["id"])


def _weeks(body: dict[str, Any], default: int) -> int:
    actions = body.get("actions") or [{}]
    value = actions[0].get("value") if isinstance(actions[0], dict) else None
    try:
        weeks = int(value) if isinstance(value, str) else default
    except ValueError:
        return default
    return weeks if 1 <= weeks <= service.MAX_PAUSE_WEEKS else default
