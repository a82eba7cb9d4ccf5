"""Slack's Block Kit limits, checked on every payload we build.

slack_sdk's models enforce many limits when parsed and serialised; the rest are checked here.
"""

from __future__ import annotations

from typing import Any

from slack_sdk.models.blocks import Block
from slack_sdk.models.views import View

MAX_BLOCKS = {"message": 50, "modal": 100, "home": 100}


def _texts(element: Any) -> list[tuple[str, str]]:
    """(kind, text) of every text object inside a block or element."""
    found: list[tuple[str, str]] = []
    if isinstance(element, dict):
        if element.get("type") in ("mrkdwn", "plain_text") and "text" in element:
            found.append((element["type"], element["text"]))
        for value in element.values():
            found += _texts(value)
    elif isinstance(element, list):
        for item in element:
            found += _texts(item)
    return found


def assert_valid_blocks(blocks: list[dict[str, Any]], *, surface: str = "message") -> None:
    assert len(blocks) <= MAX_BLOCKS[surface], f"{len(blocks)} blocks on a {surface}"
    block_ids = [b["block_id"] for b in blocks if "block_id" in b]
    assert len(block_ids) == len(set(block_ids)), "block_id repeats"
    for block in blocks:
        Block.parse(block).to_dict()  # raises SlackObjectFormationError on a broken limit
        assert len(block.get("block_id", "")) <= 255
        if block["type"] == "section":
            assert len(block.get("text", {}).get("text", "")) <= 3000
            assert len(block.get("fields", [])) <= 10
        if block["type"] == "header":
            assert len(block["text"]["text"]) <= 150
        if block["type"] == "context":
            assert len(block["elements"]) <= 10
        if block["type"] == "actions":
            assert len(block["elements"]) <= 25
            action_ids = [e["action_id"] for e in block["elements"] if "action_id" in e]
            assert len(action_ids) == len(set(action_ids)), "action_id repeats in a block"
        for element in [*block.get("elements", []), block.get("accessory") or {}]:
            assert len(element.get("action_id", "")) <= 255
            if element.get("type") == "button":
                assert len(element["text"]["text"]) <= 75
                assert len(element.get("value", "")) <= 2000
        for kind, text in _texts(block):
            assert text.strip(), f"empty {kind} text"


def assert_valid_message(text: str, blocks: list[dict[str, Any]]) -> None:
    """A message also needs a notification / screen-reader fallback."""
    assert text.strip() and len(text) <= 40_000
    assert_valid_blocks(blocks, surface="message")


def assert_valid_view(view: dict[str, Any]) -> None:
    View(**view).to_dict()
    assert_valid_blocks(view["blocks"], surface=view["type"])
    if view["type"] == "modal":
        assert len(view["title"]["text"]) <= 24
        for key in ("submit", "close"):
            if key in view:
                assert len(view[key]["text"]) <= 24
    assert len(view.get("private_metadata", "")) <= 3000
    assert len(view.get("callback_id", "")) <= 255
