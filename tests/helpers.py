"""Test helpers: drive the bot like a user would, through requests or console lines."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from app import Bot
from bot.context import Conversation, Request
from bot.identity import Identity
from bot.messenger import RecordingMessenger
from bot.settings import Settings
from handlers.console import DEFAULT_CHANNEL


def request(user: str, text: str, *, dm: bool = False, channel: str = DEFAULT_CHANNEL) -> Request:
    return Request(
        identity=Identity("console", user),
        conversation=Conversation("console", None if dm else channel, is_direct=dm),
        text=text,
        handle=user,
    )


@dataclass
class Driver:
    """Sends commands as console users; answers and outbox deliveries land in ``messenger``."""

    bot: Bot
    messenger: RecordingMessenger = field(default_factory=RecordingMessenger)

    def say(self, user: str, text: str, *, dm: bool = False, channel: str = DEFAULT_CHANNEL) -> str:
        replies = self.bot.dispatcher.handle(request(user, text, dm=dm, channel=channel))
        self.flush()
        return "\n".join(r.message.plain_text() for r in replies if r.message)

    def flush(self) -> int:
        return self.bot.sender({"console": self.messenger}).flush()


def make_settings(db_url: str, **overrides: object) -> Settings:
    """Settings for tests: no .env file, everything explicit. The profile question after
    registration is off unless asked for, so that other features' DM transcripts stay theirs."""
    values: dict[str, object] = {
        "database_url": db_url,
        "_env_file": None,
        "profile_question": False,
    }
    values.update(overrides)
    return Settings(**values)  # type: ignore[arg-type]


def signup(user: str, **extra: str) -> str:
    """A complete one-line registration for console user ``user``."""
    fields = {
        "name": f'"{user.title()} Muster"',
        "kommune": f'"{user.title()}stadt"',
        "funktion": "Bürgermeisterin",
        "email": f"{user}@example.org",
        "zustimmung": "ja",
    }
    fields.update(extra)
    return "anmelden " + " ".join(f"{k}={v}" for k, v in fields.items())


def wait_for(check: Callable[[], Any], timeout: float = 20.0, what: str = "condition") -> Any:
    """Poll ``check`` until it returns something truthy (the bot answers after its ack, from
    other threads); return that value. Generous by default: it returns as soon as met, and CI
    machines are slower than ours."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(0.02)
    raise AssertionError(f"{what} not met within {timeout}s")


def block_texts(blocks: list[dict[str, Any]]) -> str:
    """The visible text of Slack blocks (sections, context elements, buttons), one per line."""
    out: list[str] = []
    for block in blocks:
        for obj in [block.get("text"), *(block.get("elements") or [])]:
            if isinstance(obj, dict) and isinstance(obj.get("text"), str):
                out.append(obj["text"])
            elif isinstance(obj, dict) and isinstance(obj.get("text"), dict):
                out.append(obj["text"]["text"])
    return "\n".join(out)
