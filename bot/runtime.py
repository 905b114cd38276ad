"""What a command-line task needs from the wired bot: settings, clock and units of work.

``app.Bot`` has these (and more); code under ``bot/`` names this narrow view instead of
importing the composition root.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

from bot.clock import Clock
from bot.settings import Settings
from storage.uow import UnitOfWork


class Runtime(Protocol):
    @property
    def settings(self) -> Settings: ...

    @property
    def clock(self) -> Clock: ...

    @property
    def uow_factory(self) -> Callable[[], UnitOfWork]: ...
