"""Benchmark: whole conversation steps (store, run the flow, write state, case and replies
durably) with many people writing at once, on SQLite or PostgreSQL.

A step is what a webhook causes. N people (asyncio tasks) each walk the raid report flow.

Targets, in the same run, on the same fresh database each:
  hotline      the service's path: `Processor.accept` (what every webhook awaits) — the inbox
               writer stores what arrived and processes up to a batch in one transaction,
               releases the webhooks after the commit; a step ends when its message is
               processed (its reply is in the outbox), usually that same commit
  per-message  the path before group commit, for comparison: one transaction to store, one
               to process (`Hotline.process`), per message, in worker threads
  bare         the floor: one INSERT of the inbox row and a commit per message, nothing
               processed (a bare endpoint that only stores)

Closed loop (each person sends again as soon as answered; shows the ceiling):
    .venv/bin/python bench/bench_steps.py --people 50 --rounds 8
Open loop (a fixed total arrival rate spread over the people; latency counts from the
moment a message was due, so queueing is included). By default every person starts within
the first interval, so all of them reach each step of the report — the free-text first
message, the answer that ends the report — together; `--stagger` spreads their starts over a
report's length:
    .venv/bin/python bench/bench_steps.py --people 50 --rounds 4 --rate 500
    .venv/bin/python bench/bench_steps.py --people 50 --rounds 4 --rate 500 --stagger
PostgreSQL (a throwaway database on the server), and with two processes sharing the people
(each its own inbox writer, as `hotline serve --workers 2`):
    .venv/bin/python bench/bench_steps.py --postgres postgresql+psycopg://127.0.0.1:5432/test
    .venv/bin/python bench/bench_steps.py --postgres --processes 2 --only hotline
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import os
import queue
import statistics
import sys
import time
import uuid
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.throwaway import DEFAULT_POSTGRES, throwaway
from bot.channels.pipeline import Processor
from bot.config import Settings
from bot.conversations import Hotline
from bot.crypto import install_keyring
from bot.db import Database
from bot.inbox import NewMessage, store_inbound
from bot.migrate import upgrade

# A person who starts with free text, accepts the privacy notice and answers the raid flow.
SCRIPT = [
    "hay una redada ahorita en mi trabajo en Houston 77036",
    "1",
    "1",
    "1",
    "no",
    "no",
    "si",
    "no se",
    "1",
    "2",
    "menu",
    "1",
    "si",
]
STREETS = ("Bellaire", "Hillcroft", "Gessner", "Fondren", "Westheimer", "Airline", "Long Point")


def script_for(n: int) -> list[str]:
    """The raid report as person `n` writes it: their own first message (people do not send
    the same words, and caches keyed by a text must not meet the same text 50 times), then
    the same short answers everybody gives."""
    street = STREETS[n % len(STREETS)]
    first = f"{SCRIPT[0]}, en la {street} cerca del {100 + n * 37 % 9000}"
    return [first, *SCRIPT[1:]]


TARGETS = ("hotline", "per-message", "bare")
SECRET = "bench-secret-key-0123456789-abcdefghijkl"
Step = Callable[[str, str], Awaitable[None]]


async def person(
    step: Step, rounds: int, latencies: list[float], interval: float, spread: int = 1
) -> None:
    """One person walking the report `rounds` times; in an open loop, one message every
    `interval` seconds, starting within the first `spread` intervals."""
    n = uuid.uuid4().int % 10_000_000
    sender = f"+1713{n:07d}"
    due = time.perf_counter() + interval * spread * (uuid.uuid4().int % 1000) / 1000
    for round_ in range(rounds):
        for text in script_for(n + round_):
            if interval:
                await asyncio.sleep(max(0.0, due - time.perf_counter()))
                start, due = due, due + interval
            else:
                start = time.perf_counter()
            await step(sender, text)
            latencies.append(time.perf_counter() - start)


async def run_target(
    target: str, db: Database, hotline: Hotline, args: argparse.Namespace
) -> tuple[list[float], float, dict[str, int]]:
    processor: Processor | None = None
    stats: dict[str, int] = {}
    if target == "hotline":
        done: set[int] = set()
        waiting: dict[int, asyncio.Future[None]] = {}

        def processed(ids: list[int]) -> None:
            done.update(ids)
            for inbound_id in ids:
                if (future := waiting.pop(inbound_id, None)) is not None:
                    future.set_result(None)

        processor = Processor(
            db, hotline, on_replies=lambda: None, recover=False, on_processed=processed
        )
        processor.start()

        async def step(sender: str, text: str) -> None:
            # Stored (the webhook's 2xx) and processed: the reply is in the outbox.
            assert processor is not None
            stored = await processor.accept(NewMessage("sms", uuid.uuid4().hex, sender, text))
            assert stored.inbound_id is not None
            if stored.inbound_id not in done:
                waiting[stored.inbound_id] = asyncio.get_running_loop().create_future()
                await waiting[stored.inbound_id]

    elif target == "per-message":

        def store_and_process(sender: str, text: str) -> None:
            with db.write() as session:
                inbound_id = store_inbound(
                    session, channel="sms", provider_id=uuid.uuid4().hex, sender=sender, text=text
                )
            assert inbound_id is not None
            hotline.process(db, inbound_id)

        async def step(sender: str, text: str) -> None:
            await asyncio.to_thread(store_and_process, sender, text)

    else:

        def store(sender: str, text: str) -> None:
            with db.write() as session:
                store_inbound(
                    session, channel="sms", provider_id=uuid.uuid4().hex, sender=sender, text=text
                )

        async def step(sender: str, text: str) -> None:
            await asyncio.to_thread(store, sender, text)

    latencies: list[float] = []
    interval = args.people / args.rate if args.rate else 0.0
    start = time.perf_counter()
    await asyncio.gather(
        *(
            person(step, args.rounds, latencies, interval, len(SCRIPT) if args.stagger else 1)
            for _ in range(args.people)
        )
    )
    elapsed = time.perf_counter() - start
    if processor is not None:
        stats = dict(processor.stats)
        await processor.stop()
    return latencies, elapsed, stats


def report(target: str, latencies: list[float], elapsed: float, stats: dict[str, int]) -> str:
    ordered = sorted(latencies)
    p50 = statistics.median(ordered) * 1000
    p99 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))] * 1000
    line = (
        f"{target:12s} {len(ordered)} steps in {elapsed:.2f} s: "
        f"{len(ordered) / elapsed:,.0f} steps/s, p50 {p50:.1f} ms, p99 {p99:.1f} ms, "
        f"max {ordered[-1] * 1000:.1f} ms"
    )
    if stats.get("batches"):
        line += (
            f" | {stats['batches']} commits, {stats['processed'] / stats['batches']:.1f} "
            f"messages each, {stats['deferred']} left for a later batch"
        )
    return line


def worker(
    url: str,
    tmp: str,
    args: argparse.Namespace,
    target: str,
    start_at: float,
    results: Any,
) -> None:
    """One process of `--processes` (PostgreSQL): its own writer, its share of the people."""
    install_keyring(SECRET)
    settings = Settings(
        _env_file=None,
        data_dir=Path(tmp),  # type: ignore[call-arg]
        database_url=url,
        secret_key=SECRET,
        flood_per_sender_per_minute=10_000,
    )
    db = Database(url, sqlite_synchronous=args.synchronous)
    hotline = Hotline.load(settings)
    hotline.prepare(db)
    time.sleep(max(0.0, start_at - time.time()))  # every process starts together
    latencies, elapsed, stats = asyncio.run(run_target(target, db, hotline, args))
    db.dispose()
    results.put((latencies, elapsed, stats))


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--people", type=int, default=50)
    parser.add_argument("--rounds", type=int, default=8)
    parser.add_argument("--rate", type=float, default=0.0, help="total steps/s (open loop)")
    parser.add_argument(
        "--postgres",
        nargs="?",
        const=DEFAULT_POSTGRES,
        default=None,
        help="run on a throwaway database on this PostgreSQL server (default: SQLite)",
    )
    parser.add_argument("--only", choices=TARGETS, action="append")
    parser.add_argument(
        "--stagger",
        action="store_true",
        help="open loop: people start over a whole report's time, not all at once (by "
        "default they walk the report in step: all 50 end it within the same interval)",
    )
    parser.add_argument(
        "--synchronous", choices=("full", "normal"), default="full", help="SQLite only"
    )
    parser.add_argument(
        "--processes",
        type=int,
        default=1,
        help="PostgreSQL: this many processes (as `hotline serve --workers N`), people shared",
    )
    args = parser.parse_args()
    if args.processes > 1 and not args.postgres:
        parser.error("--processes needs --postgres (SQLite runs one process)")
    install_keyring(SECRET)
    loop = f"open loop at {args.rate:g} steps/s" if args.rate else "closed loop"
    loop += ", staggered starts" if args.stagger and args.rate else ""
    print(
        f"{args.people} people x {args.rounds} rounds x {len(SCRIPT)} steps, {loop}, "
        f"{'PostgreSQL' if args.postgres else f'SQLite synchronous={args.synchronous}'}, "
        f"{args.processes} process(es), Python {sys.version.split()[0]}, {os.cpu_count()} CPUs",
        flush=True,
    )
    for target in args.only or TARGETS:
        with throwaway(args.postgres) as (url, tmp):
            upgrade(url)
            if args.processes > 1:
                share = argparse.Namespace(**vars(args))
                share.people = args.people // args.processes
                share.rate = args.rate / args.processes
                context = multiprocessing.get_context("spawn")
                results = context.Queue()
                start_at = time.time() + 15  # after every process has loaded the engine
                procs = [
                    context.Process(
                        target=worker, args=(url, str(tmp), share, target, start_at, results)
                    )
                    for _ in range(args.processes)
                ]
                for proc in procs:
                    proc.start()
                parts = []
                while len(parts) < len(procs):
                    try:
                        parts.append(results.get(timeout=1))
                    except queue.Empty:
                        if any(proc.exitcode not in (None, 0) for proc in procs):
                            for proc in procs:
                                proc.kill()
                            raise SystemExit("a worker process failed (above)") from None
                for proc in procs:
                    proc.join()
                latencies = [x for part in parts for x in part[0]]
                elapsed = max(part[1] for part in parts)
                stats: dict[str, int] = {}
                for part in parts:
                    for key, value in part[2].items():
                        stats[key] = stats.get(key, 0) + value
            else:
                settings = Settings(
                    _env_file=None,
                    data_dir=tmp,  # type: ignore[call-arg]
                    database_url=url,
                    secret_key=SECRET,
                    flood_per_sender_per_minute=10_000,
                )
                db = Database(url, sqlite_synchronous=args.synchronous)
                hotline = Hotline.load(settings)
                hotline.prepare(db)
                latencies, elapsed, stats = await run_target(target, db, hotline, args)
                db.dispose()
            print(report(target, latencies, elapsed, stats), flush=True)


if __name__ == "__main__":
    asyncio.run(main())
