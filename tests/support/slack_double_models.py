"""Data types and fixed identities of the Slack Web API double."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

BOT_USER_ID = "UBOT"
BOT_ID = "B0BOT"
TEAM_ID = "T0001"
TEAM_NAME = "Stadtlabor Test"
APP_ID = "A0APP"
_CHANNEL_RE = re.compile(r"^[CDGU][A-Z0-9]+$")
_USER_RE = re.compile(r"^[UW][A-Z0-9]+$")


class ApiError(Exception):
    """A Slack API error answer: ``{"ok": false, "error": code}`` (HTTP 200)."""

    def __init__(self, code: str, *messages: str) -> None:
        super().__init__(code, *messages)
        self.code = code
        self.messages = list(messages)


@dataclass(frozen=True)
class SlackUser:
    """An entry of the double's user directory (answered by ``users.info``)."""

    id: str
    real_name: str
    display_name: str = ""
    tz: str = "Europe/Berlin"
    locale: str = "de-DE"
    email: str | None = None
    is_bot: bool = False
    deleted: bool = False

    def to_api(self, *, include_locale: bool = False) -> dict[str, Any]:
        offset = datetime.now(ZoneInfo(self.tz)).utcoffset()
        profile: dict[str, Any] = {
            "real_name": self.real_name,
            "real_name_normalized": self.real_name,
            "display_name": self.display_name,
            "display_name_normalized": self.display_name,
        }
        if self.email is not None:
            profile["email"] = self.email
        user: dict[str, Any] = {
            "id": self.id,
            "team_id": TEAM_ID,
            "name": (self.display_name or self.real_name).lower().replace(" ", "."),
            "deleted": self.deleted,
            "real_name": self.real_name,
            "tz": self.tz,
            "tz_label": self.tz,
            "tz_offset": int(offset.total_seconds()) if offset is not None else 0,
            "is_bot": self.is_bot,
            "is_admin": False,
            "profile": profile,
        }
        if include_locale:
            user["locale"] = self.locale
        return user


@dataclass
class PostedMessage:
    """Current state of a message the bot posted (updated in place, deleted flagged)."""

    channel: str
    ts: str
    text: str
    blocks: list[Any] | None = None
    attachments: list[Any] | None = None
    thread_ts: str | None = None
    files: list[dict[str, Any]] = field(default_factory=list)
    metadata: dict[str, Any] | None = None
    edits: int = 0
    deleted: bool = False

    def to_api(self) -> dict[str, Any]:
        message: dict[str, Any] = {
            "type": "message",
            "user": BOT_USER_ID,
            "bot_id": BOT_ID,
            "app_id": APP_ID,
            "team": TEAM_ID,
            "text": self.text,
            "ts": self.ts,
        }
        for key in ("blocks", "attachments", "thread_ts", "metadata"):
            if getattr(self, key) is not None:
                message[key] = getattr(self, key)
        if self.files:
            message["files"] = self.files
        if self.edits:
            message["edited"] = {"user": BOT_USER_ID, "ts": self.ts}
        return message


@dataclass
class UploadedFile:
    """A file created by ``files.getUploadURLExternal`` (content filled by the upload)."""

    id: str
    filename: str
    length: int
    content: bytes | None = None
    title: str | None = None
    channel: str | None = None
    initial_comment: str | None = None
    thread_ts: str | None = None
    completed: bool = False
    user: str | None = None  # None: the bot uploaded it; else a person's upload
    created: int = 0
