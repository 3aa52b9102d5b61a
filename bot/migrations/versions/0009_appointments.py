"""legal-aid consultations: weekly availability, closures, slots, appointments; staff.legal_aid

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-30
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_UTC = sqlmodel.sql.sqltypes.UTCDateTime


def upgrade() -> None:
    op.add_column(
        "staff", sa.Column("legal_aid", sa.Boolean(), nullable=False, server_default="0")
    )
    op.create_table(
        "slotpattern",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("desk_id", sa.String(length=40), nullable=False),
        sa.Column("weekday", sa.Integer(), nullable=False),
        sa.Column("start", sa.String(length=5), nullable=False),
        sa.Column("end", sa.String(length=5), nullable=False),
        sa.Column("minutes", sa.Integer(), nullable=False),
        sa.Column("created_at", _UTC(), nullable=False),
        sa.ForeignKeyConstraint(["desk_id"], ["desk.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_slotpattern_desk_id", "slotpattern", ["desk_id"])
    op.create_table(
        "slotclosure",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("desk_id", sa.String(length=40), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("created_at", _UTC(), nullable=False),
        sa.ForeignKeyConstraint(["desk_id"], ["desk.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("desk_id", "day"),
    )
    op.create_table(
        "slot",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("desk_id", sa.String(length=40), nullable=False),
        sa.Column("starts_at", _UTC(), nullable=False),
        sa.Column("minutes", sa.Integer(), nullable=False),
        sa.Column("remote", sa.Boolean(), nullable=False),
        sa.Column("created_at", _UTC(), nullable=False),
        sa.Column("closed_at", _UTC(), nullable=True),
        sa.ForeignKeyConstraint(["desk_id"], ["desk.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("desk_id", "starts_at"),
    )
    op.create_index("ix_slot_desk_id", "slot", ["desk_id"])
    op.create_index("ix_slot_starts_at", "slot", ["starts_at"])
    op.create_table(
        "appointment",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("slot_id", sa.Integer(), nullable=False),
        sa.Column("case_ref", sa.String(length=9), nullable=False),
        sa.Column("contact_id", sa.Integer(), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("booked_at", _UTC(), nullable=False),
        sa.Column("updated_at", _UTC(), nullable=False),
        sa.Column("reminded_day_at", _UTC(), nullable=True),
        sa.Column("reminded_hours_at", _UTC(), nullable=True),
        sa.ForeignKeyConstraint(["slot_id"], ["slot.id"]),
        sa.ForeignKeyConstraint(["contact_id"], ["contact.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_appointment_slot_id", "appointment", ["slot_id"])
    op.create_index("ix_appointment_case_ref", "appointment", ["case_ref"])
    op.create_index("ix_appointment_contact_id", "appointment", ["contact_id"])
    # The no-double-booking rule lives in the database: one live appointment per slot,
    # one booked appointment per case.
    op.create_index(
        "ux_appointment_slot_live",
        "appointment",
        ["slot_id"],
        unique=True,
        sqlite_where=sa.text("status <> 'cancelled'"),
        postgresql_where=sa.text("status <> 'cancelled'"),
    )
    op.create_index(
        "ux_appointment_case_live",
        "appointment",
        ["case_ref"],
        unique=True,
        sqlite_where=sa.text("status = 'booked'"),
        postgresql_where=sa.text("status = 'booked'"),
    )


def downgrade() -> None:
    op.drop_table("appointment")
    op.drop_table("slot")
    op.drop_table("slotclosure")
    op.drop_index("ix_slotpattern_desk_id", table_name="slotpattern")
    op.drop_table("slotpattern")
    with op.batch_alter_table("staff") as batch:
        batch.drop_column("legal_aid")
