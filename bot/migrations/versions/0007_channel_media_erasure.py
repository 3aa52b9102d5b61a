"""channels: evidence media (encrypted), provider-side erasure queue, WhatsApp templates

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-02
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("outboundmessage", sa.Column("template", sa.String(length=40), nullable=True))
    op.create_table(
        "media",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("inbound_id", sa.Integer(), nullable=True),
        sa.Column("case_id", sa.Integer(), nullable=True),
        sa.Column("contact_id", sa.Integer(), nullable=True),
        sa.Column("channel", sa.String(length=16), nullable=False),
        sa.Column("content_type", sa.String(length=80), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("data", sa.LargeBinary(), nullable=True),
        sa.Column("provider_ref", sa.LargeBinary(), nullable=True),
        sa.Column("created_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["inbound_id"], ["inboundmessage.id"]),
        sa.ForeignKeyConstraint(["case_id"], ["case.id"]),
        sa.ForeignKeyConstraint(["contact_id"], ["contact.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_media_inbound_id", "media", ["inbound_id"])
    op.create_index("ix_media_case_id", "media", ["case_id"])
    op.create_index("ix_media_contact_id", "media", ["contact_id"])
    op.create_table(
        "providererasure",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("provider", sa.String(length=16), nullable=False),
        sa.Column("resource", sa.LargeBinary(), nullable=False),
        sa.Column("created_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("next_attempt_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("last_error", sa.String(length=200), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_providererasure_next_attempt_at", "providererasure", ["next_attempt_at"])


def downgrade() -> None:
    op.drop_index("ix_providererasure_next_attempt_at", table_name="providererasure")
    op.drop_table("providererasure")
    op.drop_index("ix_media_contact_id", table_name="media")
    op.drop_index("ix_media_case_id", table_name="media")
    op.drop_index("ix_media_inbound_id", table_name="media")
    op.drop_table("media")
    op.drop_column("outboundmessage", "template")
