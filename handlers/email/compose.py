"""One mail as an :class:`email.message.EmailMessage` (``policy.SMTP``): headers, the text and
HTML parts, an iTIP invitation or a file, and the ``Message-ID`` derived from the outbox key.

Header values are built from :class:`email.headerregistry.Address` objects and cleaned of line
breaks before they are set (a subject or name with ``\\r\\n`` stays one header line), and
``policy.SMTP`` refuses anything that would still fold into a new header.
"""

from __future__ import annotations

import hashlib
import mimetypes
import re
from dataclasses import dataclass
from datetime import datetime
from email import policy
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid

from bot.delivery_errors import PermanentDeliveryError
from handlers.email.render import RenderedMail, one_line

MAX_BYTES = 1_000_000  # the whole mail as sent (the "> 1 MB refused")
_METHOD = re.compile(rb"^METHOD:([A-Z-]+)\r?$", re.MULTILINE)


class MailTooLarge(PermanentDeliveryError):
    """The mail would be larger than :data:`MAX_BYTES`; no server is asked."""


class ComposedMail(EmailMessage):
    """A finished mail and its bytes as sent (``wire``): serialised once, for the size check
    and for the SMTP DATA (``send_message`` would serialise it a second time)."""

    wire: bytes = b""


def message_id(key: str, sender: Address) -> str:
    """``<sha256(key)[:32]@sender-domain>``: the same outbox row always gets the same id, so a
    mail resent after a crash is recognisable (and dropped by servers and clients that
    deduplicate by Message-ID)."""
    digest = hashlib.sha256(key.encode("utf-8")).hexdigest()[:32]
    return f"<{digest}@{sender.domain}>"


@dataclass(frozen=True)
class Attachment:
    filename: str
    content: bytes


def compose(
    rendered: RenderedMail,
    *,
    sender: Address,
    recipient: Address,
    language: str,
    now: datetime,
    key: str | None = None,
    reply_to: Address | None = None,
    attachment: Attachment | None = None,
) -> ComposedMail:
    mail = ComposedMail(policy=policy.SMTP)
    mail["From"] = _clean(sender)
    mail["To"] = _clean(recipient)
    if reply_to is not None:
        mail["Reply-To"] = _clean(reply_to)
    mail["Subject"] = one_line(rendered.subject)
    mail["Date"] = format_datetime(now)
    mail["Message-ID"] = (
        message_id(key, sender) if key else make_msgid("stadtlabor", domain=sender.domain)
    )
    mail["Auto-Submitted"] = "auto-generated"  # RFC 3834: no out-of-office replies, please
    mail.set_content(rendered.text, subtype="plain", charset="utf-8", cte="quoted-printable")
    mail.add_alternative(rendered.html, subtype="html", charset="utf-8", cte="quoted-printable")
    if attachment is not None:
        _attach(mail, attachment)
    mail["Content-Language"] = language  # after the parts: set_content drops Content-* headers
    mail.wire = mail.as_bytes()
    size = len(mail.wire)
    if size > MAX_BYTES:
        raise MailTooLarge(
            f"mail to {recipient.addr_spec} is {size} bytes, more than the limit of {MAX_BYTES}",
            recipient=recipient.addr_spec,
        )
    return mail


def _clean(address: Address) -> Address:
    """The display name on one line (addresses were validated and hold no whitespace)."""
    for part in (address.username, address.domain):
        if any(ch.isspace() for ch in part):
            raise PermanentDeliveryError(
                f"'{address.addr_spec!r}' is not a valid address", recipient=address.addr_spec
            )
    return Address(one_line(address.display_name), address.username, address.domain)


def _attach(mail: EmailMessage, attachment: Attachment) -> None:
    name = one_line(attachment.filename).replace('"', "") or "anhang"
    method = _METHOD.search(attachment.content) if name.lower().endswith(".ics") else None
    if method is not None:
        # An iTIP invitation: Outlook, Thunderbird and Apple Mail look for a text/calendar
        # alternative with the method; the same file as an attachment serves everyone else.
        verb = method.group(1).decode("ascii")
        calendar = attachment.content.decode("utf-8")
        mail.add_alternative(calendar, subtype="calendar", charset="utf-8", params={"method": verb})
        mail.add_attachment(
            attachment.content,
            maintype="application",
            subtype="ics",
            filename=name,
        )
        return
    guessed, _ = mimetypes.guess_type(name)
    maintype, _, subtype = (guessed or "application/octet-stream").partition("/")
    if maintype == "text":
        mail.add_attachment(
            attachment.content.decode("utf-8", errors="replace"),
            subtype=subtype,
            charset="utf-8",
            filename=name,
        )
    else:
        mail.add_attachment(attachment.content, maintype=maintype, subtype=subtype, filename=name)
