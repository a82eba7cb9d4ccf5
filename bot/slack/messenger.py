"""The Messenger port over Slack's Web API."""

from __future__ import annotations

import logging
from typing import Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackClientError

from bot.explainers.library import Explainer
from bot.explainers.views import CouncilQuestion, ExplainerView, QuestionReceipt
from bot.messenger import DeliveryFailed, MessageRef
from bot.slack.blocks.explainers import (
    council_question_message,
    council_question_text,
    explainer_message,
    explainer_text,
    question_confirmation,
    question_confirmation_text,
)
from bot.slack.blocks.pulse import (
    pulse_message,
    pulse_text,
    reminder_message,
    reminder_text,
)
from bot.reports.digest_model import Digest
from bot.slack.blocks.digest import digest_message, digest_text
from bot.slack.ids import DELIVERY_EVENT
from bot.surveys.views import PulseView

log = logging.getLogger(__name__)

CHART_FILENAME = "pulse-trends.png"

# Errors that will not go away by trying again: the person cannot receive a DM from us.
PERMANENT_ERRORS = frozenset(
    {
        "account_inactive",
        "cannot_dm_bot",
        "channel_not_found",
        "invalid_blocks",
        "is_archived",
        "messages_tab_disabled",
        "msg_too_long",
        "no_text",
        "not_in_channel",
        "user_disabled",
        "user_not_found",
    }
)


class SlackMessenger:
    def __init__(self, client: WebClient, *, min_group: int) -> None:
        self.client = client
        self.min_group = min_group

    def send_pulse(self, user_id: str, pulse: PulseView, *, delivery_id: int) -> MessageRef:
        return self._post(
            user_id,
            text=pulse_text(pulse),
            blocks=pulse_message(pulse, min_group=self.min_group),
            metadata={"event_type": DELIVERY_EVENT, "event_payload": {"delivery_id": delivery_id, "kind": "pulse"}},
        )

    def update_pulse(self, ref: MessageRef, pulse: PulseView) -> None:
        self._call("chat_update", channel=ref.channel, ts=ref.ts, text=pulse_text(pulse), blocks=pulse_message(pulse, min_group=self.min_group))

    def send_reminder(self, user_id: str, pulse: PulseView, *, delivery_id: int) -> MessageRef:
        return self._post(
            user_id,
            text=reminder_text(pulse),
            blocks=reminder_message(pulse),
            metadata={"event_type": DELIVERY_EVENT, "event_payload": {"delivery_id": delivery_id, "kind": "reminder"}},
        )

    def send_explainer(self, user_id: str, explainer: Explainer, *, delivery_id: int) -> MessageRef:
        view = ExplainerView(explainer)
        return self._post(
            user_id,
            text=explainer_text(view),
            blocks=explainer_message(view),
            metadata={
                "event_type": DELIVERY_EVENT,
                "event_payload": {"delivery_id": delivery_id, "kind": "explainer", "explainer": explainer.key},
            },
        )

    def update_explainer(self, ref: MessageRef, view: ExplainerView) -> None:
        self._call("chat_update", channel=ref.channel, ts=ref.ts, text=explainer_text(view), blocks=explainer_message(view))

    def post_question(self, channel: str, question: CouncilQuestion) -> MessageRef:
        # No metadata naming the asker: the message must not carry what the text leaves out.
        return self._post(channel, text=council_question_text(question), blocks=council_question_message(question))

    def confirm_question(self, user_id: str, receipt: QuestionReceipt) -> MessageRef:
        return self._post(user_id, text=question_confirmation_text(receipt), blocks=question_confirmation(receipt))

    def upload_chart(self, channel: str, png: bytes, *, title: str, thread_ts: str | None = None) -> None:
        # files_upload_v2 runs Slack's external upload flow: files.getUploadURLExternal, a POST of
        # the bytes to the URL it returns, then files.completeUploadExternal to share it in channel.
        self._call(
            "files_upload_v2",
            channel=channel,
            file=png,
            filename=CHART_FILENAME,
            title=title,
            alt_txt=title,
            thread_ts=thread_ts,
        )

    def post_digest(self, channel: str, digest: Digest, chart: bytes | None) -> MessageRef:
        ref = self._post(channel, text=digest_text(digest), blocks=digest_message(digest))
        if chart is not None:
            try:
                self.upload_chart(channel, chart, title=f"Trends to {digest.week}", thread_ts=ref.ts)
            except DeliveryFailed as failure:
                # The digest itself is out; a missing chart must not make the job post it again.
                log.warning("digest.chart_failed week=%s reason=%s", digest.week, failure.reason)
        return ref

    def _post(self, channel: str, **kwargs: Any) -> MessageRef:
        response = self._call("chat_postMessage", channel=channel, **kwargs)
        return MessageRef(channel=response["channel"], ts=response["ts"])

    def _call(self, method: str, **kwargs: Any) -> Any:
        try:
            return getattr(self.client, method)(**kwargs)
        except SlackApiError as error:
            code = str(error.response.get("error", "unknown_error"))
            raise DeliveryFailed(code, permanent=code in PERMANENT_ERRORS) from None
        except (SlackClientError, OSError) as error:
            # Retries already happened in slack_sdk's handlers: Slack is unreachable for now.
            raise DeliveryFailed(f"slack unreachable: {type(error).__name__}", permanent=False) from None
