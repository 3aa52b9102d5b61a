"""Pacing: a private chat may get a short burst, then one message per interval."""

from __future__ import annotations

import time

from bot.delivery import RateLimiter


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
