"""``EmailMessenger``: the Messenger of platform ``email`` (identities ``email:<address>``).

It sends direct messages and files as mails over SMTP (smtplib; STARTTLS or SMTPS) and refuses
what a mail cannot do (channel posts, edits, deletions). Failures say whether to retry:

* connection errors, timeouts, TLS failures and SMTP 4xx (421, 450, 451, 452) raise
  :class:`TransientDeliveryError` — the outbox retries with back-off;
* SMTP 5xx (550 no such mailbox, 552/554 refused) and mails over 1 MB raise
  :class:`PermanentDeliveryError` — the outbox marks the row failed;
* a full minute for the recipient's domain raises :class:`RateLimited` — the outbox
  reschedules the row.

``deduplicates = True``: the outbox passes the row key, and the ``Message-ID`` is derived from
it, so a resent mail carries the same id (docs/email.md). ``resend_after_crash = False``: a
mail whose send a crash cut (the server may have accepted its DATA) is not sent again; its row
becomes ``uncertain`` and the organisers' digest names the address, as for a Slack post.
"""

from __future__ import annotations

import smtplib
import ssl
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.headerregistry import Address
from email.message import EmailMessage
from typing import TYPE_CHECKING, TextIO

from bot.delivery_errors import PermanentDeliveryError, TransientDeliveryError
from bot.identity import Identity
from bot.mail_address import LOCAL_SENDER, ascii_address, domain_of, mailbox
from bot.messenger import MessageRef
from bot.notifications import MailRecipient
from bot.outbox.pacing import RateLimited
from bot.smtp import SmtpServer
from bot.views import Button, Message
from handlers.email.compose import Attachment, compose
from handlers.email.pacing import DomainPacer
from handlers.email.render import one_line, render

if TYPE_CHECKING:
    from bot.settings import Settings

PLATFORM = "email"
MAX_IDLE = 4  # connections kept open between mails (one per outbox lane at most)
IDLE_SECONDS = 20.0  # well below the usual server idle timeouts (Postfix: 300 s)
RecipientLookup = Callable[[str], MailRecipient]
LinkMaker = Callable[[Identity, Button], str | None]


