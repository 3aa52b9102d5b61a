"""Processing after the 2xx: stored inbound messages go through the engine in worker tasks.

A webhook stores the message and hands its id to `Processor.submit`; a worker runs
`engine.process` in a thread and wakes the sender. Messages of one sender always go to the
same worker, so a person's messages are processed one at a time and in order. Nothing here
is needed for durability: a message whose processing never happened (crash, full queue,
shutdown) is still `pending` in the inbox and the scheduler's sweep runs it later.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
import zlib
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Protocol

from bot.db import Database
from bot.metrics import Metrics

logger = logging.getLogger(__name__)
QUEUE_SIZE = 10_000


class Engine(Protocol):
    """The conversation engine as the channels see it (`bot.conversations.Hotline`)."""

    def prepare(self, db: Database) -> None:
        """Get the database ready for processing (desks in place); run once at start."""
        ...

    def process(self, db: Database, inbound_id: int, *, now: datetime | None = None) -> list[int]:
        """Run one stored message; return the ids of its outbox rows in send order."""
        ...

    def process_pending(
        self,
        db: Database,
        *,
        now: datetime | None = None,
        older_than: timedelta = ...,
        limit: int = ...,
    ) -> int:
        """Run stored messages still pending after `older_than`; return how many."""
        ...

    def acknowledge_busy(
        self, db: Database, inbound_id: int, *, now: datetime | None = None
    ) -> list[int]:
        """In a surge, tell the sender at once their message is saved (once per window)."""
        ...


class Processor:
    """A small pool of workers that run submitted inbound ids through the engine."""

    def __init__(
        self,
        db: Database,
        engine: Engine,
        *,
        on_replies: Callable[[], None],
        metrics: Metrics | None = None,
        workers: int = 2,
        busy_backlog: int = 100,
    ) -> None:
        self.db = db
        self.engine = engine
        self.on_replies = on_replies
        self.metrics = metrics
        self.workers = max(1, workers)
        self.busy_backlog = busy_backlog
        self._queues: list[asyncio.Queue[int | None]] = [
            asyncio.Queue(QUEUE_SIZE) for _ in range(self.workers)
        ]
        self._tasks: list[asyncio.Task[None]] = []
        self._acks: set[asyncio.Task[None]] = set()

    def start(self) -> None:
        """Start the workers."""
        self._tasks = [
            asyncio.create_task(self._work(queue), name=f"processor-{i}")
            for i, queue in enumerate(self._queues)
        ]

    async def stop(self, grace: float = 10.0) -> None:
        """Finish the message in hand; what is still queued is left to the sweep."""
        for queue in self._queues:
            while not queue.empty():
                queue.get_nowait()
            queue.put_nowait(None)
        if self._tasks:
            _, late = await asyncio.wait(self._tasks, timeout=grace)
            for task in late:
                task.cancel()
            await asyncio.gather(*late, return_exceptions=True)
        self._tasks = []

    def submit(self, inbound_id: int, sender: str = "") -> None:
        """Queue a stored message on its sender's worker (when full, the sweep catches up)."""
        queue = self._queues[zlib.crc32(sender.encode()) % len(self._queues)]
        if self.backlog() >= self.busy_backlog:
            task = asyncio.create_task(self._acknowledge(inbound_id))
            self._acks.add(task)
            task.add_done_callback(self._acks.discard)
        try:
            queue.put_nowait(inbound_id)
        except asyncio.QueueFull:
            logger.warning("processing queue full; inbound %s left to the sweep", inbound_id)

    def backlog(self) -> int:
        """Messages waiting in this process's queues."""
        return sum(queue.qsize() for queue in self._queues)

    async def _acknowledge(self, inbound_id: int) -> None:
        """Surge: an immediate 'saved, in line, 911 if in danger' before the real answer."""
        try:
            sent = await asyncio.to_thread(self.engine.acknowledge_busy, self.db, inbound_id)
        except Exception as exc:
            logger.warning("inbound %s: busy notice failed (%s)", inbound_id, type(exc).__name__)
            return
        if sent:
            self._count("busy_notice")
            with contextlib.suppress(Exception):
                self.on_replies()

    async def _work(self, queue: asyncio.Queue[int | None]) -> None:
        while (inbound_id := await queue.get()) is not None:
            await self.run(inbound_id)

    async def run(self, inbound_id: int) -> list[int]:
        """Process one message now; errors are logged (the message stays for the sweep)."""
        started = time.perf_counter()
        try:
            replies = await asyncio.to_thread(self.engine.process, self.db, inbound_id)
        except Exception as exc:
            logger.warning(
                "inbound %s: processing failed (%s); the sweep will retry",
                inbound_id,
                type(exc).__name__,
            )
            self._count("error")
            return []
        if self.metrics is not None:
            self.metrics.processing_seconds.observe(time.perf_counter() - started)
        self._count("processed")
        if replies:
            with contextlib.suppress(Exception):
                self.on_replies()
        return replies

    def _count(self, outcome: str) -> None:
        if self.metrics is not None:
            self.metrics.processed.labels(outcome=outcome).inc()
