"""The one flush loop of a process: sends due outbox rows every ``interval`` seconds, and soon
after a kick (an adapter kicks after each request that may have enqueued something).

Kicks are coalesced: after a flush the next one waits at least ``min_gap`` seconds, so under
load (every request kicks) the outbox is scanned about ten times a second, not once per
request, and what the requests queued in between goes out in one flush. The console, whose
clock is simulated, calls :meth:`OutboxFlusher.flush_now` after each input line instead of
starting the thread.

``app.py`` builds one flusher over the process's :class:`~bot.outbox.sender.OutboxSender`;
each chat adapter :meth:`attaches <OutboxFlusher.attach>` the Messenger it runs (the thread
starts with the first) and detaches it when it stops.
"""

from __future__ import annotations

import logging
import threading

from bot.messenger import Messenger
from bot.outbox.sender import OutboxSender

log = logging.getLogger("bot.outbox")


class OutboxFlusher:
    def __init__(self, sender: OutboxSender, interval: float = 0.5, min_gap: float = 0.1) -> None:
        self.sender = sender
        sender.wake = self.kick  # rows a hand-over left behind go out with the next flush
        self.interval = interval
        self._min_gap = min_gap
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    # --- the adapters' side ------------------------------------------------------------------

    def attach(self, messenger: Messenger, *, interval: float | None = None) -> None:
        """Deliver ``messenger.platform``'s rows through ``messenger``; starts the loop."""
        if interval is not None:
            self.interval = interval
        self.sender.attach(messenger)
        self.start()
        self.kick()

    def detach(self, platform: str) -> None:
        """The adapter stops: no more sends through its Messenger (a running flush is waited
        for); the loop stops with the last platform."""
        self.sender.detach(platform)
        if not self.sender.platforms:
            self.stop()

    def kick(self) -> None:
        """Flush soon (coalesced with other kicks)."""
        self._wake.set()

    def flush_now(self) -> int:
        """One flush in the calling thread (the console, after each input line)."""
        return self.sender.flush()

    # --- the loop ------------------------------------------------------------------------------

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def start(self) -> None:
        with self._lock:
            if self.running:
                return
            self._stop = threading.Event()
            self._thread = threading.Thread(
                target=self._loop, args=(self._stop,), name="outbox-flusher", daemon=True
            )
            self._thread.start()

    def stop(self) -> None:
        with self._lock:
            thread, self._thread = self._thread, None
            self._stop.set()
            self._wake.set()
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout=10)

    def _loop(self, stop: threading.Event) -> None:
        while not stop.is_set():
            self._wake.wait(self.interval)
            self._wake.clear()
            if stop.is_set():
                break
            try:
                self.sender.flush()
            except Exception:  # never let the flusher die; the rows stay pending
                log.exception("outbox flush failed")
            stop.wait(self._min_gap)  # kicks meanwhile leave _wake set: one flush
