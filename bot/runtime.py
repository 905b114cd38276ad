"""What the adapters and command-line tasks need from the wired bot.

``app.Bot`` has these (and more); code under ``bot/`` and ``handlers/`` names these narrow
views instead of importing the composition root (dependencies point inward).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Protocol

from bot.clock import Clock
from bot.settings import Settings
from storage.uow import UnitOfWork

if TYPE_CHECKING:
    from bot.dispatcher import Dispatcher
    from bot.outbox.flusher import OutboxFlusher


class Runtime(Protocol):
    @property
    def settings(self) -> Settings: ...

    @property
    def clock(self) -> Clock: ...

    @property
    def uow_factory(self) -> Callable[[], UnitOfWork]: ...


class StartupError(Exception):
    """Start-up cannot continue; the message is one line for the operator."""


class ChatRuntime(Runtime, Protocol):
    """What a chat adapter needs: the above, the dispatcher, and the process's outbox flusher
    (the adapter attaches the Messenger it runs and kicks the flusher after a request)."""

    @property
    def dispatcher(self) -> Dispatcher: ...

    @property
    def flusher(self) -> OutboxFlusher: ...
