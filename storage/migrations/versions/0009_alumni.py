"""alumni: the alumni circle, its folded topic keys, counts of imported contacts, meetings
opened for alumni and their guests

Revision ID: 0009_alumni
Revises: 0008_answer_links, 0008_networking_followup
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009_alumni"
down_revision: str | Sequence[str] | None = ("0008_answer_links", "0008_networking_followup")
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "alumni",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=True),
        sa.Column("cohort_id", sa.Integer(), nullable=True),
        sa.Column("cohort_name", sa.String(length=200), nullable=True),
        sa.Column("year", sa.Integer(), nullable=True),
        sa.Column("name", sa.String(length=200), nullable=True),
        sa.Column("municipality", sa.String(length=200), nullable=True),
        sa.Column("email", sa.String(length=320), nullable=True),
        sa.Column("topics", sa.JSON(), nullable=False),
        sa.Column("consent", sa.String(length=10), nullable=False),
        sa.Column("consent_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("source", sa.String(length=10), nullable=False),
        sa.ForeignKeyConstraint(
            ["person_id"],
            ["persons.id"],
            name=op.f("fk_alumni_person_id_persons"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["cohort_id"],
            ["cohorts.id"],
            name=op.f("fk_alumni_cohort_id_cohorts"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_alumni")),
        sa.UniqueConstraint("person_id", name=op.f("uq_alumni_person_id")),
    )
    op.create_table(
        "alumni_topic_keys",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("alumnus_id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=80), nullable=False),
        sa.Column("kind", sa.String(length=10), nullable=False),
        sa.Column("tag", sa.String(length=200), nullable=False),
        sa.ForeignKeyConstraint(
            ["alumnus_id"],
            ["alumni.id"],
            name=op.f("fk_alumni_topic_keys_alumnus_id_alumni"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_alumni_topic_keys")),
    )
    op.create_index("ix_alumni_topic_keys_key", "alumni_topic_keys", ["key"])
    op.create_table(
        "alumni_imports",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("imported_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("with_consent", sa.Integer(), nullable=False),
        sa.Column("without_consent", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_alumni_imports")),
    )
    op.create_table(
        "alumni_meetings",
        sa.Column("meeting_id", sa.Integer(), nullable=False),
        sa.Column("opened_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["meeting_id"],
            ["meetings.id"],
            name=op.f("fk_alumni_meetings_meeting_id_meetings"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("meeting_id", name=op.f("pk_alumni_meetings")),
    )
    op.create_table(
        "alumni_guests",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("meeting_id", sa.Integer(), nullable=False),
        sa.Column("alumnus_id", sa.Integer(), nullable=False),
        sa.Column("answer", sa.String(length=10), nullable=True),
        sa.Column("invited_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("answered_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["meeting_id"],
            ["meetings.id"],
            name=op.f("fk_alumni_guests_meeting_id_meetings"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["alumnus_id"],
            ["alumni.id"],
            name=op.f("fk_alumni_guests_alumnus_id_alumni"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_alumni_guests")),
        sa.UniqueConstraint("meeting_id", "alumnus_id", name=op.f("uq_alumni_guests_meeting_id")),
    )


def downgrade() -> None:
    op.drop_table("alumni_guests")
    op.drop_table("alumni_meetings")
    op.drop_table("alumni_imports")
    op.drop_index("ix_alumni_topic_keys_key", table_name="alumni_topic_keys")
    op.drop_table("alumni_topic_keys")
    op.drop_table("alumni")
