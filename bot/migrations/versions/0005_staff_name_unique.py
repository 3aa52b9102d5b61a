"""one staff account per name (case-insensitive)

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-23
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index("ux_staff_name_lower", "staff", [sa.text("lower(name)")], unique=True)


def downgrade() -> None:
    op.drop_index("ux_staff_name_lower", table_name="staff")