@dataclass
class EmailMessenger:
    server: SmtpServer | None  # None: mails go to ``transport`` (the console prints them)
    sender: Address
    reply_to: Address | None = None
    per_minute: int = 60
    default_language: str = "de"
    #: who an address belongs to (language, name, why they get mail); see
    #: bot.notifications.describe_recipient. None: the default language, a generic footer.
    recipient: RecipientLookup | None = None
    #: the one-time link for a button in a mail to a person (the web app); None: commands
    links: LinkMaker | None = None
    ssl_context: ssl.SSLContext | None = None
    now: Callable[[], datetime] = field(default=lambda: datetime.now(UTC))
    pacer: DomainPacer | None = None
    local_hostname: str | None = None
    #: instead of SMTP: called with each finished mail and its envelope recipient
    transport: Callable[[EmailMessage, str], None] | None = None

    platform: str = PLATFORM
    deduplicates: bool = True
    #: a mail cut by a crash (the server may have taken it) is not resent: ``uncertain``,
    #: named in the organisers' digest (bot.outbox.sender.resends_cut_sends)
    resend_after_crash: bool = False
    keyed_files: bool = True  # send_file takes the row key too (an invitation's Message-ID)
    pace_seconds: float = 0.0  # no per-recipient pacing: per-domain pacing is done here

    connections_opened: int = 0

    def __post_init__(self) -> None:
        if self.pacer is None:
            self.pacer = DomainPacer(self.per_minute)
        self._pool_lock = threading.Lock()
        self._idle: list[tuple[smtplib.SMTP, float]] = []

    # --- the Messenger protocol ------------------------------------------------------------

    def send_dm(self, user: Identity, message: Message, key: str | None = None) -> MessageRef:
        return self._send(user, message, key, None)

    def send_private(self, user: Identity, channel_id: str | None, message: Message) -> None:
        self._send(user, message, None, None)

    def send_file(
        self,
        user: Identity,
        filename: str,
        content: bytes,
        comment: Message | None = None,
        key: str | None = None,
    ) -> MessageRef:
        body = comment or Message.text(filename)
        return self._send(user, body, key, Attachment(filename, content))

    def post(
        self, channel_id: str, message: Message, thread: MessageRef | None = None, **_: object
    ) -> MessageRef:
        raise PermanentDeliveryError(
            f"e-mail has no channels: cannot post to {channel_id!r}; send a DM to email:ADDRESS"
        )

    def update(self, ref: MessageRef, message: Message) -> None:
        raise PermanentDeliveryError("a sent e-mail cannot be edited; send a new one")

    def delete(self, ref: MessageRef) -> None:
        raise PermanentDeliveryError("a sent e-mail cannot be deleted")

    # --- building and sending --------------------------------------------------------------

    def build(
        self,
        user: Identity,
        message: Message,
        key: str | None = None,
        attachment: Attachment | None = None,
    ) -> EmailMessage:
        """The mail that :meth:`send_dm`/:meth:`send_file` would send (also for the console)."""
        address = self._address(user)
        info = self.recipient(address) if self.recipient else None
        if info is None:
            info = MailRecipient(self.default_language)
        links = self.links

        def link_for(button: Button) -> str | None:
            return links(user, button) if links is not None else None

        rendered = render(message, info, link_for)
        local, _, domain = ascii_address(address).rpartition("@")
        return compose(
            rendered,
            sender=self.sender,
            recipient=Address(one_line(info.name or ""), local, domain),
            language=info.language,
            now=self.now(),
            key=key,
            reply_to=self.reply_to,
            attachment=attachment,
        )

    def _address(self, user: Identity) -> str:
        if user.platform != PLATFORM:
            raise PermanentDeliveryError(f"{user} is not an e-mail identity (email:ADDRESS)")
        try:
            ascii_address(user.external_id)
        except ValueError:
            raise PermanentDeliveryError(
                f"{user.external_id!r} is not a valid e-mail address", recipient=user.external_id
            ) from None
        return user.external_id

    def _send(
        self, user: Identity, message: Message, key: str | None, attachment: Attachment | None
    ) -> MessageRef:
        mail = self.build(user, message, key, attachment)  # refuses bad input before pacing
        address = user.external_id
        domain = domain_of(address)
        assert self.pacer is not None
        wait = self.pacer.take(domain)
        if wait is not None:
            raise RateLimited(wait, f"{self.per_minute} mails per minute to {domain} reached")
        try:
            self._deliver(mail, ascii_address(address))
        except (TransientDeliveryError, PermanentDeliveryError):
            self.pacer.give_back(domain)
            raise
        return MessageRef(PLATFORM, address, str(mail["Message-ID"]))

    def _deliver(self, mail: EmailMessage, to: str) -> None:
        if self.transport is not None:
            self.transport(mail, to)
            return
        server = self.server
        assert server is not None, "an EmailMessenger needs an SMTP server or a transport"
        sender = self.sender.addr_spec
        smtp: smtplib.SMTP | None = None
        try:
            smtp = self._acquire()
            wire = getattr(mail, "wire", b"")  # a ComposedMail: serialised once, in compose
            if wire:
                refused = smtp.sendmail(sender, [to], wire)
            else:
                refused = smtp.send_message(mail, from_addr=sender, to_addrs=[to])
        except smtplib.SMTPRecipientsRefused as exc:
            _close(smtp)
            code, reply = next(iter(exc.recipients.values()), (0, b""))
            raise _by_code(code, reply, to) from None
        except smtplib.SMTPAuthenticationError as exc:  # the operator must fix the settings
            _close(smtp)
            raise TransientDeliveryError(
                f"SMTP login to {server.host} refused ({exc.smtp_code}): check STADTLABOR_SMTP_URL"
            ) from None
        except smtplib.SMTPResponseException as exc:
            _close(smtp)
            raise _by_code(exc.smtp_code, exc.smtp_error, to) from None
        except smtplib.SMTPNotSupportedError as exc:  # no STARTTLS or no AUTH offered
            _close(smtp)
            raise TransientDeliveryError(
                f"SMTP {server.host}:{server.port}: {exc}; check STADTLABOR_SMTP_URL"
            ) from None
        except (smtplib.SMTPException, OSError) as exc:  # disconnects, timeouts, refused, TLS
            _close(smtp)
            raise TransientDeliveryError(
                f"SMTP {server.host}:{server.port} unreachable: {type(exc).__name__}: {exc}"
            ) from None
        self._release(smtp)
        if refused:
            code, reply = next(iter(refused.values()))
            raise _by_code(code, reply, to)

    # --- connections: opened on demand, kept a little while for the next mail -------------

    def _acquire(self) -> smtplib.SMTP:
        """An idle connection that still answers RSET, else a new one."""
        while True:
            with self._pool_lock:
                if not self._idle:
                    break
                smtp, since = self._idle.pop()
            if time.monotonic() - since > IDLE_SECONDS:
                _close(smtp, polite=True)
                continue
            try:
                smtp.rset()  # nothing of this mail was sent yet: a dead connection is harmless
            except (smtplib.SMTPException, OSError):
                _close(smtp)
                continue
            return smtp
        return self._connect()

    def _release(self, smtp: smtplib.SMTP) -> None:
        with self._pool_lock:
            if len(self._idle) < MAX_IDLE:
                self._idle.append((smtp, time.monotonic()))
                return
        _close(smtp, polite=True)

    def close(self) -> None:
        """Say goodbye to the idle connections (at shutdown)."""
        with self._pool_lock:
            idle, self._idle = self._idle, []
        for smtp, _since in idle:
            _close(smtp, polite=True)

    def _connect(self) -> smtplib.SMTP:
        server = self.server
        assert server is not None
        context = self.ssl_context or ssl.create_default_context()
        smtp: smtplib.SMTP
        if server.tls:
            smtp = smtplib.SMTP_SSL(
                server.host,
                server.port,
                local_hostname=self.local_hostname,
                timeout=server.timeout,
                context=context,
            )
        else:
            smtp = smtplib.SMTP(
                server.host,
                server.port,
                local_hostname=self.local_hostname,
                timeout=server.timeout,
            )
        try:
            if server.starttls:
                smtp.starttls(context=context)
            if server.user:
                smtp.login(server.user, server.password or "")
        except BaseException:
            _close(smtp)
            raise
        self.connections_opened += 1
        return smtp


