"""web pages: one-time answer links in DM prompts (hashed secrets only)

Revision ID: 0008_answer_links
Revises: 0007_mail, 0007_web
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008_answer_links"
down_revision: str | Sequence[str] | None = ("0007_mail", "0007_web")
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "web_answer_links",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("item_id", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["person_id"],
            ["persons.id"],
            name=op.f("fk_web_answer_links_person_id_persons"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_web_answer_links")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_web_answer_links_token_hash")),
    )
    op.create_index("ix_web_answer_links_item", "web_answer_links", ["kind", "item_id"])
    op.create_index("ix_web_answer_links_expires", "web_answer_links", ["expires_at"])


def downgrade() -> None:
    op.drop_index("ix_web_answer_links_expires", table_name="web_answer_links")
    op.drop_index("ix_web_answer_links_item", table_name="web_answer_links")
    op.drop_table("web_answer_links")
