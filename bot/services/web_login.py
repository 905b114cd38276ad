"""Passwordless login for the web pages: one-time links sent by DM and browser sessions.

A link carries ``secrets.token_urlsafe(32)``; the database keeps only its sha256, so neither a
database copy nor a log of stored rows lets anyone log in. Redeeming is one conditional UPDATE
(``used_at IS NULL AND expires_at > now``): of two browsers opening the same link at the same
moment, exactly one gets a session. A session id is a fresh random value made at login (a
session id the browser brought along is never kept: no session fixation), also stored hashed.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, bindparam, delete, select, update

from bot import caller
from bot.context import Conversation, Request, Role
from bot.identity import Identity
from storage.models import Cohort, Participant, Person
from storage.models_web import WebLoginToken, WebSession
from storage.uow import UnitOfWork

LINK_VALIDITY = timedelta(minutes=15)
SESSION_VALIDITY = timedelta(hours=8)


def digest(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def issue_link_token(uow: UnitOfWork, person_id: int, now: datetime) -> str:
    """A new one-time token for ``person_id`` (valid 15 minutes); the caller commits."""
    uow.session.execute(delete(WebLoginToken).where(WebLoginToken.expires_at <= now))
    token = secrets.token_urlsafe(32)
    uow.session.add(
        WebLoginToken(
            token_hash=digest(token),
            person_id=person_id,
            created_at=now,
            expires_at=now + LINK_VALIDITY,
        )
    )
    uow.session.flush()
    return token


def _usable(token: str, now: datetime) -> ColumnElement[bool] | None:
    """The condition of a login link that still works (known, unused, unexpired); None for a
    token that cannot be one."""
    if not token or len(token) > 100:
        return None
    return and_(
        WebLoginToken.token_hash == digest(token),
        WebLoginToken.used_at.is_(None),
        WebLoginToken.expires_at > now,
    )


def redeem(uow: UnitOfWork, token: str, now: datetime) -> int | None:
    """The person the token logs in, marking it used; None if unknown, used or expired."""
    usable = _usable(token, now)
    if usable is None:
        return None
    hashed = digest(token)
    claimed = uow.session.execute(
        update(WebLoginToken)
        .where(usable)
        .values(used_at=now)
        .execution_options(synchronize_session=False)
    )
    if getattr(claimed, "rowcount", 0) != 1:
        return None
    return uow.session.scalar(
        select(WebLoginToken.person_id).where(WebLoginToken.token_hash == hashed)
    )


@dataclass(frozen=True)
class NewSession:
    session_id: str  # for the cookie only; the table has its sha256
    csrf_token: str


def open_session(uow: UnitOfWork, person_id: int, now: datetime) -> NewSession:
    uow.session.execute(delete(WebSession).where(WebSession.expires_at <= now))
    session_id = secrets.token_urlsafe(32)
    csrf = secrets.token_urlsafe(32)
    uow.session.add(
        WebSession(
            session_hash=digest(session_id),
            person_id=person_id,
            csrf_token=csrf,
            created_at=now,
            expires_at=now + SESSION_VALIDITY,
        )
    )
    uow.session.flush()
    return NewSession(session_id, csrf)


def link_owner(uow: UnitOfWork, token: str, now: datetime) -> int | None:
    """The person a still usable (unused, unexpired) link belongs to, without spending it."""
    usable = _usable(token, now)
    if usable is None:
        return None
    return uow.session.scalar(select(WebLoginToken.person_id).where(usable))


WEB_CONVERSATION = Conversation(platform="web", channel_id=None, is_direct=True)


@dataclass
class SignedIn:
    """Who is looking at a page: read again from the database on every request (session,
    person, cohort, and the role from the chat's permission table)."""

    person: Person
    session: WebSession
    cohort: Cohort | None
    role: Role

    def cohort_or(self, refuse: Callable[[], Exception]) -> Cohort:
        """The cohort the viewer works in; ``refuse()`` is raised when there is none."""
        if self.cohort is None:
            raise refuse()
        return self.cohort


@cache
def _signed_in_statement() -> Select[WebSession, Person, Cohort, Participant]:
    """Session, person, chosen cohort and the person's registration in it: every page asks
    this first, so it is one statement, built once (on first use, not at import)."""
    return (
        select(WebSession, Person, Cohort, Participant)
        .join(Person, Person.id == WebSession.person_id)
        .outerjoin(Cohort, Cohort.id == WebSession.cohort_id)
        .outerjoin(
            Participant,
            and_(
                Participant.cohort_id == WebSession.cohort_id,
                Participant.person_id == WebSession.person_id,
            ),
        )
        .where(
            WebSession.session_hash == bindparam("hash"), WebSession.expires_at > bindparam("now")
        )
    )


def signed_in(uow: UnitOfWork, cookie: str | None, now: datetime) -> SignedIn | None:
    """The live session's person, cohort and role, or None (no, expired or forged session,
    or an erased person)."""
    if not cookie or len(cookie) > 100:
        return None
    row = uow.session.execute(_signed_in_statement(), {"hash": digest(cookie), "now": now}).first()
    if row is None:
        return None
    session: WebSession = row[0]
    person: Person = row[1]
    cohort: Cohort | None = row[2]
    participant: Participant | None = row[3]
    if person.erased_at is not None:
        return None
    if cohort is not None and cohort.purged_at is None:
        return SignedIn(person, session, cohort, caller.role(person, cohort, participant))
    request = Request(
        identity=Identity("web", str(person.id)), conversation=WEB_CONVERSATION, text=""
    )
    cohort = caller.cohort_for(uow, request, person)
    return SignedIn(person, session, cohort, caller.role_of(uow, person, cohort))


def choose_cohort(uow: UnitOfWork, session: WebSession, cohort_id: int | None) -> bool:
    """Work in another cohort from the next page on; False when it does not exist (any more)."""
    cohort = uow.cohorts.get(cohort_id) if cohort_id else None
    if cohort is None or cohort.purged_at is not None:
        return False
    session.cohort_id = cohort.id
    return True


def set_flash(uow: UnitOfWork, session_id: int, message: str) -> None:
    """A message for the next page (by id: the session row may have been read before a
    rollback)."""
    session = uow.session.get(WebSession, session_id)
    if session is not None:
        session.flash = message


def clear_flash(uow: UnitOfWork, session_id: int, message: str) -> None:
    """The message a page showed is gone — unless a newer one has replaced it meanwhile."""
    uow.session.execute(
        update(WebSession)
        .where(WebSession.id == session_id, WebSession.flash == message)
        .values(flash=None)
        .execution_options(synchronize_session=False)
    )


def close_session(uow: UnitOfWork, session_id: str | None) -> None:
    if session_id:
        uow.session.execute(delete(WebSession).where(WebSession.session_hash == digest(session_id)))


def csrf_matches(session: WebSession, given: str | None) -> bool:
    return bool(given) and secrets.compare_digest(session.csrf_token, given or "")


# -- personal data (bot.services.privacy.STORES) -------------------------------------------
def export_person(uow: UnitOfWork, person_id: int) -> dict[str, Any]:
    sessions = uow.session.scalars(
        select(WebSession.created_at).where(WebSession.person_id == person_id)
    ).all()
    links = uow.session.scalars(
        select(WebLoginToken.created_at).where(WebLoginToken.person_id == person_id)
    ).all()
    return {
        "web_sitzungen": [s.isoformat() for s in sessions],
        "web_anmeldelinks": [s.isoformat() for s in links],
    }


def erase_person(uow: UnitOfWork, person_id: int, pseudonym: str = "") -> None:
    uow.session.execute(delete(WebSession).where(WebSession.person_id == person_id))
    uow.session.execute(delete(WebLoginToken).where(WebLoginToken.person_id == person_id))
