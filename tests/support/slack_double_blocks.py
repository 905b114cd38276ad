"""Block Kit and view sanity checks for the Slack Web API double.

Only the limits that a chat bot realistically runs into are checked (counts and
lengths documented in Slack's Block Kit reference). Each check returns a
human-readable problem description, or ``None`` when the payload is acceptable;
the double turns that into ``invalid_blocks`` / ``invalid_arguments``.
"""

from __future__ import annotations

from typing import Any

MAX_MESSAGE_BLOCKS = 50
MAX_VIEW_BLOCKS = 100
MAX_MESSAGE_TEXT = 40_000
MAX_SECTION_TEXT = 3000
MAX_SECTION_FIELDS = 10
MAX_SECTION_FIELD_TEXT = 2000
MAX_HEADER_TEXT = 150
MAX_ACTIONS_ELEMENTS = 25
MAX_CONTEXT_ELEMENTS = 10
MAX_BLOCK_ID = 255
MAX_ACTION_ID = 255
MAX_BUTTON_TEXT = 75
MAX_BUTTON_VALUE = 2000
MAX_VIEW_TITLE = 24
MAX_PRIVATE_METADATA = 3000
MAX_CALLBACK_ID = 255

TEXT_TYPES = frozenset({"plain_text", "mrkdwn"})
KNOWN_BLOCK_TYPES = frozenset(
    {
        "actions",
        "context",
        "divider",
        "file",
        "header",
        "image",
        "input",
        "markdown",
        "rich_text",
        "section",
        "video",
    }
)


def _text_problem(obj: Any, where: str, limit: int, *, plain_only: bool = False) -> str | None:
    if not isinstance(obj, dict):
        return f"{where} must be a text object"
    kind = obj.get("type")
    if kind not in TEXT_TYPES or (plain_only and kind != "plain_text"):
        allowed = "plain_text" if plain_only else "plain_text or mrkdwn"
        return f"{where}.type must be {allowed}"
    text = obj.get("text")
    if not isinstance(text, str) or not text:
        return f"{where}.text must be a non-empty string"
    if len(text) > limit:
        return f"{where}.text must be at most {limit} characters (got {len(text)})"
    return None


def _element_problem(element: Any, where: str) -> str | None:
    if not isinstance(element, dict) or not isinstance(element.get("type"), str):
        return f"{where} must be an object with a type"
    action_id = element.get("action_id")
    if action_id is not None and (not isinstance(action_id, str) or len(action_id) > MAX_ACTION_ID):
        return f"{where}.action_id must be a string of at most {MAX_ACTION_ID} characters"
    if element["type"] == "button":
        problem = _text_problem(
            element.get("text"), f"{where}.text", MAX_BUTTON_TEXT, plain_only=True
        )
        if problem:
            return problem
        value = element.get("value")
        if value is not None and (not isinstance(value, str) or len(value) > MAX_BUTTON_VALUE):
            return f"{where}.value must be a string of at most {MAX_BUTTON_VALUE} characters"
    return None


def _block_problem(block: Any, where: str) -> str | None:
    if not isinstance(block, dict):
        return f"{where} must be an object"
    kind = block.get("type")
    if kind not in KNOWN_BLOCK_TYPES:
        return f"{where}.type {kind!r} is not a known block type"
    block_id = block.get("block_id")
    if block_id is not None and (not isinstance(block_id, str) or len(block_id) > MAX_BLOCK_ID):
        return f"{where}.block_id must be a string of at most {MAX_BLOCK_ID} characters"
    if kind == "section":
        text, fields = block.get("text"), block.get("fields")
        if text is None and not fields:
            return f"{where} needs text or fields"
        if text is not None and (problem := _text_problem(text, f"{where}.text", MAX_SECTION_TEXT)):
            return problem
        if fields is not None:
            if not isinstance(fields, list) or len(fields) > MAX_SECTION_FIELDS:
                return f"{where}.fields must be a list of at most {MAX_SECTION_FIELDS} items"
            for i, field in enumerate(fields):
                if problem := _text_problem(field, f"{where}.fields[{i}]", MAX_SECTION_FIELD_TEXT):
                    return problem
        if "accessory" in block:
            return _element_problem(block["accessory"], f"{where}.accessory")
    elif kind == "header":
        return _text_problem(block.get("text"), f"{where}.text", MAX_HEADER_TEXT, plain_only=True)
    elif kind in ("actions", "context"):
        limit = MAX_ACTIONS_ELEMENTS if kind == "actions" else MAX_CONTEXT_ELEMENTS
        elements = block.get("elements")
        if not isinstance(elements, list) or not elements:
            return f"{where}.elements must be a non-empty list"
        if len(elements) > limit:
            return f"{where}.elements must have at most {limit} items (got {len(elements)})"
        if kind == "actions":
            for i, element in enumerate(elements):
                if problem := _element_problem(element, f"{where}.elements[{i}]"):
                    return problem
    elif kind == "input":
        if problem := _text_problem(block.get("label"), f"{where}.label", 2000, plain_only=True):
            return problem
        return _element_problem(block.get("element"), f"{where}.element")
    return None


def blocks_problem(blocks: Any, *, max_blocks: int = MAX_MESSAGE_BLOCKS) -> str | None:
    """Return why ``blocks`` would be rejected with ``invalid_blocks``, or None."""
    if not isinstance(blocks, list):
        return "blocks must be a list"
    if len(blocks) > max_blocks:
        return f"no more than {max_blocks} items allowed (got {len(blocks)})"
    seen_ids: set[str] = set()
    for i, block in enumerate(blocks):
        if problem := _block_problem(block, f"blocks[{i}]"):
            return problem
        block_id = block.get("block_id")
        if isinstance(block_id, str):
            if block_id in seen_ids:
                return f"blocks[{i}].block_id {block_id!r} is not unique"
            seen_ids.add(block_id)
    return None


def view_problem(view: Any) -> tuple[str, str] | None:
    """Return ``(error_code, description)`` for an unacceptable view, or None."""
    if not isinstance(view, dict):
        return "invalid_arguments", "view must be an object"
    kind = view.get("type")
    if kind not in ("modal", "home"):
        return "invalid_arguments", f"view.type must be modal or home (got {kind!r})"
    if kind == "modal":
        title = _text_problem(view.get("title"), "view.title", MAX_VIEW_TITLE, plain_only=True)
        if title:
            return "invalid_arguments", title
        for key in ("submit", "close"):
            if key in view and (
                problem := _text_problem(view[key], f"view.{key}", MAX_VIEW_TITLE, plain_only=True)
            ):
                return "invalid_arguments", problem
    metadata = view.get("private_metadata")
    if metadata is not None and (
        not isinstance(metadata, str) or len(metadata) > MAX_PRIVATE_METADATA
    ):
        return "invalid_arguments", f"view.private_metadata must be <= {MAX_PRIVATE_METADATA} chars"
    callback_id = view.get("callback_id")
    if callback_id is not None and (
        not isinstance(callback_id, str) or len(callback_id) > MAX_CALLBACK_ID
    ):
        return "invalid_arguments", f"view.callback_id must be <= {MAX_CALLBACK_ID} chars"
    problem = blocks_problem(view.get("blocks"), max_blocks=MAX_VIEW_BLOCKS)
    if problem:
        return "invalid_blocks", problem
    return None
