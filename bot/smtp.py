"""Where mail goes: ``STADTLABOR_SMTP_URL`` read into an :class:`SmtpServer`.

``smtp://user:pass@host:587?starttls=true`` (STARTTLS, the default for ``smtp://``),
``smtp://relay.local:25?starttls=false`` (plain, only for a relay on a trusted network),
``smtps://user:pass@host:465`` (TLS from the first byte). User and password are URL-encoded
(``%40`` for ``@``). ``timeout=`` (seconds, default 30) bounds every SMTP conversation.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from urllib.parse import parse_qs, unquote, urlsplit

DEFAULT_PORTS = {("smtp", True): 587, ("smtp", False): 25, ("smtps", False): 465}
_TRUE = {"true", "1", "yes", "ja"}
_FALSE = {"false", "0", "no", "nein"}


@dataclass(frozen=True)
class SmtpServer:
    host: str
    port: int
    tls: bool  # smtps: TLS from the start
    starttls: bool
    user: str | None = None
    password: str | None = field(default=None, repr=False)
    timeout: float = 30.0


def parse_smtp_url(url: str) -> SmtpServer:
    """Read ``url``; ``ValueError`` with a short English reason when it is not usable."""
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError as exc:
        raise ValueError(f"not a URL ({exc})") from None
    scheme = parts.scheme.lower()
    if scheme not in ("smtp", "smtps"):
        raise ValueError("the scheme must be smtp:// or smtps://")
    if not parts.hostname:
        raise ValueError("the host is missing")
    if parts.path not in ("", "/") or parts.fragment:
        raise ValueError("no path after the host")
    query = parse_qs(parts.query, keep_blank_values=True)
    unknown = set(query) - {"starttls", "timeout"}
    if unknown:
        raise ValueError(f"unknown parameter {sorted(unknown)[0]}")
    starttls = scheme == "smtp"
    if "starttls" in query:
        value = query["starttls"][-1].lower()
        if value not in _TRUE | _FALSE:
            raise ValueError("starttls must be true or false")
        starttls = value in _TRUE
        if starttls and scheme == "smtps":
            raise ValueError("smtps:// is TLS already; starttls=true is for smtp://")
    timeout = 30.0
    if "timeout" in query:
        try:
            timeout = float(query["timeout"][-1])
        except ValueError:
            raise ValueError("timeout must be a number of seconds") from None
        if not 0 < timeout <= 600:
            raise ValueError("timeout must be between 0 and 600 seconds")
    user = unquote(parts.username) if parts.username else None
    password = unquote(parts.password) if parts.password is not None else None
    if password is not None and not user:
        raise ValueError("a password needs a user")
    return SmtpServer(
        host=parts.hostname,
        port=port or DEFAULT_PORTS[(scheme, starttls)],
        tls=scheme == "smtps",
        starttls=starttls,
        user=user,
        password=password,
        timeout=timeout,
    )
