"""The inbox writer: group commit of what the webhooks receive, processing in the same write.

A webhook hands its message to `Processor.accept` and waits. One writer (a task with a
thread of its own) takes everything that arrived while it was busy and, in one write
transaction, stores all those messages in the inbox (one multi-row insert), runs the
channels' own bookkeeping (an SMS STOP), and runs the stored messages through the engine —
state, cases and replies — so one commit (one disk sync) covers the whole batch. Only after
that commit are the waiting webhooks released to answer 2xx: an answered message is always
stored, and normally already processed.

- **In a surge** the writer stores everything that arrived but processes at most
  `batch_size` messages per transaction, oldest first; the rest wait, stored, in this
  process's backlog for the next batches. While more than `busy_backlog` wait, each new
  writer gets one immediate "saved, we answer in order, 911 if in danger" in the same
  transaction (once per person per ten minutes).
- **A failure inside a batch** (a bug, a deadlock) rolls the batch back; then each message
  is stored on its own, and each is processed on its own, so the one that fails is retried
  alone (its attempt counted by the engine) and cannot fail the others.
- **Order and exactly once**: the engine processes a person's stored messages oldest first
  under a lock on the person, and only messages still pending (see
  `bot.conversations.Hotline.process_batch`), so two writers — two processes — never run one
  person's messages out of order or twice.

An engine without `process_batch` (the tests' stand-ins) gets the same group-committed
storing, then `process` per message after the commit. Nothing kept in memory is needed for
durability: a message stored but not processed (crash, shutdown) stays `pending` in the inbox
and is picked up at the next start and by the inbox sweep.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import Counter, deque
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Final, Protocol, runtime_checkable

from sqlmodel import Session, col, select

from bot.db import Database, lost_a_conflict
from bot.inbox import NewMessage, store_many
from bot.metrics import Metrics
from bot.models import InboundMessage, InboundStatus, utcnow

logger = logging.getLogger(__name__)

# Messages processed per transaction at most (replies go out per commit). 32, not 8: a batch
# has a fixed cost (the people locked and read, the rows written) that 8 messages did not
# cover — 50 people at once: 8 → 238 steps/s, 16 → 406, 32 → 447 (bench/RESULTS.md).
BATCH_SIZE: Final = 32
STORE_MAX: Final = 2_000  # messages stored per transaction at most
LINGER: Final = 0.001  # seconds the writer waits for more when it has fewer than a batch
RECOVER_LIMIT: Final = 10_000  # pending messages taken up at start
PAUSE_AFTER_FAILURE: Final = 0.5  # seconds the writer waits after a batch that failed

# Runs inside the storing transaction; returns True when the channel fully handled the
# message itself (it is then marked processed and never reaches the engine).
Extra = Callable[[Session, int], bool]


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


@runtime_checkable
class BatchEngine(Protocol):
    """An engine that processes stored messages inside the caller's write transaction."""

    def process_batch(
        self,
        session: Session,
        inbound_ids: Sequence[int],
        *,
        now: datetime,
        notify: Sequence[int] = (),
    ) -> dict[int, list[int]]:
        """Run the messages (and any older pending ones of the same people), oldest first;
        send the surge notice for the stored messages in `notify`; return each processed
        message's outbox ids."""
        ...

    def urgent(self, text: str) -> bool:
        """Whether a message reads as critical (in a surge it is processed first)."""
        ...


@dataclass(frozen=True, slots=True)
class Stored:
    """What storing one message came to: its inbox id (None: a duplicate) and whether the
    channel's own bookkeeping handled it."""

    inbound_id: int | None
    handled: bool = False


@dataclass(slots=True)
class _Arrival:
    message: NewMessage
    extra: Extra | None
    done: asyncio.Future[Stored]


@dataclass(frozen=True, slots=True)
class _Waiting:
    """A stored message waiting for a later batch; urgent ones go first."""

    inbound_id: int
    urgent: bool = False


