"""Pacing: a private chat may get a short burst, then one message per interval; on
PostgreSQL several processes share one budget through the database."""

from __future__ import annotations

import asyncio
import itertools
import time
from pathlib import Path

import pytest

from bot.channels.telegram.transport import pacing as telegram_pacing
from bot.channels.twilio_sms.transport import TwilioTransport, pacing as twilio_pacing
from bot.db import Database
from bot.delivery import Pacing, RateLimiter, Sender, SharedRateLimiter, limiter_for
from bot.models import Contact, OutboundMessage, utcnow
from tests.conftest import make_settings
from tests.fakes.server import LiveServer
from tests.fakes.twilio_api import ACCOUNT_SID, AUTH_TOKEN, FakeTwilio


async def test_a_quiet_chat_gets_a_short_burst_then_is_paced() -> None:
    limiter = RateLimiter(rate=1000.0, per_key=0.3, burst=3)
    start = time.monotonic()
    for _ in range(3):
        await limiter.acquire("chat-1")
    burst = time.monotonic() - start
    await limiter.acquire("chat-1")
    fourth = time.monotonic() - start
    await limiter.acquire("chat-2")  # another chat is not held back by the first
    other = time.monotonic() - start - fourth
    assert burst < 0.1
    assert fourth >= 0.25
    assert other < 0.1


async def test_without_a_burst_each_message_waits_its_turn() -> None:
    limiter = RateLimiter(rate=1000.0, per_key=0.2)
    start = time.monotonic()
    for _ in range(3):
        await limiter.acquire("+17135550101")
    assert time.monotonic() - start >= 0.35


async def test_a_surge_of_first_replies_goes_out_at_once_then_at_the_overall_rate() -> None:
    limiter = RateLimiter(rate=20.0, per_key=1.0, burst=3, overall_burst=20)
    start = time.monotonic()
    for chat in range(20):
        await limiter.acquire(f"chat-{chat}")
    burst = time.monotonic() - start
    for chat in range(20, 24):
        await limiter.acquire(f"chat-{chat}")
    assert burst < 0.1  # twenty people answered at once
    assert time.monotonic() - start >= 0.15  # then one per 1/20 s


def test_pacing_comes_from_the_settings(tmp_path: Path) -> None:
    """HOTLINE_TELEGRAM_RATE and HOTLINE_TWILIO_RATE, Telegram keeping its per-chat burst."""
    settings = make_settings(tmp_path, telegram_rate=30, twilio_rate=3)
    assert telegram_pacing(settings) == Pacing(rate=30, per_key=1.0, burst=3, overall_burst=30)
    assert twilio_pacing(settings).rate == 3 and twilio_pacing(settings).burst == 1
    default = make_settings(tmp_path)
    assert telegram_pacing(default).rate == 30 and twilio_pacing(default).rate == 1


async def test_shared_limiter_keeps_the_burst_shape(database: Database) -> None:
    """The database-backed limiter paces like the in-process one (both backends)."""
    limiter = SharedRateLimiter(
        database, "t", Pacing(rate=20.0, per_key=0.3, burst=3, overall_burst=20)
    )
    start = time.monotonic()
    for _ in range(3):
        await limiter.acquire("chat-1")
    assert time.monotonic() - start < 0.2
    await limiter.acquire("chat-1")
    assert time.monotonic() - start >= 0.25
    assert isinstance(limiter_for(database, "x", Pacing(1, 1)), RateLimiter) == database.is_sqlite


async def test_two_senders_on_one_postgresql_database_stay_within_one_rate(
    database: Database, tmp_path: Path
) -> None:
    """Two processes' senders (each its own transport and limiter) deliver 10 SMS at
    HOTLINE_TWILIO_RATE=5 together: the sends are spaced as one sender's would be."""
    if database.is_sqlite:
        pytest.skip("SQLite runs one process; the shared budget is a PostgreSQL matter")
    fake = FakeTwilio()
    server = LiveServer(fake.app()).start()
    try:
        settings = make_settings(
            tmp_path,
            twilio_account_sid=ACCOUNT_SID,
            twilio_auth_token=AUTH_TOKEN,
            twilio_from_number="+15005550006",
            twilio_api_base_url=server.url,
            twilio_rate=5,
        )
        now = utcnow()
        with database.write() as session:
            for n in range(10):
                contact = Contact(channel="sms", address_hash=f"h{n}", address=f"+1713555{n:04d}")
                session.add(contact)
                session.flush()
                assert contact.id is not None
                session.add(
                    OutboundMessage(
                        contact_id=contact.id,
                        channel="sms",
                        text=f"hola {n}",
                        created_at=now,
                        next_attempt_at=now,
                        updated_at=now,
                    )
                )
        senders = [
            Sender(database, [TwilioTransport.from_settings(settings, database)]) for _ in range(2)
        ]
        started = time.monotonic()
        await asyncio.gather(*(s.run_once(s.transports[0]) for s in senders))
        await asyncio.gather(*(s.run_once(s.transports[0]) for s in senders))
        assert len(fake.sent) == 10
        times = sorted(m["at"] for m in fake.sent)
        gaps = [b - a for a, b in itertools.pairwise(times)]
        assert min(gaps) >= 0.15  # 1/5 s apart, give or take the clock
        assert times[-1] - times[0] >= 9 * 0.2 - 0.1
        assert time.monotonic() - started < 10
    finally:
        server.stop()


async def test_a_pause_holds_every_sender_sharing_the_database(database: Database) -> None:
    """A provider's "too many requests" pauses the shared budget, not one process's."""
    rules = Pacing(rate=100.0, per_key=0.0)
    one, two = SharedRateLimiter(database, "p", rules), SharedRateLimiter(database, "p", rules)
    one.pause(0.4)
    await asyncio.sleep(0.1)  # the pause is written from a worker thread
    start = time.monotonic()
    await two.acquire("+17135550101")
    assert time.monotonic() - start >= 0.2
