"""Which incoming events the bot acts on, as pure functions over the event JSON."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from handlers.matrix.render import strip_reply_fallback

COMMAND_PREFIX = "!stadtlabor"
# Events this much older than the bot's start are never answered, even outside catch-up.
START_TOLERANCE_MS = 5 * 60 * 1000


@dataclass(frozen=True)
class Incoming:
    """A text the dispatcher should see."""

    room_id: str
    event_id: str
    sender: str
    text: str
    is_direct: bool
    thread_root: str | None  # the thread the message was typed in, if any


def is_command(text: str) -> bool:
    stripped = text.lstrip().casefold()
    return stripped == COMMAND_PREFIX or stripped.startswith(
        (COMMAND_PREFIX + " ", COMMAND_PREFIX + "\n")
    )


def thread_root_of(content: dict[str, Any]) -> str | None:
    relates = content.get("m.relates_to")
    if isinstance(relates, dict) and relates.get("rel_type") == "m.thread":
        root = relates.get("event_id")
        return root if isinstance(root, str) else None
    return None


def incoming_text(
    room_id: str, source: dict[str, Any], *, own_user: str, is_direct: bool, started_ms: int
) -> Incoming | None:
    """The text to dispatch, or None: own messages, edits, notices, non-commands in rooms,
    and anything from (well) before start-up are ignored."""
    sender = source.get("sender")
    content = source.get("content")
    if not isinstance(sender, str) or not isinstance(content, dict) or sender == own_user:
        return None
    if int(source.get("origin_server_ts") or 0) < started_ms - START_TOLERANCE_MS:
        return None
    if content.get("msgtype") != "m.text" or "m.new_content" in content:
        return None
    relates = content.get("m.relates_to")
    if isinstance(relates, dict) and relates.get("rel_type") == "m.replace":
        return None
    body = content.get("body")
    if not isinstance(body, str):
        return None
    text = strip_reply_fallback(body) if _is_reply(content) else body
    if not is_direct and not is_command(text):
        return None
    return Incoming(
        room_id=room_id,
        event_id=str(source.get("event_id", "")),
        sender=sender,
        text=text,
        is_direct=is_direct,
        thread_root=thread_root_of(content),
    )


def _is_reply(content: dict[str, Any]) -> bool:
    relates = content.get("m.relates_to")
    return isinstance(relates, dict) and "m.in_reply_to" in relates


@dataclass(frozen=True)
class UploadedFile:
    """An ``m.file`` a person sent: where to fetch it, and its key if the room is encrypted."""

    mxc: str
    filename: str
    size: int | None
    encryption: dict[str, Any] | None  # the event's ``file`` object (key, iv, hashes)


def uploaded_file(source: dict[str, Any], *, sender: str, since_ms: int) -> UploadedFile | None:
    """The file of an ``m.file`` event by ``sender`` sent at or after ``since_ms``, else None."""
    content = source.get("content")
    if source.get("sender") != sender or not isinstance(content, dict):
        return None
    if int(source.get("origin_server_ts") or 0) < since_ms or content.get("msgtype") != "m.file":
        return None
    encrypted = content.get("file") if isinstance(content.get("file"), dict) else None
    mxc = (encrypted or content).get("url")
    if not isinstance(mxc, str) or not mxc.startswith("mxc://"):
        return None
    info = content.get("info")
    size = info.get("size") if isinstance(info, dict) else None
    name = content.get("filename") or content.get("body") or "datei"
    return UploadedFile(mxc, str(name), size if isinstance(size, int) else None, encrypted)
