"""The console backend: talk to the bot from a terminal, or script a whole year through stdin.

Input lines:
  ``hilfe`` (or ``/stadtlabor hilfe``)             a command in the channel, by the current person
  ``@anna hilfe``                                  by console:anna, who is the current person now
  ``@anna``                                        switch to anna without a command
  ``@anna #andere hilfe``                          a command in another console channel
  ``dm: <text>`` / ``@anna dm: <text>``            a direct message to the bot
  ``!clock +2d`` / ``!clock +3h`` / ``!clock 2026-12-01T09:00`` / ``!clock``
  empty lines and lines starting with ``#`` are ignored.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TextIO
from zoneinfo import ZoneInfo

from bot.clock import SimulatedClock
from bot.context import Conversation, Reply, Request
from bot.identity import Identity
from bot.messenger import MessageRef
from bot.views import Message

DEFAULT_CHANNEL = "stadtlabor"
_LINE = re.compile(
    r"^@(?P<user>[\w.-]{1,64})\s*(?:#(?P<channel>[\w.-]{1,64})\s*)?(?P<rest>.*)$", re.S
)
_DURATION = re.compile(r"^\+(\d{1,6})\s*([smhdw])$")


@dataclass
class ConsoleMessenger:
    """Prints each message as one block: ``[#channel]``, ``[thread N]`` or ``[dm @user]``."""

    out: TextIO
    platform: str = "console"
    next_id: Callable[[], str] = field(default=lambda: "0")

    def _block(self, header: str, message: Message) -> None:
        self.out.write(f"{header}\n{message.plain_text()}\n\n")
        self.out.flush()

    def post(
        self, channel_id: str, message: Message, thread: MessageRef | None = None
    ) -> MessageRef:
        ref = MessageRef(
            "console", channel_id, self.next_id(), thread.message_id if thread else None
        )
        header = f"[thread {thread.message_id}]" if thread else f"[#{channel_id}]"
        self._block(f"{header} (#{ref.message_id})" if not thread else header, message)
        return ref

    def send_dm(self, user: Identity, message: Message) -> MessageRef:
        self._block(f"[dm @{user.external_id}]", message)
        return MessageRef("console", f"dm:{user.external_id}", self.next_id())

    def send_private(self, user: Identity, channel_id: str | None, message: Message) -> None:
        self._block(f"[dm @{user.external_id}]", message)

    def open_group(self, users: list[Identity], message: Message, key: str) -> MessageRef:
        """A conversation of the bot with ``users``: ``[group @anna @ben]``."""
        names = " ".join(f"@{u.external_id}" for u in users)
        self._block(f"[group {names}]", message)
        return MessageRef("console", "group:" + ",".join(u.external_id for u in users), key)

    def update(self, ref: MessageRef, message: Message) -> None:
        self._block(f"[#{ref.channel_id}] (#{ref.message_id} bearbeitet/edited)", message)

    def delete(self, ref: MessageRef) -> None:
        self.out.write(f"[#{ref.channel_id}] (#{ref.message_id} gelöscht/deleted)\n\n")

    def send_file(
        self, user: Identity, filename: str, content: bytes, comment: Message | None = None
    ) -> MessageRef:
        text = comment.plain_text() + "\n" if comment else ""
        body = content.decode("utf-8", errors="replace")
        self.out.write(
            f"[dm @{user.external_id}] {text}--- {filename} ---\n{body}\n--- end ---\n\n"
        )
        return MessageRef("console", f"dm:{user.external_id}", self.next_id())


@dataclass
class ConsoleBackend:
    handle: Callable[[Request], list[Reply]]
    after_input: Callable[[], None]  # flush the outbox
    run_due: Callable[[datetime], int]
    clock: SimulatedClock
    messenger: ConsoleMessenger
    tz: ZoneInfo
    out: TextIO = sys.stdout
    echo: bool = False  # print each input line first (readable transcripts of scripts)
    persona: str = "ich"  # who a line without @name comes from; @name switches

    def run(self, lines: Iterable[str]) -> int:
        for raw in lines:
            self.feed(raw.rstrip("\n"))
        return 0

    def feed(self, line: str) -> None:
        stripped = line.strip()
        if self.echo and stripped:
            self.out.write(f"{stripped}\n" if stripped.startswith("#") else f"» {stripped}\n")
        if not stripped or stripped.startswith("#"):
            return
        if stripped.lower().startswith("!clock"):
            self._clock(stripped[6:].strip())
        else:
            match = _LINE.match(stripped)
            if match is None:  # no @name: the person who wrote last
                self._command(self.persona, None, stripped)
            else:
                self.persona = match.group("user")
                if not match.group("rest").strip():
                    self.out.write(
                        f"Sie schreiben jetzt als @{self.persona}. "
                        f"(You are now writing as @{self.persona}.)\n\n"
                    )
                    return
                self._command(self.persona, match.group("channel"), match.group("rest"))
        self.after_input()

    def _command(self, user: str, channel: str | None, rest: str) -> None:
        identity = Identity("console", user)
        is_dm = rest[:3].lower() == "dm:"
        text = rest[3:].strip() if is_dm else rest
        conversation = Conversation(
            platform="console",
            channel_id=None if is_dm else (channel or DEFAULT_CHANNEL),
            is_direct=is_dm,
        )
        request = Request(identity=identity, conversation=conversation, text=text, handle=user)
        for reply in self.handle(request):
            if reply.form is not None or reply.message is None:
                continue
            if reply.private or is_dm:
                self.messenger.send_private(identity, conversation.channel_id, reply.message)
            else:
                self.messenger.post(conversation.channel_id or DEFAULT_CHANNEL, reply.message)

    def _clock(self, arg: str) -> None:
        try:
            if arg:
                match = _DURATION.match(arg.replace(" ", ""))
                if match:
                    amount, unit = int(match.group(1)), match.group(2)
                    self.clock.advance(timedelta(**{_UNITS[unit]: amount}))
                else:
                    moment = datetime.fromisoformat(arg)
                    if moment.tzinfo is None:
                        moment = moment.replace(tzinfo=self.tz)
                    if moment < self.clock.now():
                        current = self.clock.now().astimezone(self.tz)
                        self.out.write(
                            f"!clock: {arg[:40]} liegt vor der simulierten Zeit "
                            f"({current.isoformat(timespec='minutes')}); die Uhr läuft nur "
                            "vorwärts. Nichts geändert.\n\n"
                        )
                        return
                    self.clock.set(moment)
        except (ValueError, OverflowError):
            # the typed text, not Python's exception text, and what works instead
            example = (self.clock.now().astimezone(self.tz) + timedelta(days=1)).replace(
                hour=9, minute=0, second=0, microsecond=0
            )
            self.out.write(
                f"!clock: „{arg[:40]}“ verstehe ich nicht. Vorspulen mit +N und s, m, h, d "
                "oder w (z. B. !clock +30s, !clock +3h, !clock +2d) oder eine Zeit setzen "
                f"(!clock {example.strftime('%Y-%m-%dT%H:%M')}).\n\n"
            )
            return
        now = self.clock.now().astimezone(self.tz)
        self.out.write(f"[clock] {now.isoformat(timespec='minutes')}\n\n")
        self.run_due(self.clock.now())


_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days", "w": "weeks"}