def _close(smtp: smtplib.SMTP | None, polite: bool = False) -> None:
    if smtp is None:
        return
    try:
        if polite:
            smtp.quit()
        else:
            smtp.close()
    except (smtplib.SMTPException, OSError):
        smtp.close()


def _by_code(code: int, reply: bytes | str, to: str) -> Exception:
    text = reply.decode("utf-8", "replace") if isinstance(reply, bytes) else str(reply)
    message = f"SMTP {code} for {to}: {' '.join(text.split())}"
    if 500 <= code < 600:
        return PermanentDeliveryError(message, recipient=to)
    return TransientDeliveryError(message)


def from_settings(
    settings: Settings,
    *,
    recipient: RecipientLookup | None = None,
    links: LinkMaker | None = None,
    now: Callable[[], datetime] | None = None,
    print_to: TextIO | None = None,
) -> EmailMessenger | None:
    """The composition root's one call for the ``email`` platform.

    With ``STADTLABOR_SMTP_URL``: a messenger sending over SMTP. Without it: with ``print_to``
    (``make run``, the console) a messenger that prints every mail there, headed
    ``[mail to …]``, so the whole flow can be tried locally; else None (no e-mail channel).
    """
    server = settings.smtp
    if server is None and print_to is None:
        return None
    sender = settings.mail_sender or mailbox(LOCAL_SENDER)
    messenger = EmailMessenger(
        server=server,
        sender=sender,
        reply_to=settings.mail_reply_address,
        per_minute=settings.mail_per_minute,
        default_language=settings.language,
        recipient=recipient,
        links=links,
        transport=printer(print_to) if server is None and print_to is not None else None,
    )
    if now is not None:
        messenger.now = now
    return messenger


def printer(stream: TextIO) -> Callable[[EmailMessage, str], None]:
    """A transport that prints the mail's subject, text part and attachments to ``stream``."""
    lock = threading.Lock()

    def show(mail: EmailMessage, to: str) -> None:
        body = mail.get_body(preferencelist=("plain",))
        text = body.get_content() if isinstance(body, EmailMessage) else ""
        files = [str(p.get_filename()) for p in mail.iter_attachments()]
        lines = [f"[mail to {mail['To']}] {mail['Subject']}", text.replace("\r\n", "\n").rstrip()]
        lines += [f"[attachment: {name}]" for name in files]
        with lock:
            stream.write("\n".join(lines) + "\n\n")  # a blank line after it, like a DM
            stream.flush()

    return show
