"""How a Messenger says that a send failed, so the outbox knows whether to try again.

Any other exception from a Messenger is retried with back-off (the outbox's default);
:class:`bot.outbox.pacing.RateLimited` reschedules without counting an attempt.
"""

from __future__ import annotations


class TransientDeliveryError(Exception):
    """Worth retrying later: a connection error, a timeout, an SMTP 4xx (421, 451, 452)."""


class PermanentDeliveryError(Exception):
    """Retrying cannot help (an SMTP 5xx such as 550 "no such mailbox", a mail over the size
    limit, an operation the channel does not have): the outbox marks the row ``failed`` and the
    organisers' digest names ``recipient``."""

    def __init__(self, message: str, *, recipient: str | None = None) -> None:
        super().__init__(message)
        self.recipient = recipient
