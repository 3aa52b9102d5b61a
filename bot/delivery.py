"""The sender: loops that deliver the outbox through the providers, within their rate limits.

One loop per transport (Telegram, Twilio) claims due rows, checks the person has not opted
out, waits for the rate limiter and calls the provider. A transient failure puts the row
back with exponential backoff; a permanent one marks it `failed`; an opt-out error marks it
`suppressed` and records the opt-out. Limits are per process (several workers each get
their own budget, so scale the numbers down when running many).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import ParamSpec, Protocol, TypeVar

from bot.contacts import set_opted_out
from bot.db import Database
from bot.errors import ChannelSendError, PermanentSendError
from bot.metrics import Metrics
from bot.models import utcnow
from bot.outbox import (
    BACKOFF_BASE,
    LEASE,
    OPT_OUT_NOTICE,
    Claim,
    claim_due,
    mark_failed,
    mark_retry,
    mark_sent,
    mark_suppressed,
    recipient,
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


class OptedOutError(PermanentSendError):
    """The provider says the person opted out (Twilio 21610)."""


class RateLimiter:
    """Paces sends with a generic cell rate: at most `rate` per second overall after a burst
    of `overall_burst`, and per key one per `per_key` seconds after a burst of `burst`.
    Telegram allows ~30 messages/s overall and short bursts in a private chat, so a surge of
    first replies goes out at once instead of queueing behind one another."""

    def __init__(self, rate: float, per_key: float, burst: int = 1, overall_burst: int = 1) -> None:
        self.interval = 1.0 / rate
        self.per_key = per_key
        self.burst = max(1, burst)
        self.overall_burst = max(1, overall_burst)
        self._tat = 0.0  # theoretical arrival time, overall
        self._tat_by_key: dict[str, float] = {}
        self._lock = asyncio.Lock()

    async def acquire(self, key: str) -> None:
        """Wait for the next free slot for `key`."""
        async with self._lock:
            now = time.monotonic()
            tat = max(now, self._tat)
            key_tat = max(now, self._tat_by_key.get(key, 0.0))
            slot = max(
                now,
                tat - (self.overall_burst - 1) * self.interval,
                key_tat - (self.burst - 1) * self.per_key,
            )
            self._tat = max(tat, slot) + self.interval
            self._tat_by_key[key] = max(key_tat, slot) + self.per_key
            if len(self._tat_by_key) > 10_000:
                self._tat_by_key = {k: v for k, v in self._tat_by_key.items() if v > now}
        if slot > now:
            await asyncio.sleep(slot - now)

    def pause(self, seconds: float) -> None:
        """Hold every send for `seconds` (the provider said: too many requests)."""
        self._tat = max(self._tat, time.monotonic() + seconds + self.overall_burst * self.interval)


class Transport(Protocol):
    """A provider the sender delivers through."""

    name: str
    channels: tuple[str, ...]
    limiter: RateLimiter
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
        self._wake = {t.name: asyncio.Event() for t in transports}
        self._tasks: list[asyncio.Task[None]] = []
        self._stopping = False

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
        event = self._wake[transport.name]
        while not self._stopping:
            sent = 0
            if transport.ready:
                try:
                    sent = await self.run_once(transport)
                except Exception as exc:  # the database is down: try again later
                    logger.warning(
                        "sender %s: claim failed (%s)", transport.name, type(exc).__name__
                    )
            if sent == 0 and not self._stopping:
                event.clear()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(event.wait(), self.poll_interval)

    async def run_once(self, transport: Transport) -> int:
        """Claim one batch for the transport and deliver it; return the batch size."""
        claims = await asyncio.to_thread(
            claim_due,
            self.db,
            now=utcnow(),
            channels=transport.channels,
            limit=transport.batch,
            lease=LEASE,
        )
        if claims:
            await asyncio.gather(*(self._deliver(transport, c) for c in claims))
        return len(claims)

    async def _deliver(self, transport: Transport, claim: Claim) -> None:
        address, opted_out = await asyncio.to_thread(recipient, self.db, claim.contact_id)
        if address is None or (opted_out and claim.kind != OPT_OUT_NOTICE):
            reason = "opted out" if opted_out else "contact erased"
            await self._record(mark_suppressed, self.db, claim.id, reason=reason, now=utcnow())
            self._count(claim, "suppressed")
            return
        await transport.limiter.acquire(transport.rate_key(claim, address))
        if claim.lease_until is not None and utcnow() > claim.lease_until - LEASE_MARGIN:
            # Waited too long for the rate limit (e.g. a long Telegram RetryAfter): the lease
            # may be gone and the row someone else's. Not sending now is what keeps it single.
            await self._retry(claim, "lease ran out while rate limited", delay=0.0)
            return
        try:
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
            await self._record(mark_sent, self.db, claim.id, provider_id=provider_id, now=utcnow())
            self._count(claim, "sent")

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
