"""Benchmark: whole conversation steps on SQLite with many people writing at once.

A step is what a webhook causes: store the inbound message (its own transaction), then run
it through the engine and store state, case and replies (a second transaction). N people
(threads) each walk the raid report flow.

Closed loop (each person sends again as soon as answered; shows the ceiling):
    .venv/bin/python bench/bench_steps.py --people 50 --rounds 8
Open loop (a fixed total arrival rate spread over the people; latency counts from the
moment a message was due, so queueing is included):
    .venv/bin/python bench/bench_steps.py --people 50 --rounds 4 --rate 150
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bot.config import Settings
from bot.conversations import Hotline
from bot.crypto import install_keyring
from bot.db import Database
from bot.inbox import store_inbound
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


def person(
    db: Database,
    hotline: Hotline,
    rounds: int,
    latencies: list[float],
    lock: threading.Lock,
    interval: float = 0.0,
) -> None:
    sender = f"+1713{uuid.uuid4().int % 10_000_000:07d}"
    mine: list[float] = []
    due = time.perf_counter() + interval * (uuid.uuid4().int % 1000) / 1000
    for _ in range(rounds):
        for text in SCRIPT:
            if interval:
                time.sleep(max(0.0, due - time.perf_counter()))
                start, due = due, due + interval
            else:
                start = time.perf_counter()
            with db.write() as session:
                inbound_id = store_inbound(
                    session,
                    channel="sms",
                    provider_id=uuid.uuid4().hex,
                    sender=sender,
                    text=text,
                    max_chars=2000,
                )
            assert inbound_id is not None
            hotline.process(db, inbound_id)
            mine.append(time.perf_counter() - start)
    with lock:
        latencies.extend(mine)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--people", type=int, default=50)
    parser.add_argument("--rounds", type=int, default=8)
    parser.add_argument("--rate", type=float, default=0.0, help="total steps/s (open loop)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(
            _env_file=None,
            data_dir=Path(tmp),  # type: ignore[call-arg]
            secret_key="bench-secret-key-0123456789-abcdefghijkl",
            flood_per_sender_per_minute=10_000,
        )
        install_keyring(settings.secret_key.get_secret_value())  # type: ignore[union-attr]
        upgrade(settings.resolved_database_url)
        db = Database(settings.resolved_database_url)
        hotline = Hotline.load(settings)
        hotline.prepare(db)
        latencies: list[float] = []
        lock = threading.Lock()
        interval = args.people / args.rate if args.rate else 0.0
        threads = [
            threading.Thread(
                target=person, args=(db, hotline, args.rounds, latencies, lock, interval)
            )
            for _ in range(args.people)
        ]
        start = time.perf_counter()
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        elapsed = time.perf_counter() - start
        latencies.sort()
        p50 = statistics.median(latencies) * 1000
        p99 = latencies[int(len(latencies) * 0.99) - 1] * 1000
        print(
            f"{len(latencies)} steps by {args.people} people in {elapsed:.2f} s: "
            f"{len(latencies) / elapsed:.0f} steps/s, p50 {p50:.1f} ms, p99 {p99:.1f} ms"
        )
        db.dispose()


if __name__ == "__main__":
    main()
