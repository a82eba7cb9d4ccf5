"""Every Slack id we define (action, callback and block ids), in one place."""

from __future__ import annotations

import re
from enum import StrEnum


class Action(StrEnum):
    # the weekly pulse
    PULSE_ANSWER = "pulse_answer"  # followed by ":<question>:<option>" to stay unique in a message
    PULSE_SKIP = "pulse_skip"
    PULSE_UNSKIP = "pulse_unskip"
    PULSE_COMMENT = "pulse_comment"
    # App Home
    HOME_PAUSE = "home_pause"
    HOME_RESUME = "home_resume"
    HOME_LOG_WORK = "home_log_work"
    # hidden work
    LOG_CATEGORY = "log_category"
    LOG_DURATION = "log_duration"
    LOG_TOOL = "log_tool"
    LOG_NOTE = "log_note"
    LOG_SHARE = "log_share"
    # explainers
    EXPLAINER_HELPFUL = "explainer_helpful"
    EXPLAINER_NOT_HELPFUL = "explainer_not_helpful"
    EXPLAINER_QUESTION = "explainer_question"
    QUESTION_TEXT = "question_text"
    QUESTION_NAMED = "question_named"
    # data rights
    FORGET_CONFIRM = "forget_confirm"
    MYDATA_MORE = "mydata_more"  # the rest of a /pulse mydata too long for one reply
    # manager summaries
    SUMMARY_MORE = "summary_more"  # the next teams of a /pulse summary too long for one reply
    # council digest
    DIGEST_DECISION = "digest_decision"  # followed by ":<decision>"


class Callback(StrEnum):
    PULSE_COMMENT = "pulse_comment_modal"
    LOG_WORK_MODAL = "log_work_modal"
    LOG_WORK_SHORTCUT = "log_hidden_work"  # global shortcut, as in manifest.yml
    LOG_WORK_MESSAGE_SHORTCUT = "log_hidden_work_message"  # message shortcut, as in manifest.yml
    EXPLAINER_QUESTION_MODAL = "explainer_question_modal"


class Block(StrEnum):
    COMMENT_INPUT = "comment"
    LOG_CATEGORY = "log_category"
    LOG_DURATION = "log_duration"
    LOG_TOOL = "log_tool"
    LOG_NOTE = "log_note"
    LOG_SHARE = "log_share"
    QUESTION_TEXT = "question_text"
    QUESTION_NAMED = "question_named"


COMMENT_INPUT_ACTION = "comment_text"
PULSE_ANSWER_PATTERN = re.compile(rf"^{Action.PULSE_ANSWER}:")
DIGEST_DECISION_PATTERN = re.compile(rf"^{Action.DIGEST_DECISION}:")
DELIVERY_EVENT = "pulse_delivery"
DIGEST_EVENT = "pulse_digest"  # metadata naming a digest message: its week, part and entries
