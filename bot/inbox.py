"""The inbox: store every inbound message once, before anything else happens to it.

`store_many` inserts a batch with the provider's id as a unique key, in one statement
(`INSERT … ON CONFLICT DO NOTHING RETURNING`, executed as one multi-row insert), and reports
for each message whether its row is new, so a redelivered webhook is recognised and
answered once. `store_inbound` is the same for one message.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import bindparam
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session

from bot.crypto import lookup_hash, lookup_hashes
from bot.models import InboundMessage, utcnow


@dataclass(frozen=True, slots=True)
class NewMessage:
    """A message as a channel received it, before it is stored."""

    channel: str
    provider_id: str
    sender: str
    text: str
    payload: dict[str, Any] | None = None


def sender_key(channel: str, address: str) -> str:
    """The keyed hash that identifies a sender on a channel without storing it in clear."""
    return lookup_hash(f"{channel}:{address}")


def sender_keys(channel: str, address: str) -> tuple[str, ...]:
    """The sender's keyed hash under every secret of the keyring, the current one first:
    while `hotline keys rotate` rehashes, a row may still hold an old one."""
    return lookup_hashes(f"{channel}:{address}")


def storable(text: str) -> str:
    """Text the database can hold, from any channel: a lone surrogate (an unpaired "\ud800"
    escape in a provider's JSON) becomes U+FFFD instead of failing the writer's batch."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return text.encode("utf-16", "surrogatepass").decode("utf-16", "replace")
    return text


def store_many(
    session: Session, messages: Sequence[NewMessage], *, max_chars: int | None = None
) -> list[int | None]:
    """Insert the messages; return each one's id in order, None for one already stored
    (earlier, or earlier in this batch)."""
    if not messages:
        return []
    now = utcnow()
    rows: list[dict[str, Any]] = []
    first: dict[tuple[str, str], int] = {}  # (channel, provider id) → index in `messages`
    for index, message in enumerate(messages):
        key = (message.channel, message.provider_id)
        if key in first:
            continue
        first[key] = index
        text, truncated_from = storable(message.text), None
        if max_chars is not None and len(text) > max_chars:
            truncated_from, text = len(text), text[:max_chars]
        rows.append(
            {
                "channel": message.channel,
                "provider_id": message.provider_id,
                "sender_hash": sender_key(message.channel, message.sender),
                "sender": message.sender,
                "text": text,
                "payload": message.payload,
                "truncated_from": truncated_from,
                "received_at": now,
                "status": "pending",
                "attempts": 0,
            }
        )
    statement = _INSERTS[session.get_bind().dialect.name]
    stored = session.connection().execute(statement, rows).all()
    ids: list[int | None] = [None] * len(messages)
    for inbound_id, channel, provider_id in stored:
        ids[first[(channel, provider_id)]] = int(inbound_id)
    return ids


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
    message = NewMessage(channel, provider_id, sender, text, payload)
    return store_many(session, [message], max_chars=max_chars)[0]


def _insert_once(dialect: Any) -> Any:
    """INSERT … ON CONFLICT (channel, provider_id) DO NOTHING RETURNING id, channel,
    provider_id, built once (executed with a list of rows: one multi-row statement)."""
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
        .returning(table.c.id, table.c.channel, table.c.provider_id)
    )


# Built once: constructing the statement per call cost more than running it.
_INSERTS: dict[str, Any] = {"postgresql": _insert_once(postgresql), "sqlite": _insert_once(sqlite)}
