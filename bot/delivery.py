"""The sender: loops that deliver the outbox through the providers, within their rate limits.

One loop per transport (Telegram, Twilio) keeps up to a batch of due rows in delivery — it
claims more as soon as some are done, so a reply held back by one chat's pace never holds up
another chat's — and for each row checks the person has not opted out, waits for the rate
limiter and calls the provider; the sends that finish meanwhile are recorded in one
transaction. A transient failure puts the row
back with exponential backoff; a permanent one marks it `failed`; an opt-out error marks it
`suppressed` and records the opt-out. Each transport brings its pacing from the settings
(`HOTLINE_TELEGRAM_RATE`, `HOTLINE_TWILIO_RATE`); on PostgreSQL the limiter keeps its state
in the database, so several `hotline serve` processes together stay within one rate. A
transport that holds personal data at its provider (Twilio: recordings, media) also gets
`erase_at_provider()` called every few seconds to carry out the erasures queued for it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Final, ParamSpec, Protocol, TypeVar

from sqlalchemy import bindparam, delete, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session, col

from bot.contacts import set_opted_out
from bot.crypto import lookup_hash
from bot.db import Database
from bot.errors import ChannelSendError, PermanentSendError
from bot.metrics import Metrics
from bot.models import SweepMark, utcnow
from bot.outbox import (
    BACKOFF_BASE,
    LEASE,
    OPT_OUT_NOTICE,
    Claim,
    claim_due,
    mark_failed,
    mark_retry,
    mark_sent_many,
    mark_suppressed,
    recipients,
    suppress_in,
)

logger = logging.getLogger(__name__)
P = ParamSpec("P")
R = TypeVar("R")


class RetryLater(ChannelSendError):
    """The provider asked us to slow down for `delay` seconds."""

    def __init__(self, delay: float) -> None:
        super().__init__(f"retry after {delay:.1f}s")
        self.delay = delay


LEASE_MARGIN = timedelta(seconds=5)
# Rows in delivery at once per transport (most of them waiting for their chat's pace; a
# crash leaves no more than these in doubt).
MAX_IN_FLIGHT: Final = 64
# Requests to the provider at once per transport: beyond a few the HTTP client's pool spends
# more time managing them than sending (300 people over Telegram, pacing high: 16 → 42–43
# steps/s, 64 → 31–37 and replies later than 30 s; bench/RESULTS.md).
MAX_SENDING: Final = 16


class OptedOutError(PermanentSendError):
    """The provider says the person opted out (Twilio 21610)."""


@dataclass(frozen=True, slots=True)
class Pacing:
    """A provider's send rate: `rate` per second overall after a burst of `overall_burst`,
    and per key (a chat, a sending number) one per `per_key` seconds after `burst`."""

    rate: float
    per_key: float
    burst: int = 1
    overall_burst: int = 1


def next_slot(pacing: Pacing, now: float, tat: float, key_tat: float) -> tuple[float, float, float]:
    """A generic cell rate step: (when the send may go, the new overall and per-key
    theoretical arrival times)."""
    interval = 1.0 / pacing.rate
    burst, overall_burst = max(1, pacing.burst), max(1, pacing.overall_burst)
    tat, key_tat = max(now, tat), max(now, key_tat)
    slot = max(
        now,
        tat - (overall_burst - 1) * interval,
        key_tat - (burst - 1) * pacing.per_key,
    )
    return slot, max(tat, slot) + interval, max(key_tat, slot) + pacing.per_key


class Limiter(Protocol):
    """Waits for a send slot; `pause` holds every send (the provider said: too many)."""

    async def acquire(self, key: str) -> None:
        """Wait for the next free slot for `key`."""
        ...

    def pause(self, seconds: float) -> None:
        """Hold every send for `seconds`."""
        ...


class RateLimiter:
    """Pacing inside one process (SQLite runs one process). Telegram allows ~30 messages/s
    overall and short bursts in a private chat, so a surge of first replies goes out at
    once instead of queueing behind one another."""

    def __init__(self, rate: float, per_key: float, burst: int = 1, overall_burst: int = 1) -> None:
        self.pacing = Pacing(rate, per_key, burst, overall_burst)
        self._tat = 0.0  # theoretical arrival time, overall
        self._tat_by_key: dict[str, float] = {}
        self._lock = asyncio.Lock()

    async def acquire(self, key: str) -> None:
        """Wait for the next free slot for `key`."""
        async with self._lock:
            now = time.monotonic()
            slot, self._tat, self._tat_by_key[key] = next_slot(
                self.pacing, now, self._tat, self._tat_by_key.get(key, 0.0)
            )
            if len(self._tat_by_key) > 10_000:
                self._tat_by_key = {k: v for k, v in self._tat_by_key.items() if v > now}
        if slot > now:
            await asyncio.sleep(slot - now)

    def pause(self, seconds: float) -> None:
        """Hold every send for `seconds` (the provider said: too many requests)."""
        interval = 1.0 / self.pacing.rate
        self._tat = max(
            self._tat, time.monotonic() + seconds + self.pacing.overall_burst * interval
        )


PACE_MARK: Final = "pace"  # SweepMark rows holding a rate key's next free slot
_EPOCH: Final = datetime(1970, 1, 1, tzinfo=UTC)


class SharedRateLimiter:
    """The same pacing with its state in the database, so every `hotline serve` process
    shares one budget (PostgreSQL). One row per rate key (a `SweepMark` named "pace", the
    key hashed) holds its next free slot; a reservation locks the overall row and the
    keys' rows, moves them on and commits, then each caller sleeps until its slot. The
    reservations asked for while one is being written go together in the next transaction
    (one commit for many sends, in the order they were asked)."""

    PURGE_EVERY: Final = 1000

    def __init__(self, db: Database, name: str, pacing: Pacing) -> None:
        self.db = db
        self.name = name
        self.pacing = pacing
        self._reservations = 0
        self._asked: list[tuple[str, asyncio.Future[float]]] = []
        self._writing: asyncio.Task[None] | None = None

    async def acquire(self, key: str) -> None:
        """Reserve the next free slot for `key` in the database and wait for it."""
        asked: asyncio.Future[float] = asyncio.get_running_loop().create_future()
        self._asked.append((key, asked))
        if self._writing is None or self._writing.done():
            self._writing = asyncio.create_task(self._write_reservations())
        wait = await asked
        if wait > 0:
            await asyncio.sleep(wait)

    async def _write_reservations(self) -> None:
        while self._asked:
            batch, self._asked = self._asked, []
            try:
                waits = await asyncio.to_thread(self._reserve_many, [k for k, _ in batch])
            except Exception as exc:  # each caller retries its row later
                for _, asked in batch:
                    if not asked.done():
                        asked.set_exception(exc)
                continue
            for (_, asked), wait in zip(batch, waits, strict=True):
                if not asked.done():
                    asked.set_result(wait)

    def pause(self, seconds: float) -> None:
        """Hold every process's sends for `seconds` (written from a worker thread)."""
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            self._pause(seconds)
            return
        task = loop.run_in_executor(None, self._pause, seconds)
        task.add_done_callback(_log_failure)

    def _pause(self, seconds: float) -> None:
        interval = 1.0 / self.pacing.rate
        until = time.time() + seconds + self.pacing.overall_burst * interval
        with self.db.write() as session:
            self._rows(session, [self.name])
            session.execute(
                update(SweepMark)
                .where(
                    col(SweepMark.name) == PACE_MARK,
                    col(SweepMark.key) == self.name,
                    col(SweepMark.at) < _at(until),
                )
                .values(at=_at(until))
            )

    def _reserve(self, key: str) -> float:
        return self._reserve_many([key])[0]

    def _reserve_many(self, keys: list[str]) -> list[float]:
        """Slots for sends to `keys`, in order, in one transaction; the seconds to wait."""
        overall = self.name
        owns = [f"{self.name}:{lookup_hash(key)[:32]}" for key in keys]
        now = time.time()
        with self.db.write() as session:
            rows = self._rows(session, sorted({overall, *owns}))
            waits = []
            for own in owns:
                slot, rows[overall], rows[own] = next_slot(
                    self.pacing, now, rows[overall], rows[own]
                )
                waits.append(slot - now)
            session.connection().execute(
                _MOVE_SLOT, [{"b_k": name, "b_at": _at(value)} for name, value in rows.items()]
            )
            self._reservations += len(keys)
            if self._reservations % self.PURGE_EVERY < len(keys):
                session.execute(
                    delete(SweepMark).where(
                        col(SweepMark.name) == PACE_MARK,
                        col(SweepMark.key) != overall,
                        col(SweepMark.key).startswith(f"{overall}:"),
                        col(SweepMark.at) < _at(now - 3600),
                    )
                )
        return waits

    def _rows(self, session: Session, keys: list[str]) -> dict[str, float]:
        """Lock the keys' rows (created on first use), in key order: no deadlocks."""
        session.connection().execute(
            _insert_mark(session)
            .values(name=PACE_MARK, key=bindparam("b_k"), at=_EPOCH)
            .on_conflict_do_nothing(index_elements=["name", "key"]),
            [{"b_k": key} for key in keys],
        )
        found = session.execute(
            select(col(SweepMark.key), col(SweepMark.at))
            .where(col(SweepMark.name) == PACE_MARK, col(SweepMark.key).in_(keys))
            .order_by(col(SweepMark.key))
            .with_for_update()
        ).all()
        return {k: _seconds(at) for k, at in found}


