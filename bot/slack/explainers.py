"""Explainers in Slack: helpful / not helpful, and "I have a question" with its modal."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from slack_bolt import Ack, App, Respond
from slack_sdk import WebClient

from bot.errors import PulseError
from bot.explainers import service
from bot.explainers.library import Explainer
from bot.explainers.views import ExplainerView
from bot.i18n import N_
from bot.messenger import DeliveryFailed, MessageRef
from bot.slack.services import Services
from bot.slack.blocks.explainers import (
    parse_question_submission,
    question_modal,
    question_unavailable_modal,
)
from bot.slack.blocks.replies import problem_message, problem_text
from bot.slack.ids import Action, Block, Callback

log = logging.getLogger(__name__)

STALE_BUTTON = N_(
    "This button no longer works: that explainer is no longer in the library, so nothing was recorded. "
    "Your next explainer arrives in your messages with this app; `/pulse help` shows what else you can do."
)
STALE_FORM = N_("This form no longer works: its explainer is no longer in the library. Close it; nothing was sent.")


def register(app: App, services: Services) -> None:
    library = services.settings.explainers

    def refuse(respond: Respond, error: PulseError, user_id: str) -> None:
        message = error.in_language(services.translator(user_id))
        respond(blocks=problem_message(message), text=problem_text(message), response_type="ephemeral", replace_original=False)

    def explainer_of(action: dict[str, Any]) -> Explainer:
        explainer = library.get(str(action.get("value") or ""))
        if explainer is None:
            raise PulseError(STALE_BUTTON)
        return explainer

    def feedback(helpful: bool) -> Callable[..., None]:
        def handle(ack: Ack, body: dict[str, Any], action: dict[str, Any], respond: Respond) -> None:
            ack()
            user_id = body["user"]["id"]
            try:
                explainer = explainer_of(action)
                service.record_feedback(services.db, services.key, user_id, explainer.key, helpful)
            except PulseError as error:
                refuse(respond, error, user_id)
                return
            container = body.get("container", {})
            channel, ts = container.get("channel_id"), container.get("message_ts")
            if channel and ts:
                lang = services.language(user_id)
                shown = library.in_language(explainer.key, lang) or explainer
                services.messenger.update_explainer(MessageRef(channel, ts), ExplainerView(shown, helpful), lang=lang)

        return handle

    app.action(Action.EXPLAINER_HELPFUL)(feedback(True))
    app.action(Action.EXPLAINER_NOT_HELPFUL)(feedback(False))

    @app.action(Action.EXPLAINER_QUESTION)
    def open_question(ack: Ack, body: dict[str, Any], action: dict[str, Any], client: WebClient, respond: Respond) -> None:
        ack()
        user_id = body["user"]["id"]
        try:
            explainer = explainer_of(action)
            service.check_asker(services.db, user_id, explainer.key)
        except PulseError as error:
            refuse(respond, error, user_id)
            return
        lang = services.language(user_id)
        t = services.translator(user_id)
        if not services.settings.pulse_council_channel:
            # Say so before anyone types a question that would have nowhere to go.
            view = question_unavailable_modal(t.gettext(service.NO_COUNCIL_CHANNEL), t)
            client.views_open(trigger_id=body["trigger_id"], view=view)
            return
        client.views_open(trigger_id=body["trigger_id"], view=question_modal(library.in_language(explainer.key, lang) or explainer, t))

    @app.view(Callback.EXPLAINER_QUESTION_MODAL)
    def submit_question(ack: Ack, body: dict[str, Any], view: dict[str, Any]) -> None:
        user_id = body["user"]["id"]
        submission = parse_question_submission(view)
        channel = services.settings.pulse_council_channel
        explainer = library.get(submission.explainer_key)
        # Everything that can refuse the question is checked here, so the refusal shows in the
        # modal and nothing is stored; what is left after ack() is storing and posting.
        try:
            service.check_question(submission.text)
            if not channel:
                raise service.NoCouncilChannel(service.NO_COUNCIL_CHANNEL)
            if explainer is None:
                raise PulseError(STALE_FORM)
            service.check_asker(services.db, user_id, explainer.key)
            service.check_anonymity(services.db, explainer.key, named=submission.named, min_group=services.min_group)
        except service.TraceableQuestion as error:
            ack(response_action="errors", errors={Block.QUESTION_NAMED: error.in_language(services.translator(user_id))})
            return
        except PulseError as error:
            ack(response_action="errors", errors={Block.QUESTION_TEXT: error.in_language(services.translator(user_id))})
            return
        ack()
        try:
            receipt = service.ask_question(
                services.db,
                services.messenger,
                channel,
                user_id,
                explainer.key,
                submission.text,
                named=submission.named,
                min_group=services.min_group,
                # The council reads the organisation's language.
                title=library.for_reader(explainer.key, services.behaviour.language).title,
                lang=services.behaviour.language,
            )
        except PulseError as error:
            log.info("explainers.question_refused reason=%s", type(error).__name__)
            return
        try:
            services.messenger.confirm_question(user_id, receipt, lang=services.language(user_id))
        except DeliveryFailed as failure:
            log.warning("explainers.confirmation_failed question=%s reason=%s", receipt.question.question_id, failure.reason)
