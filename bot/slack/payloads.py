"""The shape of what Slack sends, checked before Bolt matches a listener.

A signed request whose payload does not have Slack's shape for its kind (an action id that is not
a string, a submitted view without its state, a command without its response_url) cannot have come
from Slack. It is refused at the door with a 400 instead of failing in Bolt's matching or half-way
through a listener. Only the fields Bolt and the listeners read are checked; whatever else Slack
adds is allowed through.
"""

from __future__ import annotations

from typing import Any

from pydantic import AnyHttpUrl, BaseModel, ConfigDict, Field, ValidationError


class _Slack(BaseModel):
    model_config = ConfigDict(extra="allow", strict=True)


class _User(_Slack):
    id: str


class _Action(_Slack):
    action_id: str
    block_id: str = ""
    value: str | None = None
    selected_option: dict[str, Any] | None = None


class _Element(_Slack):
    """One input's state in `view.state.values`.

    What was typed is left to the form's own parser, which answers in the modal when it cannot
    read it; only the structure the listeners walk through is checked here.
    """

    value: Any = None
    selected_option: dict[str, Any] | None = None
    selected_options: list[dict[str, Any]] | None = None


class _State(_Slack):
    values: dict[str, dict[str, _Element]]


class _View(_Slack):
    callback_id: str = ""
    private_metadata: str = ""
    state: _State | None = None


class _SubmittedView(_View):
    state: _State


class _Container(_Slack):
    channel_id: str | None = None
    message_ts: str | None = None


class _BlockActions(_Slack):
    user: _User
    actions: list[_Action] = Field(min_length=1)
    container: _Container | None = None
    trigger_id: str = ""
    view: _View | None = None
    response_url: AnyHttpUrl | None = None


class _ViewSubmission(_Slack):
    user: _User
    view: _SubmittedView


class _Shortcut(_Slack):
    user: _User
    callback_id: str
    trigger_id: str
    message_ts: str | None = None
    response_url: AnyHttpUrl | None = None


class _Event(_Slack):
    type: str


class _HomeOpened(_Event):
    user: str
    tab: str = "home"


class _EventCallback(_Slack):
    event: _Event


class _SlashCommand(_Slack):
    """A form, so every field is text; these are the ones Slack always sends."""

    command: str
    text: str = ""
    user_id: str = Field(min_length=1)
    trigger_id: str
    response_url: AnyHttpUrl


class _Envelope(_Slack):
    """What Bolt reads from any payload, even one it has no listener for (to log it)."""

    type: str | None = None
    view: dict[str, Any] | None = None
    event: dict[str, Any] | None = None
    actions: list[dict[str, Any]] | None = None


_BY_TYPE: dict[str, type[_Slack]] = {
    "block_actions": _BlockActions,
    "view_submission": _ViewSubmission,
    "view_closed": _ViewSubmission,
    "shortcut": _Shortcut,
    "message_action": _Shortcut,
    "event_callback": _EventCallback,
}


def payload_problem(body: dict[str, Any]) -> str | None:
    """What makes `body` unlike anything Slack sends, or None when it has Slack's shape.

    Kinds the app does not handle only need what Bolt reads to log them as unhandled.
    """
    if "view" in body and not isinstance(body["view"], dict):
        return "view: must be an object"  # Bolt reads it to log even a payload it has no listener for
    try:
        kind = _Envelope.model_validate(body).type
        shape = _SlashCommand if "command" in body else _BY_TYPE.get(kind or "")
        if shape is not None:
            shape.model_validate(body)
        if shape is _EventCallback and body["event"].get("type") == "app_home_opened":
            _HomeOpened.model_validate(body["event"])
    except ValidationError as error:
        first = error.errors()[0]
        return f"{'.'.join(str(part) for part in first['loc']) or 'payload'}: {first['msg']}"
    return None
