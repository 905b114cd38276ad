"""Persons and their identities: first contact, naming people in commands, languages."""

from __future__ import annotations

import re
from datetime import datetime, timedelta

from bot.errors import NotFound, UserFacingError
from bot.i18n import N_
from bot.identity import Identity
from storage.models import Person, PlatformIdentity
from storage.ports import UnitOfWorkPort
from storage.uow import UnitOfWork

_SLACK_MENTION = re.compile(r"^<@([UW][A-Z0-9]+)(?:\|[^>]*)?>$")
_MATRIX_ID = re.compile(r"^@[^:\s]+:\S+$")
MAX_NAME_LENGTH = 200
LAST_SEEN_RESOLUTION = timedelta(hours=1)


def ensure_person(
    uow: UnitOfWork,
    identity: Identity,
    now: datetime,
    display_name: str | None = None,
    handle: str | None = None,
    known: tuple[PlatformIdentity, Person] | None = None,
) -> Person:
    """The person behind ``identity``; created on first contact. ``known``: the identity row
    and its person when the caller already read them (:func:`bot.caller.in_channel`)."""
    if known is None:
        known = uow.persons.known(identity.platform, identity.external_id)
    link = known[0] if known is not None else None
    if link is None:
        person = Person(
            display_name=(display_name or None) and display_name[:MAX_NAME_LENGTH],
            created_at=now,
            is_organiser=False,
        )
        first = PlatformIdentity(
            platform=identity.platform,
            external_id=identity.external_id,
            handle=handle or (identity.external_id if identity.platform == "console" else None),
            last_seen_at=now,
        )
        if uow.persons.add_first_contact(person, first):
            return person
        # Another instance (or a retried event) stored this first contact meanwhile: use theirs.
        link = uow.persons.identity(identity.platform, identity.external_id)
        assert link is not None
    # Write only when something changed: most requests then need no write transaction.
    if link.last_seen_at is None or now - link.last_seen_at > LAST_SEEN_RESOLUTION:
        link.last_seen_at = now
    if handle and link.handle != handle:
        link.handle = handle
    existing = known[1] if known is not None else uow.persons.get(link.person_id)
    assert existing is not None
    if display_name and not existing.display_name and existing.erased_at is None:
        existing.display_name = display_name[:MAX_NAME_LENGTH]
    return existing


def resolve_person(uow: UnitOfWorkPort, text: str, platform: str) -> Person:
    """Find a person by mention (``@anna``, ``<@U…>``, ``@anna:example.org``), identity or name.

    An ambiguous name is refused with the candidates listed.
    """
    text = text.strip()
    identity = _as_identity(text, platform)
    if identity is not None:
        person = uow.persons.get_by_identity(identity.platform, identity.external_id)
        if person is not None and person.erased_at is None:
            return person
    candidates: list[Person] = []
    if text.startswith("@") and ":" not in text:
        candidates = uow.persons.find_by_handle(text[1:])
    if not candidates:
        candidates = uow.persons.find_by_name(text.lstrip("@"))
    candidates = [p for p in candidates if p.erased_at is None]
    if len(candidates) == 1:
        return candidates[0]
    if len(candidates) > 1:
        names = ", ".join(describe_identity(uow, p) for p in candidates)
        raise UserFacingError(
            N_(
                "„{name}“ ist nicht eindeutig. Gemeint sein können: {candidates}. Nennen Sie die "
                "Person mit @-Erwähnung oder Kennung (z. B. slack:U0123ABC)."
            ),
            name=text,
            candidates=names,
        )
    raise NotFound(
        N_(
            "Ich kenne niemanden namens „{name}“. Nennen Sie die Person mit @-Erwähnung, mit ihrer "
            "Kennung (z. B. console:anna) oder mit ihrem genauen Namen."
        ),
        name=text[:80],
    )


def _as_identity(text: str, platform: str) -> Identity | None:
    match = _SLACK_MENTION.match(text)
    if match:
        return Identity("slack", match.group(1))
    if _MATRIX_ID.match(text):
        return Identity("matrix", text)
    try:
        return Identity.parse(text)
    except ValueError:
        pass
    if platform == "console" and text.startswith("@") and len(text) > 1:
        return Identity("console", text[1:])
    return None


def describe_identity(uow: UnitOfWorkPort, person: Person) -> str:
    identities = uow.persons.identities_of(person.id)
    ident = f"{identities[0].platform}:{identities[0].external_id}" if identities else "?"
    return f"{person.display_name or '?'} ({ident})"


def apply_configured_organisers(uow: UnitOfWork, identities: list[Identity], now: datetime) -> None:
    """Identities from STADTLABOR_ORGANIZERS start as organisers."""
    for identity in identities:
        ensure_person(uow, identity, now).is_organiser = True
