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
    organisation,
    overview,
    participants,
    polls,
    privacy,
    registration,
    reminders,
    topics,
)
from bot.commands.registry import CommandRegistry
from bot.networking import commands as networking
from bot.permissions import markdown_table
from bot.reminders import DueHandlers

FEATURES = (
    general,
    cohort,
    organisation,
    registration,
    participants,
    privacy,
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


def update_readme(path: str) -> bool:
    """Rewrite the permission table between the README's markers with the rows of the
    commands registered here (``make docs``); True if it changed."""
    keys = sorted({spec.key for spec in build_registry().specs})
    with open(path, encoding="utf-8") as handle:
        text = handle.read()
    start = text.index("<!-- permissions:start")
    start = text.index("\n", start) + 1
    end = text.index("<!-- permissions:end -->")
    new = text[:start] + markdown_table(keys) + "\n" + text[end:]
    if new != text:
        with open(path, "w", encoding="utf-8") as handle:
            handle.write(new)
    return new != text
