"""Neutral views → Block Kit (through ``slack_sdk.models``), escaped and split to Slack's limits.

Every user-visible text from a view is PLAIN text. Texts that land in ``mrkdwn`` go through
:func:`escape` (``&``, ``<``, ``>``), so ``<!channel>`` or ``<@U…>`` typed by a user is shown,
never parsed as a mention. Headers and buttons use ``plain_text`` objects (never parsed).

A message longer than one Slack message (50 blocks) becomes several pages.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    ContextBlock,
    HeaderBlock,
    MarkdownTextObject,
    PlainTextObject,
    SectionBlock,
)
from slack_sdk.models.views import View

from bot.actions import encode
from bot.views import Actions, Bullets, Button, Header, Message, Note, Section

MAX_BLOCKS = 50
MAX_HOME_BLOCKS = 100
MAX_SECTION_TEXT = 3000
MAX_HEADER_TEXT = 150
MAX_BUTTON_TEXT = 75
MAX_BUTTON_VALUE = 2000
MAX_ACTION_ELEMENTS = 25
MAX_FALLBACK_TEXT = 3000
# A button's action_id: "act:<kind>:<index>" (unique in the message); its value is the typed
# action (bot.actions.encode). Buttons posted before typed actions had "cmd:<index>" and
# command text: a click on one is refused as outdated.
ACTION_PREFIX = "act:"
LEGACY_PREFIX = "cmd:"


def escape(text: str) -> str:
    """Make plain text safe for mrkdwn: no mentions, links or channel broadcasts."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def truncate(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


@dataclass(frozen=True)
class SlackPage:
    """One Slack message: Block Kit blocks (as dicts) and the notification text."""

    blocks: list[dict[str, Any]]
    text: str


def chunk_lines(lines: list[str], limit: int = MAX_SECTION_TEXT) -> Iterator[str]:
    """Join lines into texts of at most ``limit`` characters; split overlong lines hard."""
    current = ""
    for line in lines:
        for piece in _hard_split(line, limit):
            candidate = f"{current}\n{piece}" if current else piece
            if len(candidate) <= limit:
                current = candidate
                continue
            if current:
                yield current
            current = piece
    if current:
        yield current


def _hard_split(line: str, limit: int) -> list[str]:
    """Cut an overlong line into pieces of at most ``limit``, never inside ``&amp;``."""
    pieces: list[str] = []
    while len(line) > limit:
        cut = limit
        amp = line.rfind("&", limit - 5, limit)
        if amp > 0 and ";" not in line[amp:limit]:
            cut = amp
        pieces.append(line[:cut])
        line = line[cut:]
    pieces.append(line)
    return pieces


def _escaped_lines(lines: list[str]) -> list[str]:
    # Escaping can make a line longer (& → &amp;); chunk after escaping so limits hold.
    return [escape(line) for line in lines]


def _sections(lines: list[str]) -> list[Block]:
    return [SectionBlock(text=MarkdownTextObject(text=text)) for text in chunk_lines(lines)]


def _section(block: Section) -> list[Block]:
    lines = _escaped_lines(list(block.lines))
    if block.label:
        label = f"*{escape(block.label)}*"
        if block.label_alone:
            lines = [label, *lines]
        else:
            lines = [f"{label} {lines[0]}" if lines else label, *lines[1:]]
    return _sections(lines)


def _note(block: Note) -> list[Block]:
    return [
        ContextBlock(elements=[MarkdownTextObject(text=text)])
        for text in chunk_lines(_escaped_lines(block.text.splitlines() or [""]))
    ]


def button_element(button: Button, index: int) -> ButtonElement:
    """A click sends back the button's typed action (``value``, at most 2000 characters)."""
    return ButtonElement(
        text=PlainTextObject(text=truncate(button.label, MAX_BUTTON_TEXT), emoji=False),
        action_id=f"{ACTION_PREFIX}{button.action.kind}:{index}",
        value=encode(button.action),  # raises if it could not fit: never a cut payload
        style=button.style,
    )


def to_blocks(message: Message) -> list[Block]:
    """All blocks of ``message`` (possibly more than one Slack message can hold)."""
    blocks: list[Block] = []
    button_index = 0
    for block in message.blocks:
        if isinstance(block, Header):
            text = truncate(block.text.strip() or "…", MAX_HEADER_TEXT)
            blocks.append(HeaderBlock(text=PlainTextObject(text=text, emoji=False)))
        elif isinstance(block, Section):
            blocks.extend(_section(block))
        elif isinstance(block, Bullets):
            blocks.extend(_sections([f"• {escape(item)}" for item in block.items]))
        elif isinstance(block, Note):
            blocks.extend(_note(block))
        elif isinstance(block, Actions):
            buttons = list(block.buttons)
            for start in range(0, len(buttons), MAX_ACTION_ELEMENTS):
                group = buttons[start : start + MAX_ACTION_ELEMENTS]
                elements = [button_element(b, button_index + i) for i, b in enumerate(group)]
                button_index += len(group)
                blocks.append(ActionsBlock(elements=elements))
    return blocks


def fallback_text(message: Message) -> str:
    """The notification text (mrkdwn, so escaped too)."""
    text = message.fallback or message.plain_text().split("\n", 1)[0]
    return escape(truncate(text.strip() or "Stadtlabor", MAX_FALLBACK_TEXT))


def render_pages(message: Message, max_blocks: int = MAX_BLOCKS) -> list[SlackPage]:
    """``message`` as one or more Slack messages of at most ``max_blocks`` blocks each."""
    blocks = [b.to_dict() for b in to_blocks(message)]  # to_dict() validates the limits
    text = fallback_text(message)
    if not blocks:
        return [SlackPage([], text)]
    pages = [blocks[i : i + max_blocks] for i in range(0, len(blocks), max_blocks)]
    return [SlackPage(page, text) for page in pages]


def render_one(message: Message) -> SlackPage:
    """A single message (for chat.update): the first page, with a hint if content was cut."""
    pages = render_pages(message, MAX_BLOCKS)
    if len(pages) == 1:
        return pages[0]
    first = pages[0]
    cut = ContextBlock(elements=[MarkdownTextObject(text="…")]).to_dict()
    return SlackPage([*first.blocks[: MAX_BLOCKS - 1], cut], first.text)


def home_view(message: Message) -> dict[str, Any]:
    """The App Home tab for ``message`` (100 blocks at most; a cut ends with "…")."""
    blocks = [b.to_dict() for b in to_blocks(message)]
    if len(blocks) > MAX_HOME_BLOCKS:
        cut = ContextBlock(elements=[MarkdownTextObject(text="…")]).to_dict()
        blocks = [*blocks[: MAX_HOME_BLOCKS - 1], cut]
    view: dict[str, Any] = View(type="home", blocks=blocks).to_dict()
    return view
