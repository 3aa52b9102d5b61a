"""messages linked to their case: inboundmessage.case_id (a case's transcript is its messages);
an index on a sender's messages by status (the inbox writer reads a person's pending ones)

Existing rows are linked as the transcript used to find them: to the contact's latest case
opened at or before the message was processed (inbound) or queued (outbound).

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-03
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_LATEST_CASE = """
    SELECT c.id FROM "case" c
    WHERE c.contact_id = {table}.contact_id AND c.created_at <= {table}.{at}
    ORDER BY c.created_at DESC, c.id DESC LIMIT 1
"""


def upgrade() -> None:
    with op.batch_alter_table("inboundmessage") as batch:
        batch.add_column(sa.Column("case_id", sa.Integer(), nullable=True))
        batch.create_foreign_key("fk_inboundmessage_case_id_case", "case", ["case_id"], ["id"])
        batch.create_index("ix_inboundmessage_case_id", ["case_id"])
        batch.create_index("ix_inbound_sender_status", ["sender_hash", "status"])
    for table, at in (("inboundmessage", "processed_at"), ("outboundmessage", "created_at")):
        op.execute(
            f"UPDATE {table} SET case_id = ({_LATEST_CASE.format(table=table, at=at)}) "
            f"WHERE case_id IS NULL AND contact_id IS NOT NULL AND {at} IS NOT NULL"
        )


def downgrade() -> None:
    with op.batch_alter_table("inboundmessage") as batch:
        batch.drop_index("ix_inbound_sender_status")
        batch.drop_index("ix_inboundmessage_case_id")
        batch.drop_constraint("fk_inboundmessage_case_id_case", type_="foreignkey")
        batch.drop_column("case_id")
