"""Text commands, one module per feature area; each module has ``register(registry)``."""

from __future__ import annotations

from bot.commands import cohort, general, participants, privacy, registration
from bot.commands.registry import CommandRegistry

FEATURES = (general, cohort, registration, participants, privacy)


def build_registry() -> CommandRegistry:
    registry = CommandRegistry()
    for feature in FEATURES:
        feature.register(registry)
    return registry
