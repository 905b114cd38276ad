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
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, select, update

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


def redeem(uow: UnitOfWork, token: str, now: datetime) -> int | None:
    """The person the token logs in, marking it used; None if unknown, used or expired."""
    if not token or len(token) > 100:
        return None
    hashed = digest(token)
    claimed = uow.session.execute(
        update(WebLoginToken)
        .where(
            WebLoginToken.token_hash == hashed,
            WebLoginToken.used_at.is_(None),
            WebLoginToken.expires_at > now,
        )
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


def find_session(uow: UnitOfWork, session_id: str | None, now: datetime) -> WebSession | None:
    """The live session for a cookie value, or None (unknown, forged or expired)."""
    if not session_id or len(session_id) > 100:
        return None
    return uow.session.scalar(
        select(WebSession).where(
            WebSession.session_hash == digest(session_id), WebSession.expires_at > now
        )
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
