"""The scheduler's sweeps: plain functions over rows, idempotent, safe in several processes.

`sweep_inbox` runs stored messages a crash left unprocessed; `release_leases` returns outbox
rows whose sender vanished; `refresh_metrics` updates the outbox gauge. `build_scheduler`
only registers them (plus any extra jobs the caller passes) on an APScheduler 3
`AsyncIOScheduler`; tests call the functions directly with their own `now`.

With several `hotline serve` processes each has its scheduler, and each sweep still runs once
per interval across all of them: a run first claims its interval (`claim_run`, a
`SweepMark` row whose insert is the claim) and the other processes skip that interval. The
sweeps stay idempotent on their own (row locks, once-only marks), so a run that overlaps
another one by a clock's drift does no harm either.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any, Final, Protocol

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from sqlalchemy import delete
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import col

from bot.db import Database
from bot.delivery import Sender
from bot.metrics import Metrics
from bot.models import SweepMark, utcnow
from bot.outbox import channel_backlog, pending_counts, release_expired_leases

logger = logging.getLogger(__name__)

INBOX_GRACE: Final = timedelta(seconds=30)  # younger messages are still with a worker
INBOX_EVERY: Final = 15
OUTBOX_EVERY: Final = 30
METRICS_EVERY: Final = 15
# Each sweep runs once per interval across every process: the first to claim the interval
# runs it. The metrics gauge is per process (each one's /metrics), so every process runs it.
PER_PROCESS: Final = frozenset({"refresh_metrics"})
SWEEP_MARK: Final = "sweep"
MARKS_KEPT: Final = timedelta(days=1)
MARKS_PURGE_EVERY: Final = 50


class Engine(Protocol):
    """What the sweeps need of the conversation engine (`bot.conversations.Hotline`)."""

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


def sweep_inbox(
    db: Database, engine: Engine, *, now: datetime, older_than: timedelta = INBOX_GRACE
) -> int:
    """Process stored messages still pending after `older_than`; return how many."""
    return engine.process_pending(db, now=now, older_than=older_than)


def release_leases(db: Database, *, now: datetime) -> int:
    """Return outbox rows whose sending lease ran out to `pending`; return how many."""
    return release_expired_leases(db, now=now)


def refresh_metrics(db: Database, metrics: Metrics) -> None:
    """Recount the open outbox rows, and the backlog per channel, for /metrics."""
    metrics.set_outbox(pending_counts(db))
    now = utcnow()
    with db.read() as session:
        backlog = channel_backlog(session)
    metrics.inbox_waiting.clear()
    metrics.oldest_reply_seconds.clear()
    for line in backlog:
        metrics.inbox_waiting.labels(channel=line.channel).set(line.messages)
        if line.oldest_reply_at is not None:
            waited = max(0.0, (now - line.oldest_reply_at).total_seconds())
            metrics.oldest_reply_seconds.labels(channel=line.channel).set(waited)


def build_scheduler(
    db: Database,
    engine: Engine,
    *,
    sender: Sender,
    metrics: Metrics,
    extra: dict[str, tuple[Callable[[], Awaitable[Any]], float]] | None = None,
) -> AsyncIOScheduler:
    """An AsyncIOScheduler with the channel sweeps (and `extra`: id → (job, seconds))."""
    scheduler = AsyncIOScheduler(timezone=UTC)

    async def inbox() -> None:
        count = await asyncio.to_thread(sweep_inbox, db, engine, now=utcnow())
        if count:
            logger.info("inbox sweep: processed %s stored message(s)", count)
            metrics.sweeps.labels(sweep="inbox").inc(count)
            sender.wake()

    async def outbox() -> None:
        count = await asyncio.to_thread(release_leases, db, now=utcnow())
        if count:
            logger.info("outbox sweep: released %s expired lease(s)", count)
            metrics.sweeps.labels(sweep="outbox").inc(count)
        sender.wake()

    async def gauges() -> None:
        await asyncio.to_thread(refresh_metrics, db, metrics)

    jobs: dict[str, tuple[Callable[[], Awaitable[Any]], float]] = {
        "sweep_inbox": (inbox, INBOX_EVERY),
        "release_leases": (outbox, OUTBOX_EVERY),
        "refresh_metrics": (gauges, METRICS_EVERY),
        **(extra or {}),
    }
    first = datetime.now(UTC) + timedelta(seconds=1)
    for job_id, (job, seconds) in jobs.items():
        once = None if job_id in PER_PROCESS else (db, seconds)
        scheduler.add_job(
            _guarded(job_id, job, once),
            "interval",
            seconds=seconds,
            id=job_id,
            name=job_id,
            coalesce=True,
            max_instances=1,
            next_run_time=first,
            misfire_grace_time=max(1, int(seconds)),
            replace_existing=True,
        )
    return scheduler


def claim_run(db: Database, job_id: str, seconds: float, now: datetime) -> bool:
    """Claim this interval's run of a sweep for this process; False when another process
    already did (a `SweepMark` per job and interval: inserting it is the claim, and a
    conflicting insert does nothing)."""
    slot = int(now.timestamp() // seconds)
    insert = (postgresql if not db.is_sqlite else sqlite).insert(SweepMark)
    claim = (
        insert.values(name=SWEEP_MARK, key=f"{job_id}:{slot}", at=now)
        .on_conflict_do_nothing(index_elements=["name", "key"])
        .returning(col(SweepMark.id))
    )
    with db.write() as session:
        if session.execute(claim).first() is None:
            return False
        if slot % MARKS_PURGE_EVERY == 0:  # the marks of runs long past
            session.execute(
                delete(SweepMark).where(
                    col(SweepMark.name) == SWEEP_MARK, col(SweepMark.at) < now - MARKS_KEPT
                )
            )
    return True


def _guarded(
    job_id: str, job: Callable[[], Awaitable[Any]], once: tuple[Database, float] | None
) -> Callable[[], Awaitable[None]]:
    async def run() -> None:
        try:
            if once is not None:
                db, seconds = once
                if not await asyncio.to_thread(claim_run, db, job_id, seconds, utcnow()):
                    return  # another process runs this sweep in this interval
            await job()
        except Exception as exc:  # a sweep must never kill the scheduler; next run retries
            logger.warning("job %s failed (%s)", job_id, type(exc).__name__)

    run.__name__ = run.__qualname__ = job_id  # the sweep's name in every log line
    return run
