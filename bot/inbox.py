"""The inbox: store every inbound message once, before anything else happens to it.

`store_inbound` inserts with the provider's id as a unique key and reports whether the row
is new, so a redelivered webhook is recognised and answered once.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import bindparam
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session

from bot.crypto import lookup_hash
from bot.models import InboundMessage, utcnow


def sender_key(channel: str, address: str) -> str:
    """The keyed hash that identifies a sender on a channel without storing it in clear."""
    return lookup_hash(f"{channel}:{address}")


def store_inbound(
    session: Session,
    *,
    channel: str,
    provider_id: str,
    sender: str,
    text: str,
    payload: dict[str, Any] | None = None,
    max_chars: int | None = None,
) -> int | None:
    """Insert the message; return its id, or None when this provider id is already stored."""
    truncated_from = None
    if max_chars is not None and len(text) > max_chars:
        truncated_from, text = len(text), text[:max_chars]
    values = {
        "channel": channel,
        "provider_id": provider_id,
        "sender_hash": sender_key(channel, sender),
        "sender": sender,
        "text": text,
        "payload": payload,
        "truncated_from": truncated_from,
        "received_at": utcnow(),
        "status": "pending",
        "attempts": 0,
    }
    statement = _INSERTS[session.get_bind().dialect.name]
    row = session.execute(statement, values).first()
    return None if row is None else int(row[0])


def _insert_once(dialect: Any) -> Any:
    """INSERT … ON CONFLICT (channel, provider_id) DO NOTHING RETURNING id, built once."""
    table = InboundMessage.__table__  # type: ignore[attr-defined]
    columns = (
        "channel",
        "provider_id",
        "sender_hash",
        "sender",
        "text",
        "payload",
        "truncated_from",
        "received_at",
        "status",
        "attempts",
    )
    return (
        dialect.insert(table)
        .values({name: bindparam(name, type_=table.c[name].type) for name in columns})
        .on_conflict_do_nothing(index_elements=["channel", "provider_id"])
        .returning(table.c.id)
    )


# Built once: constructing the statement per call cost more than running it.
_INSERTS: dict[str, Any] = {"postgresql": _insert_once(postgresql), "sqlite": _insert_once(sqlite)}
