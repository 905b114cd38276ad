"""The outbox: every message that is not a direct answer is a row first, then sent.

One home for delivery, whatever the platform:

* :mod:`bot.outbox.enqueue` — services add rows inside their own transaction (a committed
  change always has its messages, a rolled-back one has none);
* :mod:`bot.outbox.pacing` — the one rate limiter per platform, in the database: the pace per
  channel and the platform's ``Retry-After`` (:class:`RateLimited`);
* :mod:`bot.outbox.send` — one send of one row through a Messenger, and its recorded outcome;
* :mod:`bot.outbox.sender` — :class:`OutboxSender`: claims and sends due rows (the flusher's
  way), or hands a reminder's rows over right after their commit (the scheduler's way);
* :mod:`bot.outbox.flusher` — :class:`OutboxFlusher`: the one flush loop of a process.

Adapters only provide a :class:`bot.messenger.Messenger` (with its capabilities
``concurrent_sends``, ``deduplicates`` and ``pace_seconds``); ``app.py`` wires the rest.
"""

from bot.outbox.enqueue import NEW_ROWS, dm_person, enqueue, mail_participants, post_to_cohort
from bot.outbox.flusher import OutboxFlusher
from bot.outbox.pacing import RateLimited
from bot.outbox.sender import LEASE, MAX_ATTEMPTS, OutboxSender

__all__ = [
    "LEASE",
    "MAX_ATTEMPTS",
    "NEW_ROWS",
    "OutboxFlusher",
    "OutboxSender",
    "RateLimited",
    "dm_person",
    "enqueue",
    "mail_participants",
    "post_to_cohort",
]
