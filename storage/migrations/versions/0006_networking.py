"""networking: profiles (size class, topics, Vorhaben), introductions, tandems

Revision ID: 0006_networking
Revises: 0005_reminders
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006_networking"
down_revision: str | None = "0005_reminders"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "profiles",
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("size_class", sa.String(length=20), nullable=True),
        sa.Column("size_source", sa.String(length=20), nullable=True),
        sa.Column("topics", sa.JSON(), nullable=False),
        sa.Column("vorhaben_title", sa.String(length=200), nullable=True),
        sa.Column("vorhaben_goal", sa.Text(), nullable=True),
        sa.Column("vorhaben_stage", sa.String(length=20), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["person_id"],
            ["persons.id"],
            name=op.f("fk_profiles_person_id_persons"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("person_id", name=op.f("pk_profiles")),
    )
    op.create_table(
        "introductions",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("cohort_id", sa.Integer(), nullable=True),
        sa.Column("requester_person_id", sa.Integer(), nullable=False),
        sa.Column("other_person_id", sa.Integer(), nullable=False),
        sa.Column("topic", sa.String(length=200), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("declined_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["cohort_id"],
            ["cohorts.id"],
            name=op.f("fk_introductions_cohort_id_cohorts"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["requester_person_id"],
            ["persons.id"],
            name=op.f("fk_introductions_requester_person_id_persons"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["other_person_id"],
            ["persons.id"],
            name=op.f("fk_introductions_other_person_id_persons"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_introductions")),
        sa.UniqueConstraint(
            "requester_person_id",
            "other_person_id",
            name=op.f("uq_introductions_requester_person_id"),
        ),
    )
    op.create_table(
        "tandem_rounds",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("cohort_id", sa.Integer(), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("theme", sa.String(length=200), nullable=True),
        sa.Column("due_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["cohort_id"],
            ["cohorts.id"],
            name=op.f("fk_tandem_rounds_cohort_id_cohorts"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_tandem_rounds")),
        sa.UniqueConstraint("cohort_id", "number", name=op.f("uq_tandem_rounds_cohort_id")),
    )
    op.create_table(
        "tandem_members",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("round_id", sa.Integer(), nullable=False),
        sa.Column("group_no", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["round_id"],
            ["tandem_rounds.id"],
            name=op.f("fk_tandem_members_round_id_tandem_rounds"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["person_id"],
            ["persons.id"],
            name=op.f("fk_tandem_members_person_id_persons"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_tandem_members")),
        sa.UniqueConstraint("round_id", "person_id", name=op.f("uq_tandem_members_round_id")),
    )


def downgrade() -> None:
    op.drop_table("tandem_members")
    op.drop_table("tandem_rounds")
    op.drop_table("introductions")
    op.drop_table("profiles")
