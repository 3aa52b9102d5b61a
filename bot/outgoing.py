"""Replies into the outbox: rendered for the person's channel, one row per message.

`queue_replies` is the only way a row enters the outbox — the bot's replies, staff's,
follow-ups, alerts, the STOP/HELP confirmations and the Telegram group notice alike — so
every message is rendered for its channel (SMS in GSM-7, split where needed). The inbox
writer renders with `outbox_rows` as it processes a batch and stores every row of the batch
at once with `insert_outbox`.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any, Final

from sqlalchemy import insert
from sqlmodel import Session

from bot.engine.model import Reply
from bot.models import OutboundMessage
from bot.render import render
from bot.types import PRIORITY_RANK, Priority

_T: Any = OutboundMessage.__table__  # type: ignore[attr-defined]
# Built once; one multi-row INSERT for a list of rows, the ids returned in the rows' order.
_INSERT: Final = insert(_T).returning(_T.c.id, sort_by_parameter_order=True)


def queue_replies(
    session: Session,
    *,
    contact_id: int,
    channel: str,
    replies: Sequence[Reply],
    now: datetime,
    inbound_id: int | None = None,
    case_id: int | None = None,
    kind: str = "reply",
    render_as: str | None = None,
    priority: Priority = "normal",
) -> list[int]:
    """Render `replies` for the channel (or `render_as`) and store them; return the row ids
    in send order. `priority` orders sending across people when the provider's pace is the
    bottleneck (critical first). A sender delivers them (bot.delivery); pulled channels mark them
    delivered through `bot.outbox.mark_delivered`."""
    session.flush()  # what the caller changed is written first, as an ORM insert would
    rows = outbox_rows(
        contact_id=contact_id,
        channel=channel,
        replies=replies,
        now=now,
        inbound_id=inbound_id,
        case_id=case_id,
        kind=kind,
        render_as=render_as,
        priority=priority,
    )
    return insert_outbox(session, rows)


def outbox_rows(
    *,
    contact_id: int,
    channel: str,
    replies: Sequence[Reply],
    now: datetime,
    inbound_id: int | None = None,
    case_id: int | None = None,
    kind: str = "reply",
    render_as: str | None = None,
    priority: Priority = "normal",
) -> list[dict[str, Any]]:
    """The outbox rows for `replies`, rendered for the channel, in send order: the column
    values of one `OutboundMessage(...)` each, not stored yet."""
    return [
        {
            "contact_id": contact_id,
            "channel": channel,
            "inbound_id": inbound_id,
            "seq": seq,
            "case_id": case_id,
            "kind": kind,
            "priority_rank": PRIORITY_RANK[priority],
            "text": part.text,
            "options": [{"label": o.label, "value": o.value} for o in part.options],
            "status": "pending",
            "attempts": 0,
            "created_at": now,
            "next_attempt_at": now,
            "updated_at": now,
        }
        for seq, part in enumerate(render(render_as or channel, replies))
    ]


def insert_outbox(session: Session, rows: Sequence[dict[str, Any]]) -> list[int]:
    """Store outbox rows made by `outbox_rows` in one statement; return their ids in order."""
    if not rows:
        return []
    result = session.connection().execute(_INSERT, list(rows))
    return [int(row_id) for row_id in result.scalars()]
