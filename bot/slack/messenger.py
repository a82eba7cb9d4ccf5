"""The Messenger port over Slack's Web API."""

from __future__ import annotations

import datetime as dt
import json
import logging
import time
from collections.abc import Callable, Iterator, Sequence
from functools import partial
from typing import Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackClientError

from bot.explainers.library import Explainer
from bot.i18n import Translator, translator
from bot.explainers.views import CouncilQuestion, ExplainerView, QuestionReceipt
from bot.messenger import ChannelUnavailable, DeliveryFailed, DeliveryKind, MessageRef
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
from bot.reports.text import chart_title
from bot.reports.digest_model import Digest
from bot.slack.blocks.comments import comment_messages
from bot.slack.blocks.digest import MAIN, Post, digest_main, digest_thread
from bot.slack.client import never_reached, unreachable, without_unsafe_retries
from bot.slack.ids import DELIVERY_EVENT, DIGEST_EVENT
from bot.surveys.views import PulseView
from bot.weeks import now

log = logging.getLogger(__name__)

# Slack's clock and ours may disagree a little: look back this much further than the claim.
CLOCK_MARGIN = dt.timedelta(minutes=5)
HISTORY_PAGE = 200
# A DM whose answer was lost is looked for, then posted again, at most this many times in all.
DELIVERY_ATTEMPTS = 3
RETRY_PAUSE = 0.25  # seconds, growing with each attempt

# Slack's own errors that can come after the message was posted.
LATE_ERRORS = frozenset({"internal_error", "fatal_error", "request_timeout", "service_unavailable"})

CHART_FILENAME = "pulse-trends.png"

