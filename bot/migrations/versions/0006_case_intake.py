"""cases open at the first message: intake step and triage review flag

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-30
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Plain ADD COLUMN works on both databases (no table rebuild on SQLite).
    op.add_column("case", sa.Column("intake_step", sa.String(length=40), nullable=True))
    op.add_column(
        "case",
        sa.Column("needs_review", sa.Boolean(), nullable=False, server_default=sa.false()),
    )
    # Erased cases were kept as `resolved` with `erased_at`; they have a status of their own.
    op.execute("UPDATE \"case\" SET status = 'erased' WHERE erased_at IS NOT NULL")


def downgrade() -> None:
    op.execute("UPDATE \"case\" SET status = 'resolved' WHERE status IN ('erased', 'intake')")
    op.drop_column("case", "needs_review")
    op.drop_column("case", "intake_step")
