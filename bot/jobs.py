"""The scheduler's sweeps: plain functions over rows, idempotent, safe in several processes.

`sweep_inbox` runs stored messages a crash left unprocessed; `release_leases` returns outbox
rows whose sender vanished; `refresh_metrics` updates the outbox gauge. `build_scheduler`
only registers them (plus any extra jobs the caller passes) on an APScheduler 3
`AsyncIOScheduler`; tests call the functions directly with their own `now`.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any, Final, Protocol

from apscheduler.schedulers.asyncio import AsyncIOScheduler

from bot.db import Database
from bot.delivery import Sender
from bot.metrics import Metrics
from bot.models import utcnow
from bot.outbox import pending_counts, release_expired_leases

logger = logging.getLogger(__name__)

INBOX_GRACE: Final = timedelta(seconds=30)  # younger messages are still with a worker
INBOX_EVERY: Final = 15
OUTBOX_EVERY: Final = 30
METRICS_EVERY: Final = 15


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
    """Recount the open outbox rows for /metrics."""
    metrics.set_outbox(pending_counts(db))


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
        scheduler.add_job(
            _guarded(job_id, job),
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


def _guarded(job_id: str, job: Callable[[], Awaitable[Any]]) -> Callable[[], Awaitable[None]]:
    async def run() -> None:
        try:
            await job()
        except Exception as exc:  # a sweep must never kill the scheduler; next run retries
            logger.warning("job %s failed (%s)", job_id, type(exc).__name__)

    run.__name__ = run.__qualname__ = job_id  # the sweep's name in every log line
    return run
