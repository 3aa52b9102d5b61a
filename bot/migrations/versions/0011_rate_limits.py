"""rate limits shared across processes: one count per bucket and minute

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-02
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "ratecount",
        sa.Column("bucket", sa.String(length=64), nullable=False),
        sa.Column("minute", sa.Integer(), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("bucket", "minute"),
    )
    op.create_index("ix_ratecount_minute", "ratecount", ["minute"])


def downgrade() -> None:
    op.drop_index("ix_ratecount_minute", table_name="ratecount")
    op.drop_table("ratecount")
