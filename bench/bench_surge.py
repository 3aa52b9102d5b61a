"""Surge: 10,000 reports arriving within one minute — is every critical case at the top of its
desk's queue within 1 s of its message being stored?

Each report is a first message from a different person (the labelled author messages of
tests/data/authors/, in turn: raids, detentions, harassment, documents, in Spanish and
English, with places all over the country, about a fifth critical), handed to the inbox writer
(`Processor.accept`, what every webhook awaits) at a steady rate so that `--reports` arrive in
`--seconds`. For each message the bench notes when it was stored (its webhook would answer)
and when the batch that processed it committed (the writer's `on_processed`); a critical
report's case is in its desk's queue, ranked critical, from that commit on. At the end it
checks each desk's queue: every critical case above every other.

    .venv/bin/python bench/bench_surge.py                       # 10,000 in 60 s, SQLite
    .venv/bin/python bench/bench_surge.py --postgres            # on PostgreSQL
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import itertools
import json
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlmodel import col, select

from bench.throwaway import DEFAULT_POSTGRES, throwaway
from bot.channels.pipeline import Processor
from bot.config import Settings
from bot.conversations import Hotline
from bot.crypto import install_keyring
from bot.db import Database
from bot.inbox import NewMessage
from bot.migrate import upgrade
from bot.models import Case, InboundMessage, utcnow
from bot.staff.queue import queue_items

AUTHORS = Path(__file__).resolve().parent.parent / "tests" / "data" / "authors"


def messages() -> list[str]:
    texts = []
    for path in sorted(AUTHORS.glob("*.jsonl")):
        for line in path.read_text(encoding="utf-8").splitlines():
            if line.strip():
                texts.append(str(json.loads(line)["text"]))
    return texts


def pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * p / 100))] * 1000


async def surge(db: Database, hotline: Hotline, args: argparse.Namespace) -> None:
    texts = messages()
    committed: dict[int, float] = {}

    everything = asyncio.Event()

    def processed(ids: list[int]) -> None:
        at = time.perf_counter()
        for inbound_id in ids:
            committed.setdefault(inbound_id, at)
        if len(committed) >= args.reports:
            everything.set()

    processor = Processor(db, hotline, on_replies=lambda: None, on_processed=processed)
    processor.start()
    stored_at: dict[int, float] = {}
    interval = args.seconds / args.reports

    async def report(n: int, due: float) -> None:
        await asyncio.sleep(max(0.0, due - time.perf_counter()))
        text = texts[n % len(texts)]
        channel = "telegram" if n % 2 else "sms"
        sender = str(500_000_000 + n) if channel == "telegram" else f"+1{2_000_000_000 + n}"
        stored = await processor.accept(NewMessage(channel, f"surge{n}", sender, text))
        assert stored.inbound_id is not None
        stored_at[stored.inbound_id] = time.perf_counter()

    start = time.perf_counter()
    await asyncio.gather(*(report(n, start + n * interval) for n in range(args.reports)))
    arrived = time.perf_counter() - start
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(everything.wait(), args.seconds * 10)
    finished = time.perf_counter() - start
    stats = dict(processor.stats)
    await processor.stop()

    with db.read() as session:
        rows = session.exec(
            select(InboundMessage.id, Case.priority, Case.desk_id)
            .join(Case, col(Case.id) == col(InboundMessage.case_id))
            .where(col(InboundMessage.id).in_(list(stored_at)))
        ).all()
    critical = [(i, desk) for i, priority, desk in rows if priority == "critical"]
    delays = [max(0.0, committed[i] - stored_at[i]) for i, _ in critical if i in committed]
    late = sum(d > 1.0 for d in delays)
    unprocessed = len(stored_at) - len(committed.keys() & stored_at.keys())
    # Each desk's queue, as the dashboard shows it: every critical case above the others.
    desks = sorted({desk for _, desk in critical})
    misplaced = 0
    queue_ms: list[float] = []
    with db.read() as session:
        for desk in desks:
            began = time.perf_counter()
            items = queue_items(session, desk, now=utcnow(), limit=100_000)
            queue_ms.append((time.perf_counter() - began) * 1000)
            ranks = [item.priority_rank for item in items]
            misplaced += sum(1 for a, b in itertools.pairwise(ranks) if a > b)
    print(
        f"{args.reports} reports in {arrived:.1f} s ({args.reports / arrived:.0f}/s), all "
        f"processed after {finished:.1f} s ({unprocessed} not processed); "
        f"{len(critical)} critical: stored → in the queue p50 {pct(delays, 50):.0f} ms, "
        f"p99 {pct(delays, 99):.0f} ms, max {max(delays) * 1000:.0f} ms, {late} over 1 s; "
        f"{len(rows)} cases at {len(desks)} desks, {misplaced} critical cases below another; "
        f"largest queue read in {max(queue_ms):.0f} ms | {stats['batches']} commits, "
        f"{stats['deferred']} messages left for a later batch"
    )


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--reports", type=int, default=10_000)
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--postgres", nargs="?", const=DEFAULT_POSTGRES, default=None)
    args = parser.parse_args()
    secret = "bench-secret-key-0123456789-abcdefghijkl"
    install_keyring(secret)
    print(
        f"{'PostgreSQL' if args.postgres else 'SQLite (synchronous=full)'}, Python "
        f"{sys.version.split()[0]}, {os.cpu_count()} CPUs",
        flush=True,
    )
    with throwaway(args.postgres) as (url, tmp):
        settings = Settings(
            _env_file=None,
            data_dir=tmp,  # type: ignore[call-arg]
            database_url=url,
            secret_key=secret,
        )
        upgrade(url)
        db = Database(url)
        hotline = Hotline.load(settings)
        hotline.prepare(db)
        try:
            await surge(db, hotline, args)
        finally:
            db.dispose()


if __name__ == "__main__":
    asyncio.run(main())
