"""Who gets a message where: chat, e-mail or both (``benachrichtigung chat|email|beides``).

:func:`routes` answers "where does a DM to this person go" as identities — a chat identity,
``email:<address>``, or both; :func:`office_copies` names the office contact's address for
copies of meeting invitations, changes and cancellations. Both are pure reads of the database;
the outbox (``dm_person``) and the invitation fan-out call them. :func:`describe_recipient`
tells the e-mail channel whom an address belongs to (language, name, why they get mail).

Without a choice (``Person.notify_via`` NULL) a person with a chat account gets chat, a person
without one (added by ``teilnehmende hinzufuegen`` or a CSV import) gets e-mail. A choice that
cannot be served falls back to the other channel rather than dropping the message: "email"
without an address goes to the chat, "chat" without a chat account goes by e-mail.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from sqlalchemy import func, select

from bot.errors import UserFacingError
from bot.identity import Identity
from bot.mail_address import normalise
from storage.models import Participant, Person
from storage.ports import UnitOfWorkPort
from storage.uow import UnitOfWork

Channel = Literal["chat", "email", "beides"]
CHANNELS: tuple[Channel, ...] = ("chat", "email", "beides")
EMAIL = "email"

#: Who a mail is for, as far as its footer needs to know.
Reason = Literal["person", "office", "unknown"]


@dataclass(frozen=True)
class MailRecipient:
    language: str
    name: str | None = None
    reason: Reason = "unknown"
    on_behalf_of: str | None = None  # office copies: whose office they are


def chat_identity(uow: UnitOfWorkPort, person_id: int) -> Identity | None:
    """The chat identity a DM goes to (the one seen last, as ``dm_person`` picks it)."""
    for ident in uow.persons.identities_of(person_id):
        if ident.platform != EMAIL:
            return Identity(ident.platform, ident.external_id)
    return None


def email_identity(address: str | None) -> Identity | None:
    """``email:<address>`` for a stored address; None if there is none or it is unusable."""
    if not address:
        return None
    try:
        return Identity.parse(f"{EMAIL}:{normalise(address)}")
    except (UserFacingError, ValueError):
        return None


def channel_of(uow: UnitOfWorkPort, person: Person) -> Channel:
    """The person's choice, or the default (chat with a chat account, else e-mail)."""
    if person.notify_via in CHANNELS:
        return person.notify_via
    return "chat" if chat_identity(uow, person.id) is not None else "email"


def routes(uow: UnitOfWorkPort, person_id: int) -> list[Identity]:
    """Where a DM to this person goes: [] when they cannot be reached (or were erased)."""
    person = uow.persons.get(person_id)
    if person is None or person.erased_at is not None:
        return []
    return pick_routes(person.notify_via, chat_identity(uow, person_id), person.email)


def pick_routes(choice: str | None, chat: Identity | None, email: str | None) -> list[Identity]:
    """:func:`routes` from what is stored (the choice, the chat identity seen last, the
    address), for callers that load these for many people at once (the reminder batches)."""
    mail = email_identity(email)
    if choice not in CHANNELS:
        choice = "chat" if chat is not None else "email"
    if choice == "beides":
        return [i for i in (chat, mail) if i is not None]
    first, second = (chat, mail) if choice == "chat" else (mail, chat)
    chosen = first or second
    return [chosen] if chosen is not None else []


def office_copies(uow: UnitOfWorkPort, person_id: int) -> list[Identity]:
    """The office contact's address for copies of invitations: ``Person.office_email``, else
    a ``bueroleitung=`` given at registration that is an e-mail address. Never the person's
    own address."""
    person = uow.persons.get(person_id)
    if person is None or person.erased_at is not None:
        return []
    candidates = [person.office_email]
    candidates += [
        p.office_contact
        for p in uow.participants.of_person(person_id)
        if p.status in ("confirmed", "waitlisted", "pending")
    ]
    own = email_identity(person.email)
    for candidate in candidates:
        office = email_identity(candidate)
        if office is not None and (
            own is None or office.external_id.lower() != own.external_id.lower()
        ):
            return [office]
    return []


def describe_recipient(uow: UnitOfWork, address: str, *, default_language: str) -> MailRecipient:
    """Whom ``address`` belongs to: a person (their language and name), an office contact
    (the language and name of the person whose office it is), or nobody known."""
    wanted = address.strip().lower()
    person = uow.session.scalar(
        select(Person)
        .where(func.lower(Person.email) == wanted, Person.erased_at.is_(None))
        .order_by(Person.id)
        .limit(1)
    )
    if person is not None:
        return MailRecipient(person.language or default_language, person.display_name, "person")
    principal = uow.session.scalar(
        select(Person)
        .where(func.lower(Person.office_email) == wanted, Person.erased_at.is_(None))
        .order_by(Person.id)
        .limit(1)
    )
    if principal is None:
        principal = uow.session.scalar(
            select(Person)
            .join(Participant, Participant.person_id == Person.id)
            .where(
                func.lower(func.trim(Participant.office_contact)) == wanted,
                Person.erased_at.is_(None),
            )
            .order_by(Person.id)
            .limit(1)
        )
    if principal is not None:
        return MailRecipient(
            principal.language or default_language,
            None,
            "office",
            on_behalf_of=principal.display_name or None,
        )
    return MailRecipient(default_language)
