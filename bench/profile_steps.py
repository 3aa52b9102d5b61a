"""Profile the processing of conversation steps in one thread (cProfile cannot see the inbox
writer's thread in `bench_steps.py`): 50 people walk the raid report; each round stores one
message per person and runs them through `Hotline.process_batch` in batches of `BATCH_SIZE`, in one
transaction each — what the inbox writer does — with the profiler on.

    .venv/bin/python bench/profile_steps.py --rounds 2 --top 30
    .venv/bin/python bench/profile_steps.py --postgres postgresql+psycopg://127.0.0.1:5432/test
    .venv/bin/python bench/profile_steps.py --top 0 --statements   # the SQL each step costs
"""

from __future__ import annotations

import argparse
import cProfile
import io
import pstats
import sys
import time
import uuid
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import event

from bench.bench_steps import SCRIPT, SECRET, script_for
from bench.throwaway import DEFAULT_POSTGRES, throwaway
from bot.channels.pipeline import BATCH_SIZE
from bot.config import Settings
from bot.conversations import Hotline
from bot.crypto import install_keyring
from bot.db import Database
from bot.inbox import NewMessage, store_many
from bot.migrate import upgrade
from bot.models import utcnow


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--people", type=int, default=50)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--top", type=int, default=30)
    parser.add_argument("--sort", default="cumulative")
    parser.add_argument("--only", help="a regular expression on file names, e.g. bot/")
    parser.add_argument("--postgres", nargs="?", const=DEFAULT_POSTGRES, default=None)
    parser.add_argument("--callees", help="also show what functions matching this call")
    parser.add_argument(
        "--statements", action="store_true", help="also count the SQL statements, per step"
    )
    args = parser.parse_args()
    install_keyring(SECRET)
    with throwaway(args.postgres) as (url, tmp):
        upgrade(url)
        settings = Settings(
            _env_file=None,
            data_dir=tmp,  # type: ignore[call-arg]
            database_url=url,
            secret_key=SECRET,
            flood_per_sender_per_minute=10_000,
        )
        db = Database(url)
        statements: Counter[str] = Counter()
        if args.statements:
            event.listen(db.engine, "before_cursor_execute", _counter(statements))
        hotline = Hotline.load(settings)
        hotline.prepare(db)
        senders = [f"+1713{uuid.uuid4().int % 10_000_000:07d}" for _ in range(args.people)]
        profile = cProfile.Profile()
        steps, started = 0, time.perf_counter()
        for round_ in range(args.rounds):
            for k in range(len(SCRIPT)):
                messages = [
                    NewMessage("sms", uuid.uuid4().hex, s, script_for(n + round_ * 1000)[k])
                    for n, s in enumerate(senders)
                ]
                for first in range(0, len(messages), BATCH_SIZE):
                    chunk = messages[first : first + BATCH_SIZE]
                    profile.enable()
                    with db.write() as session:
                        ids = [i for i in store_many(session, chunk) if i is not None]
                        hotline.process_batch(session, ids, now=utcnow())
                    profile.disable()
                    steps += len(chunk)
        elapsed = time.perf_counter() - started
        db.dispose()
    print(f"{steps} steps in {elapsed:.2f} s: {steps / elapsed:,.0f} steps/s (profiler on)")
    out = io.StringIO()
    stats = pstats.Stats(profile, stream=out).sort_stats(args.sort)
    stats.print_stats(*([args.only] if args.only else []), args.top)
    if args.callees:
        stats.print_callees(args.callees)
    print(out.getvalue())
    if statements:
        print(f"SQL statements per step ({sum(statements.values()) / steps:.2f} in all):")
        for text, count in statements.most_common():
            print(f"  {count / steps:6.2f}  {text}")


def _counter(statements: Counter[str]) -> Callable[..., None]:
    def count(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        statements[" ".join(statement.split())[:110]] += 1

    return count


if __name__ == "__main__":
    main()