# A channel message refused because of where it was going, not what it said.
CHANNEL_ERRORS = frozenset({"not_in_channel", "channel_not_found"})
CHANNEL_PREFIXES = ("C", "G")  # public and private channels; D… and user ids are DMs

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
        self.once = without_unsafe_retries(client)
        self.min_group = min_group
        self._built: dict[tuple[str, int, str], tuple[object, str, str]] = {}

    def send_pulse(self, user_id: str, pulse: PulseView, *, delivery_id: int, lang: str = "en") -> MessageRef:
        t = translator(lang)
        text, blocks = self._built_once(
            "pulse", pulse, t, lambda: (pulse_text(pulse, t), pulse_message(pulse, min_group=self.min_group, t=t))
        )
        return self._deliver(user_id, delivery_id, "pulse", text=text, blocks=blocks)

    def update_pulse(self, ref: MessageRef, pulse: PulseView, *, lang: str = "en") -> None:
        t = translator(lang)
        self._call(
            "chat_update", channel=ref.channel, ts=ref.ts,
            text=pulse_text(pulse, t), blocks=pulse_message(pulse, min_group=self.min_group, t=t),
        )

    def send_reminder(self, user_id: str, pulse: PulseView, *, delivery_id: int, lang: str = "en") -> MessageRef:
        t = translator(lang)
        text, blocks = self._built_once("reminder", pulse, t, lambda: (reminder_text(pulse, t), reminder_message(pulse, t)))
        return self._deliver(user_id, delivery_id, "reminder", text=text, blocks=blocks)

    def send_explainer(self, user_id: str, explainer: Explainer, *, delivery_id: int, lang: str = "en") -> MessageRef:
        t = translator(lang)
        view = ExplainerView(explainer)
        text, blocks = self._built_once("explainer", explainer, t, lambda: (explainer_text(view, t), explainer_message(view, t)))
        return self._deliver(user_id, delivery_id, "explainer", text=text, blocks=blocks, explainer=explainer.key)

    def update_explainer(self, ref: MessageRef, view: ExplainerView, *, lang: str = "en") -> None:
        t = translator(lang)
        self._call(
            "chat_update", channel=ref.channel, ts=ref.ts, text=explainer_text(view, t), blocks=explainer_message(view, t)
        )

    def find_delivery(
        self, user_id: str, *, delivery_id: int, kind: DeliveryKind, since: dt.datetime
    ) -> MessageRef | None:
        # The DM channel is only known once opened; opening an existing one is harmless.
        channel = self._call("conversations_open", users=user_id)["channel"]["id"]
        oldest = f"{(since - CLOCK_MARGIN).timestamp():.6f}"
        cursor: str | None = None
        while True:
            page = self._call(
                "conversations_history",
                channel=channel,
                oldest=oldest,
                include_all_metadata=True,
                limit=HISTORY_PAGE,
                cursor=cursor,
            )
            for message in page.get("messages", []):
                if _names_delivery(message.get("metadata"), delivery_id, kind):
                    return MessageRef(channel=channel, ts=message["ts"])
            cursor = (page.get("response_metadata") or {}).get("next_cursor") or None
            if not page.get("has_more") or cursor is None:
                return None

    def post_question(self, channel: str, question: CouncilQuestion, *, lang: str = "en") -> MessageRef:
        # No metadata naming the asker: the message must not carry what the text leaves out.
        t = translator(lang)
        return self._post(channel, text=council_question_text(question, t), blocks=council_question_message(question, t))

    def confirm_question(self, user_id: str, receipt: QuestionReceipt, *, lang: str = "en") -> MessageRef:
        t = translator(lang)
        return self._post(user_id, text=question_confirmation_text(receipt, t), blocks=question_confirmation(receipt, t))

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

    def post_digest(self, channel: str, digest: Digest) -> MessageRef:
        main = digest_main(digest)
        since = now()
        return self._post_once(
            channel,
            text=main.text,
            blocks=main.blocks,
            metadata=_digest_metadata(digest.week, main),
            find=lambda: self.find_digest(channel, digest.week, since=since),
            what="digest",
            ids=f"week={digest.week} part={MAIN}",
        )

    def find_digest(self, channel: str, week: str, *, since: dt.datetime) -> MessageRef | None:
        oldest = f"{(since - CLOCK_MARGIN).timestamp():.6f}"
        for message in self._messages("conversations_history", channel=channel, oldest=oldest):
            if (_digest_payload(message, week) or {}).get("part") == MAIN:
                return MessageRef(channel=channel, ts=message["ts"])
        return None

    def post_digest_thread(self, ref: MessageRef, digest: Digest, chart: bytes | None, *, resume: bool) -> None:
        """Each reply carries metadata naming its part and entries; a resumed thread is read
        first, so a reply (or the chart) an earlier run posted is not posted again."""
        posted, chart_posted = self._thread_so_far(ref, digest.week) if resume else ({}, False)
        for post in digest_thread(digest):
            if post.last <= posted.get(post.part, -1):
                continue
            self._post_once(
                ref.channel,
                text=post.text,
                blocks=post.blocks,
                metadata=_digest_metadata(digest.week, post),
                thread_ts=ref.ts,
                find=partial(self._find_reply, ref, digest.week, post),
                what="digest",
                ids=f"week={digest.week} part={post.part} first={post.first}",
            )
        if chart is not None and not chart_posted:
            try:
                self.upload_chart(ref.channel, chart, title=chart_title(digest.week, translator(digest.lang)), thread_ts=ref.ts)
            except DeliveryFailed as failure:
                # The digest itself is out; a missing chart must not make the job post it again.
                log.warning("digest.chart_failed week=%s reason=%s", digest.week, failure.reason)

    def _thread_so_far(self, ref: MessageRef, week: str) -> tuple[dict[str, int], bool]:
        """The last entry of each part the thread holds, and whether the chart is in it."""
        posted: dict[str, int] = {}
        chart = False
        for message in self._messages("conversations_replies", channel=ref.channel, ts=ref.ts):
            payload = _digest_payload(message, week)
            if payload is not None and payload.get("part") != MAIN and isinstance(payload.get("last"), int):
                part = str(payload["part"])
                posted[part] = max(posted.get(part, -1), payload["last"])
            chart = chart or any(f.get("name") == CHART_FILENAME for f in message.get("files") or [] if isinstance(f, dict))
        return posted, chart

    def _find_reply(self, ref: MessageRef, week: str, post: Post) -> MessageRef | None:
        for message in self._messages("conversations_replies", channel=ref.channel, ts=ref.ts):
            payload = _digest_payload(message, week) or {}
            if payload.get("part") == post.part and payload.get("first") == post.first and message.get("ts") != ref.ts:
                return MessageRef(channel=ref.channel, ts=message["ts"])
        return None

    def _messages(self, method: str, **params: Any) -> Iterator[dict[str, Any]]:
        """Every message a history or replies call returns, page after page, with metadata."""
        cursor: str | None = None
        while True:
            page = self._call(method, include_all_metadata=True, limit=HISTORY_PAGE, cursor=cursor, **params)
            yield from page.get("messages", [])
            cursor = (page.get("response_metadata") or {}).get("next_cursor") or None
            if not page.get("has_more") or cursor is None:
                return

    def post_comments(
        self,
        channel: str,
        thread_ts: str,
        week: str,
        comments: Sequence[str],
        *,
        skip: int,
        posted: Callable[[int], None],
        lang: str = "en",
    ) -> None:
        for number, (text, blocks) in enumerate(comment_messages(week, comments, translator(lang)), start=1):
            if number > skip:
                self._post(channel, text=text, blocks=blocks, thread_ts=thread_ts)
                posted(number)

    def _built_once(
        self, kind: DeliveryKind, source: object, t: Translator, build: Callable[[], tuple[str, list[Any]]]
    ) -> tuple[str, str]:
        """A fan-out sends the same message (a round's blank pulse, an explainer) to thousands of
        people: it is built once per source object and language, not once per person, and its
        blocks are encoded as JSON once too (slack_sdk passes a string of blocks on as it is, and
        Slack reads it as the array it encodes), where encoding them for each DM cost more than
        sending it."""
        key = (kind, id(source), t.lang)
        cached = self._built.get(key)
        if cached is None or cached[0] is not source:
            if len(self._built) > 64:
                self._built.clear()
            text, blocks = build()
            cached = (source, text, json.dumps(blocks))
            self._built[key] = cached
        return cached[1], cached[2]

    def _deliver(
        self,
        user_id: str,
        delivery_id: int,
        kind: DeliveryKind,
        *,
        text: str,
        blocks: str,
        **details: str,
    ) -> MessageRef:
        """Post a delivery's DM once. When Slack's answer is lost (a 5xx, a dropped connection, a
        timeout) the message may have been posted all the same: look in the DM before posting
        again, so a retry never doubles it."""
        since = now()
        return self._post_once(
            user_id,
            text=text,
            blocks=blocks,
            metadata=_delivery_metadata(delivery_id, kind, **details),
            find=lambda: self.find_delivery(user_id, delivery_id=delivery_id, kind=kind, since=since),
            what=kind,
            ids=f"delivery={delivery_id}",
        )

    def _post_once(
        self,
        channel: str,
        *,
        text: str,
        blocks: list[Any] | str,
        metadata: dict[str, Any],
        find: Callable[[], MessageRef | None],
        what: str,
        ids: str,
        thread_ts: str | None = None,
    ) -> MessageRef:
        """Post a message that names itself in its metadata, once: after a lost answer, `find`
        looks for it before it is posted again."""
        reason = ""
        for attempt in range(1, DELIVERY_ATTEMPTS + 1):
            try:
                response = self.once.chat_postMessage(
                    channel=channel, text=text, blocks=blocks, metadata=metadata, thread_ts=thread_ts
                )
                return MessageRef(channel=response["channel"], ts=response["ts"])
            except SlackApiError as error:
                code = str(error.response.get("error", "unknown_error"))
                if code in CHANNEL_ERRORS and channel.startswith(CHANNEL_PREFIXES):
                    raise ChannelUnavailable(code, channel=channel, name=self.channel_name(channel)) from None
                if error.response.status_code < 500 and code not in LATE_ERRORS:
                    raise DeliveryFailed(code, permanent=code in PERMANENT_ERRORS) from None
                reason = code
            except (SlackClientError, OSError) as error:
                if never_reached(error):
                    raise DeliveryFailed(f"slack unreachable: {self._unreachable(error)}", permanent=False) from None
                reason = type(error).__name__
            log.info("%s.answer_lost %s attempt=%s reason=%s", what, ids, attempt, reason)
            if attempt == DELIVERY_ATTEMPTS:
                break
            time.sleep(RETRY_PAUSE * attempt)
            found = find()
            if found is not None:
                return found
        # Whether the last attempt was posted is unknown: the caller leaves it to be looked up.
        raise DeliveryFailed(f"slack answer lost: {reason}", permanent=False)

    def _post(self, channel: str, **kwargs: Any) -> MessageRef:
        try:
            response = self._call("chat_postMessage", channel=channel, **kwargs)
        except DeliveryFailed as failure:
            if failure.reason in CHANNEL_ERRORS and channel.startswith(CHANNEL_PREFIXES):
                raise ChannelUnavailable(failure.reason, channel=channel, name=self.channel_name(channel)) from None
            raise
        return MessageRef(channel=response["channel"], ts=response["ts"])

    def channel_name(self, channel: str) -> str | None:
        """The channel's name, when Slack shows it to the bot (a public channel, or one it is in)."""
        try:
            found = self.client.conversations_info(channel=channel)
        except (SlackApiError, SlackClientError, OSError):
            return None
        name = (found.get("channel") or {}).get("name")
        return str(name) if name else None

    def _call(self, method: str, **kwargs: Any) -> Any:
        try:
            return getattr(self.client, method)(**kwargs)
        except SlackApiError as error:
            code = str(error.response.get("error", "unknown_error"))
            raise DeliveryFailed(code, permanent=code in PERMANENT_ERRORS) from None
        except (SlackClientError, OSError) as error:
            # Retries already happened in slack_sdk's handlers: Slack is unreachable for now.
            raise DeliveryFailed(f"slack unreachable: {self._unreachable(error)}", permanent=False) from None

    def _unreachable(self, error: BaseException) -> str:
        return unreachable(error, self.client.base_url, self.client.timeout)


