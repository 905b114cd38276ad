"""Encrypted messages that arrive before their room key.

Megolm room keys travel as to-device messages, a stream separate from the room timeline, so a
command can reach the bot one sync before the key that opens it (seen with Synapse under load).
Such events are held here — bounded in number and time — and decrypted again as soon as a room
key arrives and once a second; the key request goes out at once. Only an event that is still
unreadable after ``grace`` seconds is given up, and its sender is told once per megolm session
to send it again. So a late key costs a second, not a lost command.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from nio import AsyncClient, Event, MegolmEvent
from nio.exceptions import EncryptionError

log = logging.getLogger(__name__)
GRACE_SECONDS = 8.0
LIMIT = 200


@dataclass
class Held:
    room_id: str
    event: MegolmEvent
    since: float


@dataclass(frozen=True)
class Outcome:
    """What one pass produced: events that could now be read, and events given up."""

    decrypted: list[tuple[str, Event]]
    given_up: list[Held]


class LateKeys:
    def __init__(
        self,
        client: AsyncClient,
        *,
        grace: float = GRACE_SECONDS,
        limit: int = LIMIT,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.client = client
        self.grace = grace
        self.limit = limit
        self.clock = clock
        self._held: dict[str, Held] = {}  # by event id, oldest first
        self._key_arrived = asyncio.Event()

    def __len__(self) -> int:
        return len(self._held)

    def hold(self, room_id: str, event: MegolmEvent) -> bool:
        """Keep ``event`` for another try; False when it is already held."""
        if event.event_id in self._held:
            return False
        if len(self._held) >= self.limit:  # bounded: the oldest is given up at the next try
            for old in self._held.values():
                if old.since != float("-inf"):
                    old.since = float("-inf")
                    break
        self._held[event.event_id] = Held(room_id, event, self.clock())
        return True

    async def arrived(self, _event: object) -> None:
        """To-device callback for room keys: try the held events now."""
        self._key_arrived.set()

    async def run(
        self,
        readable: Callable[[str, Event], Awaitable[None]],
        given_up: Callable[[Held], Awaitable[None]],
    ) -> None:
        """Retry held events whenever a room key arrives, and once a second."""
        while True:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._key_arrived.wait(), 1.0)
            self._key_arrived.clear()
            if not self._held:
                continue
            outcome = self.retry()
            for room_id, event in outcome.decrypted:
                await readable(room_id, event)
            for held in outcome.given_up:
                await given_up(held)

    def retry(self) -> Outcome:
        """Try every held event again; hand back those readable now and those given up."""
        decrypted: list[tuple[str, Event]] = []
        given_up: list[Held] = []
        now = self.clock()
        for event_id, held in list(self._held.items()):
            readable = self._decrypt(held)
            if readable is not None:
                del self._held[event_id]
                decrypted.append((held.room_id, readable))
            elif now - held.since >= self.grace:
                del self._held[event_id]
                given_up.append(held)
        return Outcome(decrypted, given_up)

    def _decrypt(self, held: Held) -> Event | None:
        if self.client.olm is None:
            return None
        held.event.room_id = held.room_id
        try:
            event = self.client.decrypt_event(held.event)
        except EncryptionError:
            return None
        except Exception:  # a corrupt payload stays unreadable; the grace period ends it
            log.debug("decrypting a held event failed", exc_info=True)
            return None
        return None if isinstance(event, MegolmEvent) else event
