"""Tables of the web pages (handlers/web): one-time login links and browser sessions.

Both hold only sha256 digests of their secrets: a copy of the database lets nobody log in.
Rows belong to a person (deleted with them) and expire (login links after 15 minutes,
sessions after 8 hours); expired rows are deleted when the next link or session is made.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from storage.models import Base


class WebLoginToken(Base):
    """A one-time login link sent by DM (``dashboard``): valid until ``expires_at``, once."""

    __tablename__ = "web_login_tokens"
    __table_args__ = (Index("ix_web_login_tokens_expires", "expires_at"),)

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("persons.id", ondelete="CASCADE"))
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime]
    used_at: Mapped[datetime | None]


class WebSession(Base):
    """A logged-in browser. The cookie holds the session id; the table its sha256."""

    __tablename__ = "web_sessions"
    __table_args__ = (Index("ix_web_sessions_expires", "expires_at"),)

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    session_hash: Mapped[str] = mapped_column(String(64), unique=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("persons.id", ondelete="CASCADE"))
    csrf_token: Mapped[str] = mapped_column(String(64))
    # the cohort an organiser chose on the pages (several may run at once); None: the default
    cohort_id: Mapped[int | None] = mapped_column(ForeignKey("cohorts.id", ondelete="SET NULL"))
    # one short message for the next page (post/redirect/get), shown once
    flash: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime]
