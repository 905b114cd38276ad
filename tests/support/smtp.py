"""A real SMTP server for the tests: aiosmtpd in a thread on 127.0.0.1, on a free port.

It records every mail it accepted (the raw bytes, envelope sender and recipients) and can be
told to misbehave: answer a 4xx (421, 451) or 5xx (550) for the next N mails, or refuse one
address for good. With ``tls="starttls"`` or ``tls="smtps"`` it serves a self-signed
certificate made for the test (``cryptography``); :attr:`SmtpServerDouble.client_context` trusts
exactly that certificate. With ``user``/``password`` it requires AUTH LOGIN/PLAIN.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import socket
import ssl
import tempfile
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any, Literal

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

TlsMode = Literal["none", "starttls", "smtps"]


@dataclass(frozen=True)
class Received:
    sender: str
    recipients: tuple[str, ...]
    raw: bytes

    @property
    def mail(self) -> EmailMessage:
        return message_from_bytes(self.raw, policy=policy.default)


@dataclass
class _Behaviour:
    failures: list[tuple[int, str]] = field(default_factory=list)  # answered at DATA, in order
    refused: dict[str, tuple[int, str]] = field(default_factory=dict)  # at RCPT, for good


class _Handler:
    def __init__(self, owner: SmtpServerDouble) -> None:
        self.owner = owner

    async def handle_RCPT(
        self, server: Any, session: Any, envelope: Any, address: str, options: list[str]
    ) -> str:
        with self.owner.lock:
            refusal = self.owner.behaviour.refused.get(address.lower())
        if refusal is not None:
            return f"{refusal[0]} {refusal[1]}"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        with self.owner.lock:
            if self.owner.behaviour.failures:
                code, text = self.owner.behaviour.failures.pop(0)
                self.owner.answered_failures += 1
                return f"{code} {text}"
            self.owner.received.append(
                Received(envelope.mail_from, tuple(envelope.rcpt_tos), bytes(envelope.content))
            )
        return "250 Message accepted for delivery"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def self_signed(folder: Path) -> tuple[Path, Path, bytes]:
    """A certificate for 127.0.0.1 and localhost: (cert file, key file, PEM)."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
            ),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    pem = cert.public_bytes(serialization.Encoding.PEM)
    cert_path, key_path = folder / "cert.pem", folder / "key.pem"
    cert_path.write_bytes(pem)
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_path, key_path, pem


class SmtpServerDouble:
    def __init__(
        self, tls: TlsMode = "none", user: str | None = None, password: str | None = None
    ) -> None:
        self.tls = tls
        self.user, self.password = user, password
        self.lock = threading.Lock()
        self.behaviour = _Behaviour()
        self.received: list[Received] = []
        self.answered_failures = 0
        self.logins: list[str] = []
        self.port = _free_port()
        self.client_context: ssl.SSLContext | None = None
        self._folder = tempfile.TemporaryDirectory(prefix="smtp-double-")
        self._controller: Controller | None = None

    # --- behaviour -------------------------------------------------------------------------

    def fail_next(self, count: int, code: int = 451, text: str = "Try again later") -> None:
        """Answer ``code`` to the next ``count`` mails (at DATA), then accept again."""
        with self.lock:
            self.behaviour.failures.extend([(code, text)] * count)

    def refuse(self, address: str, code: int = 550, text: str = "No such mailbox") -> None:
        with self.lock:
            self.behaviour.refused[address.lower()] = (code, text)

    def mails(self) -> list[EmailMessage]:
        with self.lock:
            return [r.mail for r in self.received]

    @property
    def url(self) -> str:
        credentials = f"{self.user}:{self.password}@" if self.user else ""
        scheme = "smtps" if self.tls == "smtps" else "smtp"
        query = {"none": "starttls=false&", "starttls": "starttls=true&", "smtps": ""}[self.tls]
        return f"{scheme}://{credentials}127.0.0.1:{self.port}?{query}timeout=10"

    # --- life cycle ------------------------------------------------------------------------

    def _authenticate(
        self, server: Any, session: Any, envelope: Any, mechanism: str, data: Any
    ) -> AuthResult:
        if isinstance(data, LoginPassword):
            user, password = data.login.decode(), data.password.decode()
            if (user, password) == (self.user, self.password):
                with self.lock:
                    self.logins.append(user)
                return AuthResult(success=True)
        return AuthResult(success=False, handled=False)

    def start(self) -> None:
        kwargs: dict[str, Any] = {}
        if self.tls != "none":
            cert, key, pem = self_signed(Path(self._folder.name))
            server_context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
            server_context.load_cert_chain(cert, key)
            self.client_context = ssl.create_default_context(cadata=pem.decode("ascii"))
            if self.tls == "starttls":
                kwargs.update(tls_context=server_context, require_starttls=True)
            else:
                kwargs.update(ssl_context=server_context)
        if self.user:
            kwargs.update(
                authenticator=self._authenticate,
                auth_required=True,
                # implicit TLS (smtps) is not seen as TLS by aiosmtpd's AUTH check
                auth_require_tls=self.tls == "starttls",
            )
        controller = Controller(
            _Handler(self), hostname="127.0.0.1", port=self.port, ready_timeout=10, **kwargs
        )
        controller.start()
        self._controller = controller

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None
        self._folder.cleanup()


@contextmanager
def smtp_server(
    tls: TlsMode = "none", user: str | None = None, password: str | None = None
) -> Iterator[SmtpServerDouble]:
    server = SmtpServerDouble(tls, user, password)
    server.start()
    try:
        yield server
    finally:
        server.stop()
