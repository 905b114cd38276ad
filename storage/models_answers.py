"""One-time answer links (handlers/web/answers.py): the link in a DM prompt is the credential
for one person and one item (a poll, a meeting's attendance question, a feedback round).

Only the sha256 of the link's secret is stored. A link of an anonymous item loses its person
(``person_id`` NULL) and its time (``created_at`` = the closing time) when the item is sealed,
like the ballot links (docs/polls.md): the row may then only say that the item is closed.
No column records when or whether a link was used.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from storage.models import Base


class WebAnswerLink(Base):
    __tablename__ = "web_answer_links"
    __table_args__ = (
        Index("ix_web_answer_links_item", "kind", "item_id"),
        Index("ix_web_answer_links_expires", "expires_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    kind: Mapped[str] = mapped_column(String(20))  # umfrage | teilnahme | feedback
    item_id: Mapped[int] = mapped_column(Integer)  # poll, meeting or round id
    person_id: Mapped[int | None] = mapped_column(ForeignKey("persons.id", ondelete="CASCADE"))
    created_at: Mapped[datetime]
    # when the row is deleted (the item's deadline, or a while after it closed); None: the
    # item has no deadline yet. Whether the link still answers is read from the item itself.
    expires_at: Mapped[datetime | None]
