"""Reading a web session's replies without the database's write lock.

The page polls every few seconds, and in a surge thousands of pages do; none of them may
wait behind the writers (on SQLite, one at a time). A poll is therefore a read: the session's
replies above the page's last id, and whether the person's data was erased (BORRAR), which
ends the session in the browser. It runs on threads of its own (`Readers`), so writers queued
for the write lock in the shared worker threads cannot hold polls up either. Marking the
replies delivered is a write the poll does not wait for: `DeliveryMarks` gathers the ids of
every poll and writes them in one statement per batch, in the background
(`bot.outbox.mark_delivered`).
"""

from __future__ import annotations

import asyncio
import hmac
import logging
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, Final, TypeVar

from sqlmodel import Session, col, select

from bot.contacts import find_contact
from bot.db import Database
from bot.models import Contact, OutboundMessage, OutboundStatus, utcnow
from bot.outbox import mark_delivered

logger = logging.getLogger(__name__)

READ_THREADS: Final = 8
T = TypeVar("T")


class Readers:
    """Threads that only read, apart from the ones writers may be holding."""

    def __init__(self, threads: int = READ_THREADS) -> None:
        self._pool = ThreadPoolExecutor(max_workers=threads, thread_name_prefix="webchat-read")

    async def run(self, read: Callable[..., T], *args: Any) -> T:
        """Run `read(*args)` on a reading thread."""
        return await asyncio.get_running_loop().run_in_executor(self._pool, read, *args)


@dataclass(slots=True)
class Replies:
    """What one poll finds for a session."""

    messages: list[dict[str, Any]] = field(default_factory=list)
    undelivered: list[int] = field(default_factory=list)  # still `pending`: mark them
    ended: bool = False  # the person's data was erased: the browser forgets the session


def replies_after(db: Database, session_id: str, after: int, limit: int = 50) -> Replies:
    """The replies to this web session with an id above `after` (a read only)."""
    with db.read() as session:
        contact = find_contact(session, "web", session_id) or _erased(session, session_id, after)
        if contact is None:
            return Replies()
        rows = session.exec(
            select(OutboundMessage)
            .where(
                OutboundMessage.contact_id == contact.id,
                col(OutboundMessage.id) > after,
                OutboundMessage.status != OutboundStatus.suppressed,
            )
            .order_by(col(OutboundMessage.id))
            .limit(limit)
        ).all()
        shown = [r for r in rows if r.id is not None and r.text]  # erased rows have no text
        return Replies(
            messages=[{"id": r.id, "text": r.text, "options": r.options or []} for r in shown],
            undelivered=[r.id for r in shown if r.id is not None and r.status == "pending"],
            ended=contact.erased_at is not None,
        )


def _erased(session: Session, session_id: str, after: int) -> Contact | None:
    """The session's contact once BORRAR erased it: no hash finds it any more (it is random
    now), but the page shows it held the conversation by the last reply it was shown, whose
    contact keeps the session id (encrypted) until the erasure's confirmation is delivered."""
    shown = session.get(OutboundMessage, after) if after > 0 else None
    if shown is None or shown.channel != "web":
        return None
    contact = session.get(Contact, shown.contact_id)
    if contact is None or contact.erased_at is None or not contact.address:
        return None
    return contact if hmac.compare_digest(contact.address, session_id) else None


class DeliveryMarks:
    """Marks polled replies delivered in batches, off the polls' path."""

    def __init__(self, db: Database) -> None:
        self.db = db
        self._ids: set[int] = set()
        self._task: asyncio.Task[None] | None = None

    def add(self, outbound_ids: Iterable[int]) -> None:
        """Queue these rows to be marked delivered; returns at once."""
        self._ids.update(outbound_ids)
        if self._ids and (self._task is None or self._task.done()):
            self._task = asyncio.create_task(self._flush())

    async def _flush(self) -> None:
        while self._ids:
            batch, self._ids = self._ids, set()
            try:
                await asyncio.to_thread(self._write, batch)
            except Exception as exc:  # the page has them; only their status waits
                logger.error(
                    "web chat: could not mark %d replies delivered (%s)",
                    len(batch),
                    type(exc).__name__,
                )
                return

    def _write(self, batch: set[int]) -> None:
        with self.db.write() as session:
            mark_delivered(session, sorted(batch), now=utcnow())
