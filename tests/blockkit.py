"""Slack's Block Kit limits, checked on every payload we build or send.

One checker, `assert_valid_blocks(payload, *, surface)`, for every feature's tests:

- `payload` is a list of blocks, a whole message (a dict with `text` and `blocks`, such as the
  params of a recorded `chat.postMessage`) or a whole view (a dict with `type` "modal"/"home").
  Pass the whole message or view when you have it: its fallback text, title, buttons and
  metadata are checked too.
- `surface` is "message" (at most 50 blocks), "modal" or "home" (at most 100).

Each block is parsed with slack_sdk, whose models raise on many limits while serialising; the
limits slack_sdk leaves out are checked here. Every failure is an AssertionError that says
where the payload breaks which limit.

Every mrkdwn text (and a message's fallback text, which Slack formats as mrkdwn too) must also be
escaped: `&`, `<` and `>` appear only as `&amp;`, `&lt;`, `&gt;` or in the tokens we write on
purpose (a user mention, a date, a link), so no text can mention @channel or break a link.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from slack_sdk.errors import SlackObjectFormationError
from slack_sdk.models.blocks import Block
from slack_sdk.models.views import View

MAX_BLOCKS = {"message": 50, "modal": 100, "home": 100}
MAX_MESSAGE_TEXT = 40_000
MAX_SECTION_TEXT = 3000
MAX_SECTION_FIELDS = 10
MAX_FIELD_TEXT = 2000
MAX_HEADER_TEXT = 150
MAX_CONTEXT_ELEMENTS = 10
MAX_ACTIONS_ELEMENTS = 25
MAX_BUTTON_TEXT = 75
MAX_BUTTON_VALUE = 2000
MAX_ID = 255  # action_id, block_id, callback_id
MAX_VIEW_TITLE = 24  # also submit and close
MAX_PRIVATE_METADATA = 3000
MAX_INPUT_LENGTH = 3000  # plain_text_input max_length
# Slack refuses a message whose blocks hold too much text in all (msg_blocks_too_long). It does
# not publish the figure; refusals are reported from about 11,300 characters of text.
MAX_MESSAGE_BLOCK_TEXT = 11_000

# What may stand between < and > in mrkdwn: a user or channel mention, a date, a link.
_TOKEN = re.compile(
    r"<(?:@[UW][A-Z0-9]+|#C[A-Z0-9]+(?:\|[^<>]*)?|!date\^[^<>|]+\|[^<>]*|(?:https?|mailto):[^<>|\s]+(?:\|[^<>]*)?)>"
)
_ENTITY = re.compile(r"&(?!(?:amp|lt|gt);)")


def assert_valid_blocks(payload: list[dict[str, Any]] | dict[str, Any], *, surface: str) -> None:
    """Fail with a clear message if Slack would reject (or cut) this payload on `surface`."""
    assert surface in MAX_BLOCKS, f"unknown surface {surface!r}; one of {sorted(MAX_BLOCKS)}"
    if isinstance(payload, list):
        blocks = payload
    elif surface == "message":
        _check_message(payload)
        blocks = payload.get("blocks") or []
    else:
        _check_view(payload, surface)
        blocks = payload["blocks"]
    assert isinstance(blocks, list), f"blocks must be a list, got {type(blocks).__name__}"
    assert len(blocks) <= MAX_BLOCKS[surface], f"{len(blocks)} blocks on a {surface}; Slack allows {MAX_BLOCKS[surface]}"
    if surface == "message":
        text = _text_in(blocks)
        assert text <= MAX_MESSAGE_BLOCK_TEXT, f"the message's blocks hold {text} characters of text; Slack refuses about {MAX_MESSAGE_BLOCK_TEXT}"
    block_ids = [block["block_id"] for block in blocks if "block_id" in block]
    repeated = sorted({block_id for block_id in block_ids if block_ids.count(block_id) > 1})
    assert not repeated, f"block_id repeats within the {surface}: {repeated}"
    for index, block in enumerate(blocks):
        _check_block(block, _where(index, block))


def assert_valid_message(text: str, blocks: list[dict[str, Any]]) -> None:
    """A message: its blocks, and the fallback text Slack shows in notifications and screen readers."""
    assert_valid_blocks({"text": text, "blocks": blocks}, surface="message")


def assert_valid_view(view: dict[str, Any]) -> None:
    """A modal or App Home view, checked as the surface its own `type` names."""
    assert_valid_blocks(view, surface=view["type"])


# ---------------------------------------------------------------- surfaces


def _check_message(message: dict[str, Any]) -> None:
    text = message.get("text")
    assert isinstance(text, str) and text.strip(), "a message needs a top-level `text` fallback (notifications, screen readers)"
    assert len(text) <= MAX_MESSAGE_TEXT, f"message text has {len(text)} characters; Slack allows {MAX_MESSAGE_TEXT}"
    assert_escaped(text, "the message's fallback text")


def assert_escaped(text: str, where: str = "text") -> None:
    """`&`, `<` and `>` only escaped, or in a mention, date or link we wrote on purpose."""
    bare = _TOKEN.sub("", text)
    assert "<" not in bare and ">" not in bare, f"{where}: unescaped < or > in {_around(bare, '<>')!r}"
    found = _ENTITY.search(bare)
    assert found is None, f"{where}: unescaped & in {bare[max(0, found.start() - 30):found.start() + 30]!r}"


def _around(text: str, characters: str) -> str:
    index = min((text.index(c) for c in characters if c in text), default=0)
    return text[max(0, index - 30) : index + 30]


def _text_in(value: Any) -> int:
    """The characters of text a payload carries: every string under a "text" key."""
    if isinstance(value, dict):
        return sum(len(item) if key == "text" and isinstance(item, str) else _text_in(item) for key, item in value.items())
    if isinstance(value, list):
        return sum(_text_in(item) for item in value)
    return 0


def _check_view(view: dict[str, Any], surface: str) -> None:
    assert view.get("type") == surface, f"a {view.get('type')!r} view checked as a {surface}"
    try:
        View(**view).to_dict()
    except SlackObjectFormationError as error:
        raise AssertionError(f"{surface} view: {error}") from None
    if surface == "modal":
        title = view.get("title", {}).get("text", "")
        assert title.strip(), "a modal needs a title"
        assert len(title) <= MAX_VIEW_TITLE, f"modal title {title!r} has {len(title)} characters; Slack allows {MAX_VIEW_TITLE}"
        for key in ("submit", "close"):
            if key in view:
                label = view[key]["text"]
                assert len(label) <= MAX_VIEW_TITLE, f"modal {key} {label!r} has {len(label)} characters; Slack allows {MAX_VIEW_TITLE}"
        if any(block.get("type") == "input" for block in view.get("blocks", [])):
            assert "submit" in view, "a modal with input blocks needs a submit button"
    metadata = view.get("private_metadata", "")
    assert len(metadata) <= MAX_PRIVATE_METADATA, f"private_metadata has {len(metadata)} characters; Slack allows {MAX_PRIVATE_METADATA}"
    callback_id = view.get("callback_id", "")
    assert len(callback_id) <= MAX_ID, f"callback_id has {len(callback_id)} characters; Slack allows {MAX_ID}"


# ---------------------------------------------------------------- blocks


def _check_block(block: dict[str, Any], where: str) -> None:
    parsed = Block.parse(block)
    assert parsed is not None, f"{where}: slack_sdk does not know this block type"
    try:
        parsed.validate_json()
        serialised = parsed.to_dict()  # serialising validates every nested element and text object too
    except SlackObjectFormationError as error:
        raise AssertionError(f"{where}: {error}") from None
    # slack_sdk drops what it does not model; Slack itself answers invalid_blocks to a misspelt key.
    lost = _difference(block, serialised)
    assert lost is None, f"{where}: slack_sdk does not read {lost} as sent (a misspelt key or a wrong type?)"
    assert len(block.get("block_id", "")) <= MAX_ID, f"{where}: block_id longer than {MAX_ID} characters"
    kind = block["type"]
    if kind == "section":
        text = block.get("text", {}).get("text", "")
        assert len(text) <= MAX_SECTION_TEXT, f"{where}: section text has {len(text)} characters; Slack allows {MAX_SECTION_TEXT}"
        fields = block.get("fields", [])
        assert len(fields) <= MAX_SECTION_FIELDS, f"{where}: {len(fields)} fields; Slack allows {MAX_SECTION_FIELDS}"
        for field in fields:
            assert len(field["text"]) <= MAX_FIELD_TEXT, f"{where}: a field longer than {MAX_FIELD_TEXT} characters"
    elif kind == "header":
        text = block["text"]["text"]
        assert len(text) <= MAX_HEADER_TEXT, f"{where}: header text has {len(text)} characters; Slack allows {MAX_HEADER_TEXT}"
    elif kind == "context":
        count = len(block["elements"])
        assert count <= MAX_CONTEXT_ELEMENTS, f"{where}: {count} context elements; Slack allows {MAX_CONTEXT_ELEMENTS}"
    elif kind == "actions":
        count = len(block["elements"])
        assert count <= MAX_ACTIONS_ELEMENTS, f"{where}: {count} action elements; Slack allows {MAX_ACTIONS_ELEMENTS}"
    action_ids = []
    for element in _nested(block):
        if "action_id" in element:
            action_id = element["action_id"]
            assert len(action_id) <= MAX_ID, f"{where}: action_id {action_id[:40]!r}… longer than {MAX_ID} characters"
            action_ids.append(action_id)
        if element.get("type") == "button":
            label, value = element["text"]["text"], element.get("value", "")
            assert len(label) <= MAX_BUTTON_TEXT, f"{where}: button text {label[:40]!r} has {len(label)} characters; Slack allows {MAX_BUTTON_TEXT}"
            assert len(value) <= MAX_BUTTON_VALUE, f"{where}: button value has {len(value)} characters; Slack allows {MAX_BUTTON_VALUE}"
        if element.get("type") == "plain_text_input" and "max_length" in element:
            limit = element["max_length"]
            assert limit <= MAX_INPUT_LENGTH, f"{where}: plain_text_input max_length {limit}; Slack allows {MAX_INPUT_LENGTH}"
        if element.get("type") in ("mrkdwn", "plain_text") and "text" in element:
            assert element["text"].strip(), f"{where}: empty {element['type']} text (Slack rejects it)"
        if element.get("type") == "mrkdwn" and isinstance(element.get("text"), str):
            assert_escaped(element["text"], where)
    repeated = sorted({action_id for action_id in action_ids if action_ids.count(action_id) > 1})
    assert not repeated, f"{where}: action_id repeats within the block: {repeated}"


def _difference(sent: Any, parsed: Any, path: str = "") -> str | None:
    """The first place where `sent` differs from slack_sdk's reading of it, or None."""
    if isinstance(sent, dict) and isinstance(parsed, dict):
        for key in sent:
            if key not in parsed:
                return f"{path}.{key}".lstrip(".")
            found = _difference(sent[key], parsed[key], f"{path}.{key}")
            if found:
                return found
        return None
    if isinstance(sent, list) and isinstance(parsed, list) and len(sent) == len(parsed):
        for index, (item, parsed_item) in enumerate(zip(sent, parsed)):
            found = _difference(item, parsed_item, f"{path}[{index}]")
            if found:
                return found
        return None
    return None if sent == parsed else (path.lstrip(".") or "the block")


def _where(index: int, block: dict[str, Any]) -> str:
    block_id = block.get("block_id")
    shown = f" {block_id[:40]}" if block_id else ""
    return f"block {index} ({block.get('type')}{shown})"


def _nested(value: Any) -> Iterator[dict[str, Any]]:
    """Every object inside a block (elements, accessories, text objects, options), the block included."""
    if isinstance(value, dict):
        yield value
        for item in value.values():
            yield from _nested(item)
    elif isinstance(value, list):
        for item in value:
            yield from _nested(item)
