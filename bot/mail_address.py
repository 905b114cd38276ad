"""E-mail addresses and mailboxes, checked once where they enter (commands, settings, imports).

:func:`normalise` is the one check for an address typed by a person: syntax and IDNA (a
municipality's umlaut domain such as ``rathaus-müllheim.de``) through ``email-validator``,
without a DNS look-up (start-up and commands must not depend on the network). The result is
the address as it is stored (domain lower-cased, Unicode kept); :func:`ascii_address` gives the
form an SMTP server without SMTPUTF8 accepts (the domain in punycode).
"""

from __future__ import annotations

from email.headerregistry import Address
from email.utils import parseaddr

from email_validator import EmailNotValidError, validate_email

from bot.errors import UserFacingError
from bot.i18n import N_

MAX_LENGTH = 254  # RFC 5321: the longest forward-path
# The sender (and invitations' ORGANIZER) when STADTLABOR_MAIL_FROM is not set: printed mails
LOCAL_SENDER = "Stadtlabor <stadtlabor@example.org>"


def normalise(text: str) -> str:
    """The address in ``text``, normalised; :class:`UserFacingError` (German) if it is none."""
    candidate = text.strip()
    if candidate.startswith("<") and candidate.endswith(">"):
        candidate = candidate[1:-1].strip()
    if candidate.lower().startswith("mailto:"):
        candidate = candidate[len("mailto:") :]
    if not candidate:
        raise UserFacingError(
            N_("Bitte geben Sie eine E-Mail-Adresse an, z. B. anna.muster@musterstadt.de.")
        )
    if any(ch in candidate for ch in "\r\n\t ") or len(candidate) > MAX_LENGTH:
        raise _invalid(text)
    try:
        result = validate_email(candidate, check_deliverability=False)
    except EmailNotValidError:
        raise _invalid(text) from None
    return str(result.normalized)


def ascii_address(address: str) -> str:
    """``address`` for the SMTP envelope and headers: the domain as IDNA (punycode)."""
    result = validate_email(address, check_deliverability=False)
    return str(result.ascii_email or result.normalized)


def domain_of(address: str) -> str:
    """The (ASCII, lower-case) domain: what per-domain pacing counts."""
    return ascii_address(address).rpartition("@")[2].lower()


def mailbox(text: str) -> Address:
    """``Stadtlabor <stadtlabor@example.org>`` or a bare address, as an :class:`Address`.

    Raises ``ValueError`` (English: settings are read by operators) when the address is invalid
    or the display name holds a line break.
    """
    if "\r" in text or "\n" in text:
        raise ValueError("no line breaks in a mailbox")
    name, address = parseaddr(text)
    if not address:
        raise ValueError(f"'{text}' is not a mailbox like Stadtlabor <stadtlabor@example.org>")
    try:
        normalised = normalise(address)
    except UserFacingError:
        raise ValueError(f"'{address}' is not a valid e-mail address") from None
    ascii_form = ascii_address(normalised)
    local, _, domain = ascii_form.rpartition("@")
    return Address(display_name=name, username=local, domain=domain)


def _invalid(text: str) -> UserFacingError:
    return UserFacingError(
        N_(
            "„{address}“ ist keine gültige E-Mail-Adresse. Bitte geben Sie sie vollständig an, "
            "z. B. anna.muster@musterstadt.de."
        ),
        address=text.strip()[:100],
    )
