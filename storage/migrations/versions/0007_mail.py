"""mail: where a person's messages go, their office's address, and sent invitations

``persons.notify_via`` (chat, email, beides; NULL: chat with a chat identity, else e-mail),
``persons.office_email`` (the Büroleitung's address for invitation copies) and
``meeting_invitations`` (the SEQUENCE last mailed to each address, so changes and
cancellations reach exactly the invited). Merges the feature branches that were heads.

Revision ID: 0007_mail
Revises: 0002_meetings, 0003_polls, 0004_feedback, 0006_erasure, 0006_lead, 0006_networking
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007_mail"
down_revision: str | Sequence[str] | None = (
    "0002_meetings",
    "0003_polls",
    "0004_feedback",
    "0006_erasure",
    "0006_lead",
    "0006_networking",
)
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("persons") as batch:
        batch.add_column(sa.Column("notify_via", sa.String(length=10), nullable=True))
        batch.add_column(sa.Column("office_email", sa.String(length=254), nullable=True))
    op.create_table(
        "meeting_invitations",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("meeting_id", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=True),
        sa.Column("address", sa.String(length=254), nullable=False),
        sa.Column("role", sa.String(length=10), nullable=False),
        sa.Column("sequence", sa.Integer(), nullable=False),
        sa.Column("method", sa.String(length=10), nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["meeting_id"],
            ["meetings.id"],
            name=op.f("fk_meeting_invitations_meeting_id_meetings"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["person_id"],
            ["persons.id"],
            name=op.f("fk_meeting_invitations_person_id_persons"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_meeting_invitations")),
        sa.UniqueConstraint(
            "meeting_id", "address", name=op.f("uq_meeting_invitations_meeting_id")
        ),
    )


def downgrade() -> None:
    op.drop_table("meeting_invitations")
    with op.batch_alter_table("persons") as batch:
        batch.drop_column("office_email")
        batch.drop_column("notify_via")