_MARKS: Any = SweepMark.__table__  # type: ignore[attr-defined]
_MOVE_SLOT: Final = (
    update(_MARKS)
    .where(_MARKS.c.name == PACE_MARK, _MARKS.c.key == bindparam("b_k"))
    .values(at=bindparam("b_at"))
)


def _log_failure(done: asyncio.Future[None]) -> None:
    """A pause that could not be written: the provider's next 429 asks again."""
    if not done.cancelled() and done.exception() is not None:
        logger.warning("pacing: could not record a pause (%s)", type(done.exception()).__name__)


def _insert_mark(session: Session) -> Any:
    dialect = session.get_bind().dialect.name
    module = postgresql if dialect == "postgresql" else sqlite
    return module.insert(SweepMark)


def _at(seconds: float) -> datetime:
    return _EPOCH + timedelta(seconds=seconds)


def _seconds(at: datetime) -> float:
    if at.tzinfo is None:
        at = at.replace(tzinfo=UTC)
    return (at - _EPOCH).total_seconds()


def limiter_for(db: Database, name: str, pacing: Pacing) -> Limiter:
    """Shared through the database on PostgreSQL (several processes); in-process on SQLite
    (one process), where a database round trip per send would only queue behind writes."""
    if db.is_sqlite:
        return RateLimiter(pacing.rate, pacing.per_key, pacing.burst, pacing.overall_burst)
    return SharedRateLimiter(db, name, pacing)