def _delivery_metadata(delivery_id: int, kind: DeliveryKind, **extra: str) -> dict[str, Any]:
    return {"event_type": DELIVERY_EVENT, "event_payload": {"delivery_id": delivery_id, "kind": kind, **extra}}


def _digest_metadata(week: str, post: Post) -> dict[str, Any]:
    payload: dict[str, Any] = {"week": week, "part": post.part}
    if post.part != MAIN:
        payload |= {"first": post.first, "last": post.last}
    return {"event_type": DIGEST_EVENT, "event_payload": payload}


def _digest_payload(message: Any, week: str) -> dict[str, Any] | None:
    """The payload of a digest message of this week, or None for any other message."""
    metadata = message.get("metadata") if isinstance(message, dict) else None
    if not isinstance(metadata, dict) or metadata.get("event_type") != DIGEST_EVENT:
        return None
    payload = metadata.get("event_payload") or {}
    return payload if isinstance(payload, dict) and payload.get("week") == week else None


def _names_delivery(metadata: Any, delivery_id: int, kind: DeliveryKind) -> bool:
    if not isinstance(metadata, dict) or metadata.get("event_type") != DELIVERY_EVENT:
        return False
    payload = metadata.get("event_payload") or {}
    return payload.get("delivery_id") == delivery_id and payload.get("kind") == kind

