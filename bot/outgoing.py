"""Replies into the outbox: rendered for the person's channel, one row per message.

`queue_replies` is the only way a row enters the outbox — the bot's replies, staff's,
follow-ups, alerts, the STOP/HELP confirmations and the Telegram group notice alike — so
every message is rendered for its channel (SMS in GSM-7, split where needed).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlmodel import Session

from bot.engine.model import Reply
from bot.models import OutboundMessage
from bot.render import render
from bot.types import PRIORITY_RANK, Priority


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
    rows = [
        OutboundMessage(
            contact_id=contact_id,
            channel=channel,
            inbound_id=inbound_id,
            seq=seq,
            case_id=case_id,
            kind=kind,
            priority_rank=PRIORITY_RANK[priority],
            text=part.text,
            options=[{"label": o.label, "value": o.value} for o in part.options],
            created_at=now,
            next_attempt_at=now,
            updated_at=now,
        )
        for seq, part in enumerate(render(render_as or channel, replies))
    ]
    session.add_all(rows)
    session.flush()
    return [row.id for row in rows if row.id is not None]
