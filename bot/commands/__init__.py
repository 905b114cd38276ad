"""Text commands, one module per feature area.

Each feature module has ``register(registry)`` for its commands and forms, and may have
``register_due(handlers)`` for the kinds of scheduled work it creates.
"""

from __future__ import annotations

from bot.commands import (
    agenda,
    attendance,
    cohort,
    feedback,
    general,
    linking,
    meetings,
    notifications,
    organisation,
    overview,
    participants,
    polls,
    privacy,
    registration,
    reminders,
    topics,
    web,
)
from bot.commands.registry import CommandRegistry
from bot.networking import commands as networking
from bot.scheduling.due import DueHandlers

FEATURES = (
    general,
    cohort,
    organisation,
    registration,
    participants,
    privacy,
    notifications,
    linking,
    reminders,
    polls,
    topics,
    meetings,
    agenda,
    attendance,
    feedback,
    overview,
    networking,
    web,
)


def build_registry() -> CommandRegistry:
    registry = CommandRegistry()
    for feature in FEATURES:
        feature.register(registry)
    return registry


def build_due_handlers() -> DueHandlers:
    handlers = DueHandlers()
    for feature in FEATURES:
        register_due = getattr(feature, "register_due", None)
        if register_due is not None:
            register_due(handlers)
    return handlers
