"""Run the Matrix bot until SIGINT/SIGTERM: ``run_matrix(bot)`` (blocking)."""

from __future__ import annotations

import asyncio
import contextlib
import signal

from bot.runtime import ChatRuntime, Runtime, StartupError
from handlers.matrix.bot import MatrixBot
from handlers.matrix.config import MatrixConfig, MatrixConfigError
from handlers.matrix.session import MatrixLoginError


def load_config(bot: Runtime) -> MatrixConfig:
    """MATRIX_* from the environment; the crypto store defaults to next to the database."""
    try:
        return MatrixConfig.from_env(
            database_url=bot.settings.database_url,
            development=bot.settings.env == "development",
        )
    except MatrixConfigError as exc:
        raise StartupError(str(exc)) from exc


def run_matrix(bot: ChatRuntime) -> int:
    return asyncio.run(serve(bot, load_config(bot)))


async def serve(bot: ChatRuntime, config: MatrixConfig, stop: asyncio.Event | None = None) -> int:
    """Start, wait for ``stop`` (or a signal), stop cleanly."""
    stop = stop or asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(sig, stop.set)
    matrix = MatrixBot(bot, config)
    try:
        await matrix.start()
    except MatrixLoginError as exc:
        await matrix.stop()
        raise StartupError(str(exc)) from exc
    try:
        await stop.wait()
    finally:
        await matrix.stop()
    return 0
