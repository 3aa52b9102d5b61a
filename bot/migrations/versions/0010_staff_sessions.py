"""staff sessions and tokens: staff.session_epoch, staff.token_expires_at, loginthrottle

The per-account lockout columns (failed_logins, locked_until) give way to the login
throttle table. Existing API tokens get 90 days from the upgrade (the default lifetime).

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-03
"""

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_UTC = sqlmodel.sql.sqltypes.UTCDateTime


def _drop_name_index() -> None:
    # SQLite's batch mode rebuilds the table and cannot carry an expression index across
    # (nor reflect it): drop it first and create it again after.
    op.drop_index("ux_staff_name_lower", table_name="staff")


def _create_name_index() -> None:
    op.create_index("ux_staff_name_lower", "staff", [sa.text("lower(name)")], unique=True)


def upgrade() -> None:
    _drop_name_index()
    with op.batch_alter_table("staff") as batch:
        batch.add_column(sa.Column("token_expires_at", _UTC(), nullable=True))
        batch.add_column(
            sa.Column("session_epoch", sa.Integer(), nullable=False, server_default="0")
        )
        batch.drop_column("failed_logins")
        batch.drop_column("locked_until")
    _create_name_index()
    staff = sa.table("staff", sa.column("token_expires_at", _UTC()))
    op.get_bind().execute(
        staff.update().values(token_expires_at=datetime.now(UTC) + timedelta(days=90))
    )
    op.create_table(
        "loginthrottle",
        sa.Column("key", sa.String(length=80), nullable=False),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("last_failure_at", _UTC(), nullable=False),
        sa.Column("blocked_until", _UTC(), nullable=True),
        sa.PrimaryKeyConstraint("key"),
    )
    op.create_index("ix_loginthrottle_last_failure_at", "loginthrottle", ["last_failure_at"])


def downgrade() -> None:
    op.drop_index("ix_loginthrottle_last_failure_at", table_name="loginthrottle")
    op.drop_table("loginthrottle")
    _drop_name_index()
    with op.batch_alter_table("staff") as batch:
        batch.add_column(
            sa.Column("failed_logins", sa.Integer(), nullable=False, server_default="0")
        )
        batch.add_column(sa.Column("locked_until", _UTC(), nullable=True))
        batch.drop_column("session_epoch")
        batch.drop_column("token_expires_at")
    _create_name_index()
