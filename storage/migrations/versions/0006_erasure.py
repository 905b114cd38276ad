"""erasure: drop Slack forms stored before they carried an owner and an expiry

A stored form holds what its modal was filled with (name, e-mail, municipality). Forms from
before this revision have no ``owner`` and no ``until``, so neither erasure nor the expiry job
could find them; an open modal from before the upgrade answers "form expired, open it again".

Revision ID: 0006_erasure
Revises: 0005_reminders
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006_erasure"
down_revision: str | None = "0005_reminders"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.execute(
        sa.text(
            "DELETE FROM bot_state WHERE key LIKE 'slack:form:%' AND value NOT LIKE '%\"until\"%'"
        )
    )


def downgrade() -> None:
    pass  # nothing to restore: the dropped forms had expired for good
