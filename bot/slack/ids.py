"""Every Slack id we define (action, callback and block ids), in one place."""

from __future__ import annotations

import re
from enum import StrEnum


class Action(StrEnum):
    PULSE_ANSWER = "pulse_answer"  # followed by ":<question>:<option>" to stay unique in a message
    PULSE_SKIP = "pulse_skip"
    PULSE_UNSKIP = "pulse_unskip"
    PULSE_COMMENT = "pulse_comment"
    HOME_PAUSE = "home_pause"
    HOME_RESUME = "home_resume"


class Callback(StrEnum):
    PULSE_COMMENT = "pulse_comment_modal"


class Block(StrEnum):
    COMMENT_INPUT = "comment"


COMMENT_INPUT_ACTION = "comment_text"
PULSE_ANSWER_PATTERN = re.compile(rf"^{Action.PULSE_ANSWER}:")
DELIVERY_EVENT = "pulse_delivery"
