"""Stand-ins for the conversation engine at the channel seam (`process` / `process_pending`).

`EchoEngine` answers each message with one reply (and buttons when asked) so the channel
tests can count deliveries exactly; `CrashingEngine` dies before processing, like a worker
killed between storing and processing. The real `bot.conversations.Hotline` is used by the
end-to-end tests.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlmodel import col, select

from bot.contacts import get_or_create_contact
from bot.db import Database
from bot.models import InboundMessage, InboundStatus, OutboundMessage, utcnow

MENU = [
    {"label": "Redada o detención", "value": "raid"},
    {"label": "Pasaporte y documentos consulares del consulado", "value": "d" * 70},
]


class EchoEngine:
    """Replies `echo: <text>`; `menu` gets buttons; `twice` gets two replies."""

    def __init__(self) -> None:
        self.seen: list[int] = []

    def process(self, db: Database, inbound_id: int, *, now: datetime | None = None) -> list[int]:
        now = now or utcnow()
        with db.write() as session:
            message = session.get(InboundMessage, inbound_id)
            if message is None or message.status != InboundStatus.pending:
                return []
            self.seen.append(inbound_id)
            contact = get_or_create_contact(session, message.channel, message.sender, now)
            message.status, message.processed_at = InboundStatus.processed, now
            message.contact_id = contact.id
            assert contact.id is not None
            texts = [f"echo: {message.text}"]
            if message.text == "twice":
                texts.append("second")
            rows = [
                OutboundMessage(
                    contact_id=contact.id,
                    channel=message.channel,
                    inbound_id=message.id,
                    seq=i,
                    text=text,
                    created_at=now,
                    next_attempt_at=now,
                    updated_at=now,
                    options=MENU if message.text == "menu" else [],
                )
                for i, text in enumerate(texts)
            ]
            session.add_all(rows)
            session.flush()
            return [r.id for r in rows if r.id is not None]

    def acknowledge_busy(
        self, db: Database, inbound_id: int, *, now: datetime | None = None
    ) -> list[int]:
        """The echo engine never reports a surge."""
        return []

    def prepare(self, db: Database) -> None:
        """Nothing to prepare: the echo engine opens no cases."""

    def process_pending(
        self,
        db: Database,
        *,
        now: datetime | None = None,
        older_than: timedelta = timedelta(seconds=30),
        limit: int = 200,
    ) -> int:
        now = now or utcnow()
        with db.read() as session:
            ids = session.exec(
                select(InboundMessage.id)
                .where(
                    InboundMessage.status == InboundStatus.pending,
                    col(InboundMessage.received_at) <= now - older_than,
                )
                .limit(limit)
            ).all()
        for inbound_id in ids:
            assert inbound_id is not None
            self.process(db, inbound_id, now=now)
        return len(ids)


class CrashingEngine(EchoEngine):
    """Dies before touching the message, as a killed worker would."""

    def process(self, db: Database, inbound_id: int, *, now: datetime | None = None) -> list[int]:
        raise RuntimeError("worker killed before processing")
