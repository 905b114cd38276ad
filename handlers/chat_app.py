"""Runs the configured chat backends (Slack, Matrix) in one process."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from bot.settings import Settings


class ChatBackendUnavailable(Exception):
    pass


def run_chat(settings: Settings, build_bot: Callable[..., Any], backends: list[str]) -> int:
    from app import StartupError

    raise StartupError(
        f"The chat backend(s) {', '.join(backends)} are not available in this version yet; "
        "unset SLACK_BOT_TOKEN / MATRIX_HOMESERVER to use the console backend."
    )
