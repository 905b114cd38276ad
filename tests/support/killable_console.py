"""The real console bot (``app.main console --echo``) with test-only hooks for
tests/test_kill_year.py, chosen by environment variables:

* ``KILL_YEAR_AT=n``: SIGKILL itself at the n-th database operation (before a statement, or
  right after a commit); at exit it prints ``«points N»`` (how many there were) to stderr;
* ``KILL_YEAR_BEFORE_ANSWER=line``: SIGKILL when that input line's command has committed and
  before its answer is printed;
* ``KILL_YEAR_AFTER_SEND=prefix``: SIGKILL right after the first outbox row whose key starts so
  was sent, before it is recorded as sent.

After each successful outbox send it prints ``«sent KEY»`` (right after the platform call, with
no database operation in between, so a kill cannot separate the two).
"""

from __future__ import annotations

import atexit
import os
import signal
import sys
from collections.abc import Mapping
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

import handlers.console as console
from app import main
from bot.context import Reply, Request
from bot.messenger import Messenger
from bot.outbox import send as delivery
from storage.models import OutboxMessage

KILL_AT = int(os.environ.get("KILL_YEAR_AT") or "0")
LOST_ANSWER = os.environ.get("KILL_YEAR_BEFORE_ANSWER", "")
AFTER_SEND = os.environ.get("KILL_YEAR_AFTER_SEND", "")
points = 0


def die() -> None:
    os.kill(os.getpid(), signal.SIGKILL)


def tick(*_args: Any) -> None:
    global points
    points += 1
    if points == KILL_AT:
        die()


original_attempt = delivery.attempt


def attempt(
    row: OutboxMessage,
    messenger: Messenger,
    renderers: Mapping[str, delivery.Renderer] | None = None,
) -> delivery.Outcome:
    outcome = original_attempt(row, messenger, renderers)
    if outcome.error is None:
        sys.stdout.write(f"«sent {row.idempotency_key}»\n")
        if AFTER_SEND and row.idempotency_key.startswith(AFTER_SEND):
            die()  # sent, but not yet recorded as sent
    return outcome


original_command = console.ConsoleBackend._command


def command(self: console.ConsoleBackend, user: str, channel: str | None, rest: str) -> None:
    handle = self.handle

    def killing(request: Request) -> list[Reply]:
        replies = handle(request)  # committed
        if f"@{user} {rest}" == LOST_ANSWER:
            die()  # before the answer is printed
        return replies

    self.handle = killing
    try:
        original_command(self, user, channel, rest)
    finally:
        self.handle = handle


if __name__ == "__main__":
    event.listen(Engine, "before_cursor_execute", tick)
    event.listen(Session, "after_commit", tick)
    delivery.attempt = attempt
    if LOST_ANSWER:
        console.ConsoleBackend._command = command  # type: ignore[method-assign]
    atexit.register(lambda: sys.stderr.write(f"«points {points}»\n"))
    raise SystemExit(main(["console", "--echo"]))
