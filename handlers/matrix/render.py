"""Views → Matrix event content: ``org.matrix.custom.html`` plus a plain-text body.

Every text from a view is plain and may contain user input, so it is HTML-escaped, and
``@room`` is broken with a WORD JOINER so that nobody gets a room-wide notification.
``m.mentions: {}`` tells clients that the bot mentions nobody on purpose.
"""

from __future__ import annotations

import html
import re
from typing import Any

from bot.router import PREFIXES
from bot.views import Actions, Bullets, Header, Message, Note, Section

MSGTYPE = "m.notice"  # bots answer with notices: other bots must not react to them
PREFIX = "!stadtlabor"
_ROOM_MENTION = re.compile(r"@(room)\b", re.IGNORECASE)
_HINT = {"de": "Antworten Sie mit", "en": "Reply with"}


def neutralise(text: str) -> str:
    """Break ``@room`` so that it cannot notify a whole room."""
    return _ROOM_MENTION.sub("@\u2060\\1", text)


def _esc(text: str) -> str:
    return html.escape(neutralise(text), quote=False)


def command_hint(command: str) -> str:
    """What a Matrix user types instead of clicking a button."""
    stripped = command.strip()
    if stripped.casefold().startswith(PREFIXES):
        return stripped
    return f"{PREFIX} {stripped}"


def to_html(message: Message, language: str = "de") -> tuple[str, str]:
    """``(plain body, HTML)`` for a message."""
    plain: list[str] = []
    parts: list[str] = []
    for block in message.blocks:
        if isinstance(block, Header):
            plain.append(neutralise(block.text))
            parts.append(f"<h4>{_esc(block.text)}</h4>")
        elif isinstance(block, Section):
            lines = [_esc(line) for line in block.lines]
            texts = [neutralise(line) for line in block.lines]
            if block.label:
                label = neutralise(block.label)
                lead = f"<strong>{_esc(block.label)}</strong>"
                if block.label_alone:
                    lines, texts = [lead, *lines], [label, *texts]
                else:
                    lines = [f"{lead}: {lines[0]}" if lines else lead, *lines[1:]]
                    texts = [f"{label}: {texts[0]}" if texts else label, *texts[1:]]
            plain.extend(texts)
            parts.append("<p>" + "<br>".join(lines) + "</p>")
        elif isinstance(block, Bullets):
            plain.extend(f"• {neutralise(item)}" for item in block.items)
            parts.append("<ul>" + "".join(f"<li>{_esc(i)}</li>" for i in block.items) + "</ul>")
        elif isinstance(block, Note):
            plain.append(neutralise(block.text))
            parts.append(f"<p><em>{_esc(block.text)}</em></p>")
        elif isinstance(block, Actions):
            hint = _HINT.get(language, _HINT["de"])
            for button in block.buttons:
                if button.command:
                    cmd = command_hint(button.command)
                    plain.append(f"{neutralise(button.label)} — {hint}: {neutralise(cmd)}")
                    parts.append(f"<p>{_esc(button.label)} — {hint}: <code>{_esc(cmd)}</code></p>")
    return "\n".join(plain), "".join(parts)


def content(message: Message, language: str = "de") -> dict[str, Any]:
    """A complete ``m.room.message`` content for a message."""
    body, formatted = to_html(message, language)
    return {
        "msgtype": MSGTYPE,
        "body": body or neutralise(message.fallback),
        "format": "org.matrix.custom.html",
        "formatted_body": formatted or _esc(message.fallback),
        "m.mentions": {},
    }


def in_thread(base: dict[str, Any], root_id: str, reply_to: str) -> dict[str, Any]:
    """Put content into the thread under ``root_id``; clients without threads see a reply to
    ``reply_to`` (the spec's reply fallback: ``m.in_reply_to`` with ``is_falling_back``)."""
    return {
        **base,
        "m.relates_to": {
            "rel_type": "m.thread",
            "event_id": root_id,
            "is_falling_back": True,
            "m.in_reply_to": {"event_id": reply_to},
        },
    }


def edit(base: dict[str, Any], original_id: str) -> dict[str, Any]:
    """An ``m.replace`` edit of ``original_id`` with the new content ``base``."""
    new = {k: v for k, v in base.items() if k != "m.relates_to"}
    return {
        "msgtype": base["msgtype"],
        "body": "* " + base["body"],
        "format": "org.matrix.custom.html",
        "formatted_body": "* " + base["formatted_body"],
        "m.mentions": {},
        "m.new_content": new,
        "m.relates_to": {"rel_type": "m.replace", "event_id": original_id},
    }


def strip_reply_fallback(body: str) -> str:
    """Drop the quoted ``> …`` lines that older clients put in front of a reply."""
    if not body.startswith("> "):
        return body
    lines = body.split("\n")
    while lines and lines[0].startswith(">"):
        lines.pop(0)
    if lines and not lines[0].strip():
        lines.pop(0)
    return "\n".join(lines)
