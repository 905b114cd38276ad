"""What a command knows about its caller and where it was typed."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal
from zoneinfo import ZoneInfo

from bot.identity import Identity
from bot.settings import Settings
from bot.views import Form, Message
from storage.models import Cohort, Person
from storage.uow import UnitOfWork

Role = Literal["organiser", "host", "participant", "waitlisted", "outsider"]
ROLES: tuple[Role, ...] = ("organiser", "host", "participant", "waitlisted", "outsider")


@dataclass(frozen=True)
class Conversation:
    """A channel/room (``is_direct`` False) or a direct conversation with the bot."""

    platform: str
    channel_id: str | None
    is_direct: bool = False
    thread_id: str | None = None


@dataclass(frozen=True)
class Attachment:
    """A file the caller uploaded in the conversation (platform-neutral: name and bytes)."""

    filename: str
    content: bytes


# Fetches the caller's file only when a command needs one (``import teilnehmende``): the file
# sent with the message, or the caller's last upload in this conversation. May raise
# UserFacingError (too large, expired); None when there is no file.
AttachmentSource = Callable[[], Attachment | None]


@dataclass(frozen=True)
class Request:
    identity: Identity
    conversation: Conversation
    text: str
    display_name: str | None = None
    handle: str | None = None
    # Slack can open a modal for this request (it carries a trigger_id).
    can_open_forms: bool = False
    attachment: AttachmentSource | None = None


@dataclass(frozen=True)
class Reply:
    """The direct answer to a request. ``private`` answers never go into the shared room."""

    message: Message | None = None
    private: bool = True
    form: Form | None = None


@dataclass
class CommandContext:
    request: Request
    uow: UnitOfWork
    person: Person
    cohort: Cohort | None
    role: Role
    language: str
    translate: Callable[[str], str]
    now: datetime
    tz: ZoneInfo
    settings: Settings
    default_language: str = "de"
    args: list[str] = field(default_factory=list)
    options: dict[str, str] = field(default_factory=dict)
    # A command that publishes to the cohort runs for real only once confirmed (bot/confirm.py).
    confirmed: bool = False
    # With ``ja``: the digest of the preview the author saw (None with ``sofort``).
    previewed: str | None = None

    def _(self, msgid: str, **params: object) -> str:
        """Translate a German message id for the caller and fill its placeholders."""
        text = self.translate(msgid)
        return text.format(**params) if params else text
