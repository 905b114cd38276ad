"""Per-domain pacing: at most ``per_minute`` mails to one recipient domain in any 60 seconds.

The messenger does not sleep: when a domain's minute is full it raises
:class:`bot.outbox.pacing.RateLimited` with the seconds until a slot frees, and the outbox
reschedules the row (without counting an attempt). The window lives in this process; two bot
instances sending to one domain share the server's patience between them (docs/email.md).
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable

WINDOW = 60.0


class DomainPacer:
    def __init__(self, per_minute: int, clock: Callable[[], float] = time.monotonic) -> None:
        if per_minute < 1:
            raise ValueError("per_minute must be at least 1")
        self.per_minute = per_minute
        self._clock = clock
        self._sent: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def take(self, domain: str) -> float | None:
        """Reserve a slot for one mail to ``domain``: None, or the seconds to wait first."""
        with self._lock:
            now = self._clock()
            sent = self._sent.setdefault(domain, deque())
            while sent and sent[0] <= now - WINDOW:
                sent.popleft()
            if len(sent) >= self.per_minute:
                return max(sent[0] + WINDOW - now, 0.001)
            sent.append(now)
            return None

    def give_back(self, domain: str) -> None:
        """The mail was not sent (the server refused before accepting it): free its slot."""
        with self._lock:
            sent = self._sent.get(domain)
            if sent:
                sent.pop()
