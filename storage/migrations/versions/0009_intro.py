"""introductions with consent: accepted_at, and where the group DM / private room lives

Revision ID: 0009_intro
Revises: 0008_answer_links, 0008_networking_followup
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009_intro"
down_revision: str | Sequence[str] | None = ("0008_answer_links", "0008_networking_followup")
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("introductions") as batch:
        batch.add_column(sa.Column("accepted_at", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("conversation_platform", sa.String(length=20), nullable=True))
        batch.add_column(sa.Column("conversation_id", sa.String(length=255), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("introductions") as batch:
        batch.drop_column("conversation_id")
        batch.drop_column("conversation_platform")
        batch.drop_column("accepted_at")