@dataclass(slots=True)
class _Outcome:
    stored: list[Stored | BaseException]
    processed: list[int]
    replies: int
    deferred: list[_Waiting]
    failed: bool = False


class Processor:
    """The inbox writer: stores and processes in batches, one transaction per batch."""

    def __init__(
        self,
        db: Database,
        engine: Engine,
        *,
        on_replies: Callable[[], None],
        metrics: Metrics | None = None,
        busy_backlog: int = 100,
        batch_size: int = BATCH_SIZE,
        max_chars: int | None = None,
        linger: float = LINGER,
        recover: bool = True,
        on_processed: Callable[[list[int]], None] | None = None,
    ) -> None:
        self.db = db
        self.engine = engine
        self.on_replies = on_replies
        self.metrics = metrics
        self.busy_backlog = busy_backlog
        self.batch_size = max(1, batch_size)
        self.max_chars = max_chars
        self.linger = linger
        self.recover = recover
        self.on_processed = on_processed
        self._arrivals: deque[_Arrival] = deque()
        self._backlog: deque[_Waiting] = deque()
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._thread: ThreadPoolExecutor | None = None
        self._stopping = False
        self._acks: set[asyncio.Task[None]] = set()
        # Since start: commits, messages stored and processed, messages left for a later batch.
        self.stats: Counter[str] = Counter()

    def start(self) -> None:
        """Start the writer (and take up what an earlier run left pending)."""
        self._stopping = False
        self._thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="inbox-writer")
        self._task = asyncio.create_task(self._write_loop(), name="inbox-writer")

    async def stop(self, grace: float = 10.0) -> None:
        """Store what has arrived and finish the batch in hand; the backlog stays pending in
        the inbox for the next start or the sweep."""
        self._stopping = True
        self._backlog.clear()
        self._wake.set()
        if self._task is not None:
            try:
                await asyncio.wait_for(asyncio.shield(self._task), grace)
            except TimeoutError:
                self._task.cancel()
                await asyncio.gather(self._task, return_exceptions=True)
            self._task = None
        for arrival in self._arrivals:  # never stored: the provider retries
            if not arrival.done.done():
                arrival.done.set_exception(RuntimeError("shutting down"))
        self._arrivals.clear()
        if self._thread is not None:
            self._thread.shutdown(wait=False)
            self._thread = None

    async def accept(self, message: NewMessage, extra: Extra | None = None) -> Stored:
        """Store the message (group commit) and return once it is durably stored; raises when
        it could not be stored (answer 5xx: the provider retries)."""
        if self._stopping:
            raise RuntimeError("the inbox writer is stopping")
        if self._task is None:  # not started (no lifespan): store now, the sweep processes
            outcome = await asyncio.to_thread(self._batch, [message], [extra], [], process=False)
            result = outcome.stored[0]
            assert isinstance(result, Stored)
            return result
        done: asyncio.Future[Stored] = asyncio.get_running_loop().create_future()
        self._arrivals.append(_Arrival(message, extra, done))
        self._wake.set()
        return await done

    def submit(self, inbound_id: int, sender: str = "") -> None:
        """Queue an already stored message for processing, in its turn; when the backlog is
        deep, its writer hears at once that it is saved (in a transaction of its own)."""
        if self.backlog() >= self.busy_backlog:
            task = asyncio.create_task(self._acknowledge(inbound_id))
            self._acks.add(task)
            task.add_done_callback(self._acks.discard)
        self._backlog.append(_Waiting(inbound_id))
        self._wake.set()

    def backlog(self) -> int:
        """Messages waiting in this process: stored and unprocessed, or not yet stored."""
        return len(self._backlog) + len(self._arrivals)

    async def _acknowledge(self, inbound_id: int) -> None:
        try:
            sent = await asyncio.to_thread(self.engine.acknowledge_busy, self.db, inbound_id)
        except Exception as exc:
            logger.warning("inbound %s: busy notice failed (%s)", inbound_id, type(exc).__name__)
            return
        if sent:
            self._count("busy_notice")
            with contextlib.suppress(Exception):
                self.on_replies()

    async def _write_loop(self) -> None:
        loop = asyncio.get_running_loop()
        if self.recover:
            with contextlib.suppress(Exception):
                left = await loop.run_in_executor(self._thread, self._left_pending)
                self._backlog.extend(_Waiting(i) for i in left)
        while not (self._stopping and not self._arrivals):
            if not self._arrivals and not self._backlog:
                self._wake.clear()
                await self._wake.wait()
                continue
            if self.linger and len(self._arrivals) < self.batch_size and not self._stopping:
                await asyncio.sleep(self.linger)  # let a burst gather into one commit
            arrivals = [
                self._arrivals.popleft() for _ in range(min(STORE_MAX, len(self._arrivals)))
            ]
            backlog = list(self._backlog)
            self._backlog.clear()
            started = time.perf_counter()
            try:
                outcome = await loop.run_in_executor(
                    self._thread,
                    self._write,
                    [a.message for a in arrivals],
                    [a.extra for a in arrivals],
                    backlog,
                )
            except asyncio.CancelledError:  # cancelled at shutdown: nothing was answered
                for arrival in arrivals:
                    if not arrival.done.done():
                        arrival.done.set_exception(RuntimeError("shutting down"))
                raise
            except Exception as exc:  # never stored: those webhooks answer 5xx, the writer goes on
                logger.error("inbox writer: a batch failed (%s)", type(exc).__name__)
                for arrival in arrivals:
                    if not arrival.done.done():
                        arrival.done.set_exception(exc)
                self._backlog.extend(backlog)
                await asyncio.sleep(PAUSE_AFTER_FAILURE)
                continue
            self._backlog.extendleft(reversed(outcome.deferred))
            self.stats.update(
                batches=1,
                stored=sum(isinstance(r, Stored) for r in outcome.stored),
                processed=len(outcome.processed),
                deferred=len(outcome.deferred),
            )
            for arrival, result in zip(arrivals, outcome.stored, strict=True):
                if arrival.done.done():
                    continue
                if isinstance(result, BaseException):
                    arrival.done.set_exception(result)
                else:
                    arrival.done.set_result(result)
            self._observe(outcome, time.perf_counter() - started)
            if outcome.replies or outcome.processed:
                with contextlib.suppress(Exception):
                    self.on_replies()
            if self.on_processed is not None and outcome.processed:
                with contextlib.suppress(Exception):
                    self.on_processed(outcome.processed)
            if outcome.failed:  # e.g. the database is away: do not spin on the backlog
                await asyncio.sleep(PAUSE_AFTER_FAILURE)

    def _left_pending(self) -> list[int]:
        """Messages a previous run stored and never processed (oldest first)."""
        with self.db.read() as session:
            ids = session.exec(
                select(InboundMessage.id)
                .where(InboundMessage.status == InboundStatus.pending)
                .order_by(col(InboundMessage.id))
                .limit(RECOVER_LIMIT)
            ).all()
        return [i for i in ids if i is not None]

    def _write(
        self, messages: list[NewMessage], extras: list[Extra | None], backlog: list[_Waiting]
    ) -> _Outcome:
        """One batch, in the writer's thread; lost to another process's transaction, once
        more; on any other failure, each message on its own."""
        failure: Exception | None = None
        for attempt in range(2):
            try:
                return self._batch(messages, extras, backlog)
            except Exception as exc:
                failure = exc
                if attempt or not lost_a_conflict(exc):
                    break
                logger.info("inbox batch lost a lock conflict to another process; once more")
        logger.warning(
            "inbox batch of %s new and %s waiting failed (%s); storing and processing "
            "each message on its own",
            len(messages),
            len(backlog),
            type(failure).__name__,
        )
        stored: list[Stored | BaseException] = []
        for message, extra in zip(messages, extras, strict=True):
            try:
                stored.append(self._batch([message], [extra], [], process=False).stored[0])
            except Exception as exc:
                stored.append(exc)
        now, deferred = self._split(backlog, messages, stored)
        replies = 0
        for inbound_id in now:
            try:
                replies += len(self.engine.process(self.db, inbound_id))
            except Exception as exc:  # stays pending: the sweep runs it again
                logger.warning("inbound %s: processing failed (%s)", inbound_id, type(exc).__name__)
        return _Outcome(stored, now, replies, deferred, failed=True)

    def _batch(
        self,
        messages: list[NewMessage],
        extras: list[Extra | None],
        backlog: list[_Waiting],
        *,
        process: bool = True,
    ) -> _Outcome:
        """Store `messages` and, when `process`, run at most a batch of the waiting and the
        new ones (urgent ones first, then in arrival order) through the engine, all in one
        transaction."""
        batching = isinstance(self.engine, BatchEngine)
        now: list[int] = []
        deferred: list[_Waiting] = []
        replies: dict[int, list[int]] = {}
        with self.db.write() as session:
            ids = store_many(session, messages, max_chars=self.max_chars)
            stored: list[Stored | BaseException] = [
                Stored(i, i is not None and extra is not None and extra(session, i))
                for i, extra in zip(ids, extras, strict=True)
            ]
            session.flush()  # what the channels' bookkeeping changed, before processing
            if process:
                now, deferred = self._split(backlog, messages, stored)
            if batching and now:
                fresh = set(_to_process(stored))
                waiting = len(deferred) >= self.busy_backlog
                notify = (
                    [w.inbound_id for w in deferred if w.inbound_id in fresh] if waiting else []
                )
                engine: BatchEngine = self.engine  # type: ignore[assignment]
                replies = engine.process_batch(session, now, now=utcnow(), notify=notify)
        if not batching:  # an engine that writes in its own transactions, after the commit
            for inbound_id in now:
                replies[inbound_id] = self.engine.process(self.db, inbound_id)
        count = sum(len(r) for r in replies.values())
        processed = sorted(set(now) | set(replies)) if batching else now
        return _Outcome(stored, processed, count, deferred)

    def _split(
        self,
        backlog: list[_Waiting],
        messages: list[NewMessage],
        stored: list[Stored | BaseException],
    ) -> tuple[list[int], list[_Waiting]]:
        """What to process now (at most a batch) and what waits. Only when not everything
        fits is each new message read for urgency: then urgent ones go first — a person's
        older messages still run before theirs (the engine runs a person's in order)."""
        fresh = [
            (s.inbound_id, m.text)
            for s, m in zip(stored, messages, strict=True)
            if isinstance(s, Stored) and s.inbound_id is not None and not s.handled
        ]
        if len(backlog) + len(fresh) <= self.batch_size:
            return [w.inbound_id for w in backlog] + [i for i, _ in fresh], []
        judge = getattr(self.engine, "urgent", None)
        waiting = backlog + [_Waiting(i, bool(judge and judge(text))) for i, text in fresh]
        ordered = [w for w in waiting if w.urgent] + [w for w in waiting if not w.urgent]
        return (
            [w.inbound_id for w in ordered[: self.batch_size]],
            ordered[self.batch_size :],
        )

    def _observe(self, outcome: _Outcome, seconds: float) -> None:
        if outcome.processed:
            self._count("processed", len(outcome.processed))
            if self.metrics is not None:
                self.metrics.processing_seconds.observe(seconds)
        if outcome.failed:
            self._count("error")

    def _count(self, outcome: str, amount: int = 1) -> None:
        if self.metrics is not None:
            self.metrics.processed.labels(outcome=outcome).inc(amount)


def _to_process(stored: Sequence[Stored | BaseException]) -> list[int]:
    """The ids of newly stored messages the channels did not handle themselves."""
    return [
        s.inbound_id
        for s in stored
        if isinstance(s, Stored) and s.inbound_id is not None and not s.handled
    ]
