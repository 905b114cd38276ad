"""networking follow-up: tandem answers ("Haben Sie sich ausgetauscht?"), Vorhaben check-ins

Revision ID: 0008_networking_followup
Revises: 0007_mail, 0007_web
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008_networking_followup"
down_revision: str | Sequence[str] | None = ("0007_mail", "0007_web")
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "tandem_answers",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("round_id", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("met", sa.Boolean(), nullable=False),
        sa.Column("insight", sa.Text(), nullable=True),
        sa.Column("named", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["round_id"],
            ["tandem_rounds.id"],
            name=op.f("fk_tandem_answers_round_id_tandem_rounds"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["person_id"],
            ["persons.id"],
            name=op.f("fk_tandem_answers_person_id_persons"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_tandem_answers")),
        sa.UniqueConstraint("round_id", "person_id", name=op.f("uq_tandem_answers_round_id")),
    )
    op.create_table(
        "checkin_answers",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("cohort_id", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("period", sa.String(length=7), nullable=False),
        sa.Column("progress", sa.Text(), nullable=False),
        sa.Column("obstacle", sa.Text(), nullable=False),
        sa.Column("help", sa.Text(), nullable=False),
        sa.Column("shared", sa.Boolean(), nullable=False),
        sa.Column("answered_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["cohort_id"],
            ["cohorts.id"],
            name=op.f("fk_checkin_answers_cohort_id_cohorts"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["person_id"],
            ["persons.id"],
            name=op.f("fk_checkin_answers_person_id_persons"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_checkin_answers")),
        sa.UniqueConstraint(
            "cohort_id", "person_id", "period", name=op.f("uq_checkin_answers_cohort_id")
        ),
    )


def downgrade() -> None:
    op.drop_table("checkin_answers")
    op.drop_table("tandem_answers")
