"""Wires the console backend: simulated clock and message ids kept in the database."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterable
from datetime import datetime
from typing import Any, TextIO

from bot.clock import SimulatedClock
from bot.settings import Settings
from handlers.console import ConsoleBackend, ConsoleMessenger

CLOCK_KEY = "console:clock"
MESSAGE_KEY = "console:last_message_id"
BANNER = (
    "Stadtlabor-Bot – Konsole. Sie schreiben als @{persona}; „hilfe“ zeigt die Befehle.\n"
    "Als andere Person: „@anna hilfe“ (danach schreiben Sie als @anna). Direktnachricht an den "
    "Bot: „dm: …“. Zeit vorspulen: „!clock +1d“. Ende mit Strg-D.\n\n"
)


def start_console(
    settings: Settings,
    build_bot: Callable[..., Any],
    lines: Iterable[str] | None = None,
    out: TextIO | None = None,
    echo: bool = False,
) -> int:
    out = out or sys.stdout
    clock = SimulatedClock()
    bot = build_bot(settings, clock, bootstrap_organiser=not settings.organizers, mail_out=out)

    with bot.uow_factory() as uow:
        stored = uow.state.get(CLOCK_KEY)
    if stored:
        # A second run continues where the first stopped: simulated time never goes back.
        clock.set(max(clock.now(), datetime.fromisoformat(stored)))

    def next_id() -> str:
        with bot.uow_factory() as uow:
            value = int(uow.state.get(MESSAGE_KEY) or "0") + 1
            uow.state.put(MESSAGE_KEY, str(value))
            uow.commit()
        return str(value)

    def run_due(now: datetime) -> int:
        with bot.uow_factory() as uow:
            uow.state.put(CLOCK_KEY, now.isoformat())
            uow.commit()
        return int(bot.due.run_due(now))  # the scheduler's executor, as the engine runs it

    # Lines without @name come from the first console organiser of the settings, else "ich"
    # (who becomes the organiser by creating the first cohort when none is configured).
    persona = next(
        (o.external_id for o in settings.organizer_identities if o.platform == "console"), "ich"
    )
    messenger = ConsoleMessenger(out, next_id=next_id)
    bot.outbox.attach(messenger)  # the process's sender; flushed after each line, no thread
    backend = ConsoleBackend(
        handle=bot.dispatcher.handle,
        after_input=lambda: bot.flusher.flush_now(),
        run_due=run_due,
        clock=clock,
        messenger=messenger,
        tz=settings.tz,
        out=out,
        echo=echo,
        persona=persona,
    )
    if lines is None:
        if sys.stdin.isatty():
            out.write(BANNER.format(persona=persona))
        lines = sys.stdin
    try:
        return backend.run(lines)
    finally:
        bot.close()
