"""The Messenger port: everything the bot sends goes through it; each platform implements it.

``RecordingMessenger`` is the fake for tests: it keeps a transcript and answers with refs.
"""

from __future__ import annotations

import itertools
import threading
from dataclasses import dataclass, field
from typing import Protocol

from bot.identity import Identity
from bot.views import Message


@dataclass(frozen=True)
class MessageRef:
    """Where a posted message lives, so that it can be edited, deleted or threaded."""

    platform: str
    channel_id: str
    message_id: str
    thread_id: str | None = None


class Messenger(Protocol):
    platform: str

    def post(
        self, channel_id: str, message: Message, thread: MessageRef | None = None
    ) -> MessageRef:
        """Post to a channel/room, or as a reply in ``thread``."""
        ...

    def send_dm(self, user: Identity, message: Message) -> MessageRef:
        """Direct message to a person (one direct conversation per person, reused)."""
        ...

    def send_private(self, user: Identity, channel_id: str | None, message: Message) -> None:
        """An answer only ``user`` sees (Slack: ephemeral; Matrix and console: DM)."""
        ...

    def update(self, ref: MessageRef, message: Message) -> None: ...

    def delete(self, ref: MessageRef) -> None: ...

    def send_file(
        self, user: Identity, filename: str, content: bytes, comment: Message | None = None
    ) -> MessageRef:
        """Send a file (CSV, ICS, JSON export) to a person privately."""
        ...


class GroupMessenger(Protocol):
    """A platform that can open a new conversation with several people and the bot (Slack: a
    group DM via ``conversations.open``; Matrix: a new private room; console: a printed block).
    ``key`` is the outbox row's: a retried delivery reuses the conversation it opened."""

    platform: str

    def open_group(self, users: list[Identity], message: Message, key: str) -> MessageRef:
        """Open (or, for the same ``key``, reuse) the conversation and post ``message``."""
        ...


def can_open_groups(messenger: object) -> bool:
    return callable(getattr(messenger, "open_group", None))


@dataclass(frozen=True)
class Sent:
    kind: str  # post | thread | dm | private | update | delete | file | group
    target: str
    text: str
    ref: MessageRef | None = None
    filename: str | None = None
    content: bytes | None = None


@dataclass
class RecordingMessenger:
    """A Messenger that records what it was asked to send (a transcript for tests)."""

    platform: str = "console"
    transcript: list[Sent] = field(default_factory=list)
    _ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1))
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def _ref(self, channel: str, thread: str | None = None) -> MessageRef:
        with self._lock:
            return MessageRef(self.platform, channel, str(next(self._ids)), thread)

    def _record(self, entry: Sent) -> None:
        with self._lock:
            self.transcript.append(entry)

    def post(
        self, channel_id: str, message: Message, thread: MessageRef | None = None
    ) -> MessageRef:
        ref = self._ref(channel_id, thread.message_id if thread else None)
        kind = "thread" if thread else "post"
        self._record(Sent(kind, channel_id, message.plain_text(), ref))
        return ref

    def send_dm(self, user: Identity, message: Message) -> MessageRef:
        ref = self._ref(f"dm:{user}")
        self._record(Sent("dm", str(user), message.plain_text(), ref))
        return ref

    def send_private(self, user: Identity, channel_id: str | None, message: Message) -> None:
        self._record(Sent("private", str(user), message.plain_text()))

    def update(self, ref: MessageRef, message: Message) -> None:
        self._record(Sent("update", ref.channel_id, message.plain_text(), ref))

    def delete(self, ref: MessageRef) -> None:
        self._record(Sent("delete", ref.channel_id, "", ref))

    def send_file(
        self, user: Identity, filename: str, content: bytes, comment: Message | None = None
    ) -> MessageRef:
        ref = self._ref(f"dm:{user}")
        text = comment.plain_text() if comment else ""
        self._record(Sent("file", str(user), text, ref, filename, content))
        return ref

    def open_group(self, users: list[Identity], message: Message, key: str) -> MessageRef:
        ref = self._ref(f"group:{key}")
        target = " ".join(str(u) for u in users)
        self._record(Sent("group", target, message.plain_text(), ref))
        return ref

    def texts(self, kind: str | None = None) -> list[str]:
        return [s.text for s in self.transcript if kind is None or s.kind == kind]