class Transport(Protocol):
    """A provider the sender delivers through."""

    name: str
    channels: tuple[str, ...]
    limiter: Limiter
    batch: int

    @property
    def ready(self) -> bool:
        """True once the client can send."""
        ...

    def rate_key(self, claim: Claim, address: str) -> str:
        """The key of the per-recipient (or per-number) limit."""
        ...

    async def send(self, claim: Claim, address: str) -> str | None:
        """Deliver; return the provider's id or raise a ChannelSendError."""
        ...


class Sender:
    """Runs one delivery loop per transport until stopped."""

    def __init__(
        self,
        db: Database,
        transports: list[Transport],
        *,
        metrics: Metrics | None = None,
        poll_interval: float = 1.0,
        backoff_base: float = BACKOFF_BASE,
    ) -> None:
        self.db = db
        self.transports = transports
        self.metrics = metrics
        self.poll_interval = poll_interval
        self.backoff_base = backoff_base
        self.erase_interval = 10 * poll_interval  # provider-side erasures: every 10 s
        self._wake = {t.name: asyncio.Event() for t in transports}
        self._sending = {t.name: asyncio.Semaphore(MAX_SENDING) for t in transports}
        self._tasks: list[asyncio.Task[None]] = []
        self._stopping = False
        self._sent: list[tuple[int, str | None, asyncio.Future[None]]] = []
        self._sent_writer: asyncio.Task[None] | None = None

    def wake(self) -> None:
        """Look for due rows now instead of at the next poll."""
        for event in self._wake.values():
            event.set()

    def start(self) -> None:
        """Start one loop per transport."""
        self._stopping = False
        self._tasks = [
            asyncio.create_task(self._loop(t), name=f"sender-{t.name}") for t in self.transports
        ]

    async def stop(self, grace: float = 10.0) -> None:
        """Let the loops finish their current batch, then end them."""
        self._stopping = True
        self.wake()
        if not self._tasks:
            return
        _, late = await asyncio.wait(self._tasks, timeout=grace)
        for task in late:
            task.cancel()
        await asyncio.gather(*late, return_exceptions=True)
        self._tasks = []

    async def _loop(self, transport: Transport) -> None:
        """Keep up to a batch of the transport's rows in delivery: claim as soon as there is
        room — a reply held back by a chat's pace never holds up another chat's."""
        event = self._wake[transport.name]
        erase: Callable[[], Awaitable[int]] | None = getattr(transport, "erase_at_provider", None)
        erased_at = 0.0
        in_flight: set[asyncio.Task[None]] = set()

        def finished(task: asyncio.Task[None]) -> None:
            in_flight.discard(task)
            event.set()  # room for another row (maybe the same person's next one)

        while not self._stopping:
            started = 0
            room = max(1, min(transport.batch, MAX_IN_FLIGHT)) - len(in_flight)
            if transport.ready and room > 0:
                try:
                    for task in await self._start(transport, room):
                        in_flight.add(task)
                        task.add_done_callback(finished)
                        started += 1
                except Exception as exc:  # the database is down: try again later
                    logger.warning(
                        "sender %s: claim failed (%s)", transport.name, type(exc).__name__
                    )
            if erase is not None and time.monotonic() - erased_at >= self.erase_interval:
                # Personal data the provider still holds (recordings, media) that an erasure
                # asked to delete there; failures stay queued for a later round.
                erased_at = time.monotonic()
                try:
                    await erase()
                except Exception as exc:
                    logger.warning(
                        "sender %s: provider erasure failed (%s)",
                        transport.name,
                        type(exc).__name__,
                    )
            if started == 0 and not self._stopping:
                event.clear()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(event.wait(), self.poll_interval)
        if in_flight:  # stopping: let what is being sent finish (stop() bounds the wait)
            await asyncio.gather(*in_flight, return_exceptions=True)

    async def run_once(self, transport: Transport) -> int:
        """Claim one batch for the transport and deliver it; return the batch size."""
        tasks = await self._start(transport, transport.batch)
        if tasks:
            await asyncio.gather(*tasks)
        return len(tasks)

    async def _start(self, transport: Transport, limit: int) -> list[asyncio.Task[None]]:
        """Claim up to `limit` due rows and start delivering each (one task per row)."""
        claims = await asyncio.to_thread(
            claim_due,
            self.db,
            now=utcnow(),
            channels=transport.channels,
            limit=limit,
            lease=LEASE,
        )
        if not claims:
            return []
        people = await asyncio.to_thread(recipients, self.db, {c.contact_id for c in claims})
        return [
            asyncio.create_task(
                self._deliver(transport, c, people.get(c.contact_id, (None, False)))
            )
            for c in claims
        ]

    async def _deliver(
        self, transport: Transport, claim: Claim, to: tuple[str | None, bool]
    ) -> None:
        address, opted_out = to
        if address is None or (opted_out and claim.kind != OPT_OUT_NOTICE):
            reason = "opted out" if opted_out else "contact erased"
            await self._record(mark_suppressed, self.db, claim.id, reason=reason, now=utcnow())
            self._count(claim, "suppressed")
            return
        try:
            await transport.limiter.acquire(transport.rate_key(claim, address))
        except Exception as exc:  # the shared pacing state is unreachable: try again later
            await self._retry(claim, f"pacing unavailable ({type(exc).__name__})")
            return
        if claim.lease_until is not None and utcnow() > claim.lease_until - LEASE_MARGIN:
            # Waited too long for the rate limit (e.g. a long Telegram RetryAfter): the lease
            # may be gone and the row someone else's. Not sending now is what keeps it single.
            await self._retry(claim, "lease ran out while rate limited", delay=0.0)
            return
        try:
            async with self._sending[transport.name]:
                provider_id = await transport.send(claim, address)
        except RetryLater as exc:
            transport.limiter.pause(exc.delay)
            await self._retry(claim, "rate limited", delay=exc.delay)
        except OptedOutError:
            await self._record(_opt_out, self.db, claim, address, utcnow())
            self._count(claim, "suppressed")
        except PermanentSendError as exc:
            logger.warning("outbound %s failed for good: %s", claim.id, exc)
            await self._record(mark_failed, self.db, claim.id, error=str(exc), now=utcnow())
            self._count(claim, "failed")
        except ChannelSendError as exc:
            await self._retry(claim, str(exc))
        except Exception as exc:
            logger.exception("outbound %s: unexpected error while sending", claim.id)
            await self._retry(claim, type(exc).__name__)
        else:
            await self._mark_sent(claim.id, provider_id)
            self._count(claim, "sent")

    async def _mark_sent(self, outbound_id: int, provider_id: str | None) -> None:
        """Record a send with every other one that finished meanwhile (one transaction, one
        disk sync, per round instead of per message); return once it is recorded."""
        done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._sent.append((outbound_id, provider_id, done))
        if self._sent_writer is None or self._sent_writer.done():
            self._sent_writer = asyncio.create_task(self._write_sent())
        await done

    async def _write_sent(self) -> None:
        while self._sent:
            batch, self._sent = self._sent, []
            try:
                sent = [(i, p) for i, p, _ in batch]
                await self._record(mark_sent_many, self.db, sent, now=utcnow())
            except Exception as exc:
                for *_, done in batch:
                    if not done.done():
                        done.set_exception(exc)
                continue
            for *_, done in batch:
                if not done.done():
                    done.set_result(None)

    async def _retry(self, claim: Claim, error: str, delay: float | None = None) -> None:
        logger.info(
            "outbound %s: attempt %s failed (%s); will retry", claim.id, claim.attempts, error[:80]
        )
        kept = await self._record(
            mark_retry,
            self.db,
            claim,
            error=error,
            now=utcnow(),
            delay=delay,
            base=self.backoff_base,
        )
        self._count(claim, "retry" if kept else "failed")

    async def _record(self, fn: Callable[P, R], *args: P.args, **kwargs: P.kwargs) -> R:
        """Write an outcome, retrying while the database is away (or the row is sent twice)."""
        for attempt in range(8):
            try:
                return await asyncio.to_thread(fn, *args, **kwargs)
            except Exception as exc:
                if attempt == 7:
                    raise
                logger.warning(
                    "sender: recording an outcome failed (%s); retrying", type(exc).__name__
                )
                await asyncio.sleep(min(0.25 * 2**attempt, 8.0))
        raise AssertionError("unreachable")

    def _count(self, claim: Claim, outcome: str) -> None:
        if self.metrics is not None:
            self.metrics.outbound.labels(channel=claim.channel, outcome=outcome).inc()


def _opt_out(db: Database, claim: Claim, address: str, now: datetime) -> None:
    """Record a provider-reported opt-out and suppress the row, in one transaction."""
    with db.write() as session:
        set_opted_out(session, claim.channel, address, True, now)
        suppress_in(session, claim.id, reason="opted out (provider)", now=now)
