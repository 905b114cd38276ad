"""polls: topic proposals, ballots and result versions

Revision ID: 0003_polls
Revises: 0001
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003_polls"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _fk(table: str, column: str, target: str, ondelete: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        [column],
        [f"{target}.id"],
        name=op.f(f"fk_{table}_{column}_{target}"),
        ondelete=ondelete,
    )


def upgrade() -> None:
    op.create_table(
        "poll_topics",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("cohort_id", sa.Integer(), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("proposed_by_person_id", sa.Integer(), nullable=True),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("merged_into_number", sa.Integer(), nullable=True),
        sa.Column("poll_number", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        _fk("poll_topics", "cohort_id", "cohorts", "CASCADE"),
        _fk("poll_topics", "proposed_by_person_id", "persons", "SET NULL"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_poll_topics")),
        sa.UniqueConstraint("cohort_id", "number", name=op.f("uq_poll_topics_cohort_id")),
    )
    op.create_table(
        "poll_ballots",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("poll_id", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=True),
        sa.Column("vote_ids", sa.JSON(), nullable=False),
        _fk("poll_ballots", "poll_id", "polls", "CASCADE"),
        _fk("poll_ballots", "person_id", "persons", "CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_poll_ballots")),
        sa.UniqueConstraint("poll_id", "person_id", name=op.f("uq_poll_ballots_poll_id")),
    )
    op.create_table(
        "poll_counters",
        sa.Column("poll_id", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("ballots", sa.Integer(), nullable=False),
        _fk("poll_counters", "poll_id", "polls", "CASCADE"),
        sa.PrimaryKeyConstraint("poll_id", name=op.f("pk_poll_counters")),
    )


def downgrade() -> None:
    op.drop_table("poll_counters")
    op.drop_table("poll_ballots")
    op.drop_table("poll_topics")
