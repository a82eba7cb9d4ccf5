"""Delivery is a port: services that send talk to a Messenger, never to Slack directly.

bot/slack/ implements it over the Web API; the demo renders to the terminal.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal, Protocol

if TYPE_CHECKING:
    from bot.reports.digest_model import Digest
    from bot.explainers.library import Explainer
    from bot.explainers.views import CouncilQuestion
    from bot.surveys.views import PulseView


@dataclass(frozen=True)
class MessageRef:
    """Where a sent message lives, so it can be updated in place."""

    channel: str
    ts: str


# What a DM the fan-out sends is; with the delivery id it names the message in its metadata.
DeliveryKind = Literal["pulse", "reminder", "explainer"]


class DeliveryFailed(Exception):
    """A message could not be delivered. `permanent` failures (account gone) are not retried."""

    def __init__(self, reason: str, *, permanent: bool) -> None:
        super().__init__(reason)
        self.reason = reason
        self.permanent = permanent


# The bot's name in Slack (manifest.yml), as an operator types it after /invite.
BOT_NAME = "Rollout Pulse"


class ChannelUnavailable(DeliveryFailed):
    """A message for a channel could not go: the bot is not in it (`not_in_channel`), or Slack
    shows the bot no such channel (`channel_not_found`: a private channel it is not in, or a
    wrong id). `name` is the channel's name when Slack would tell it."""

    def __init__(self, reason: str, *, channel: str, name: str | None = None) -> None:
        super().__init__(reason, permanent=True)
        self.channel = channel
        self.name = name

    def explain(self) -> str:
        """What is wrong and how to fix it, in one line."""
        return channel_problem(self.reason, self.channel, self.name)


def channel_problem(reason: str, channel: str, name: str | None) -> str:
    """One line for an operator: why the bot cannot post in the council channel, and the fix."""
    setting = "PULSE_COUNCIL_CHANNEL"
    invite = f"/invite @{BOT_NAME}"
    if reason == "not_in_channel":
        where = f"#{name}" if name else channel
        return (
            f"the bot is not a member of {where} ({setting}={channel}): invite @{BOT_NAME} to {where} "
            f"with `{invite}`, or set {setting} to a channel it is in"
        )
    return (
        f"Slack shows the bot no channel {channel} ({setting}): if it is a private channel, invite "
        f"@{BOT_NAME} to it with `{invite}`; otherwise set {setting} to the channel's ID "
        "(channel details, at the bottom of About)"
    )


class Messenger(Protocol):
    # `lang` is the person's language (bot/i18n.py): the DM is written in it.
    def send_pulse(self, user_id: str, pulse: PulseView, *, delivery_id: int, lang: str = "en") -> MessageRef: ...

    def update_pulse(self, ref: MessageRef, pulse: PulseView, *, lang: str = "en") -> None: ...

    def send_reminder(self, user_id: str, pulse: PulseView, *, delivery_id: int, lang: str = "en") -> MessageRef: ...

    def send_explainer(self, user_id: str, explainer: Explainer, *, delivery_id: int, lang: str = "en") -> MessageRef: ...

    def find_delivery(
        self, user_id: str, *, delivery_id: int, kind: DeliveryKind, since: dt.datetime
    ) -> MessageRef | None:
        """The DM sent for this delivery since `since`, if there is one: after a crash mid-send,
        the conversation itself says whether the message went out."""
        ...

    # `lang` of a council post is the council's language (the organisation's, bot/i18n.py).
    def post_question(self, channel: str, question: CouncilQuestion, *, lang: str = "en") -> MessageRef: ...

    def upload_chart(self, channel: str, png: bytes, *, title: str, thread_ts: str | None = None) -> None:
        """Share a PNG chart in a channel, or in a message's thread when thread_ts is given."""
        ...

    def post_digest(self, channel: str, digest: Digest) -> MessageRef:
        """Post the digest's main message: headline figures, alerts and pause signals, in the
        language the digest was built in (`digest.lang`)."""
        ...

    def find_digest(self, channel: str, week: str, *, since: dt.datetime) -> MessageRef | None:
        """The digest's main message for this week, if one was posted since `since`: after a crash
        or a lost answer, the channel itself says whether it went out."""
        ...

    def post_digest_thread(self, ref: MessageRef, digest: Digest, chart: bytes | None, *, resume: bool) -> None:
        """Post the digest's thread under its main message: teams, rollouts with their decision
        buttons, explainers and the trend chart. With `resume`, a thread begun by an earlier run is
        read first, and only what it does not hold yet is posted."""
        ...

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
        """Post a week's released comments, word for word, in the digest's thread: as many
        messages as it takes, always split the same way (in any language: only the headings differ). The first `skip` were posted by an
        earlier run; `posted(n)` is called once n messages are out."""
        ...
