"""E-mail: a delivery channel of the outbox (docs/email.md)."""

from bot.notifications import MailRecipient
from handlers.email.compose import MAX_BYTES, MailTooLarge, message_id
from handlers.email.messenger import EmailMessenger, from_settings

__all__ = [
    "MAX_BYTES",
    "EmailMessenger",
    "MailRecipient",
    "MailTooLarge",
    "from_settings",
    "message_id",
]
