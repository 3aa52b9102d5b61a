"""Claims per second and claim latency: N concurrent claimers draining one desk's queue.

Creates a throwaway PostgreSQL database (or a SQLite file with --sqlite), migrates it,
inserts the desks, the staff and `--cases` open cases in bulk, then starts `--claimers`
threads that each call `bot.staff.queue.claim_next` (the same function the API calls) until
the queue is empty. Checks that no case was handed out twice, prints the figures and drops
the database.

    .venv/bin/python bench/bench_claims.py --cases 10000 --claimers 50
    .venv/bin/python bench/bench_claims.py --cases 10000 --claimers 50 --sqlite
"""

from __future__ import annotations

import argparse
import secrets
import statistics
import tempfile
import threading
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import create_engine, insert
from sqlalchemy.engine import make_url
from sqlalchemy.exc import TimeoutError as PoolTimeout

from bot.crypto import install_keyring
from bot.db import Database, make_engine
from bot.engine.refs import ref_from_int
from bot.migrate import upgrade
from bot.models import Case, Desk, Staff
from bot.staff.commands import add_staff
from bot.staff.queue import claim_next

DESK = "los-angeles"
PRIORITIES = ("critical", "high", "normal", "low")


def _create_postgres(admin_url: str) -> tuple[str, str]:
    name = f"hotline_bench_{uuid.uuid4().hex[:8]}"
    admin = make_url(admin_url).set(drivername="postgresql+psycopg")
    engine = create_engine(admin, isolation_level="AUTOCOMMIT")
    with engine.connect() as connection:
        connection.exec_driver_sql(f'CREATE DATABASE "{name}"')
    engine.dispose()
    return name, admin.set(database=name).render_as_string(hide_password=False)


def _drop_postgres(admin_url: str, name: str) -> None:
    admin = make_url(admin_url).set(drivername="postgresql+psycopg")
    engine = create_engine(admin, isolation_level="AUTOCOMMIT")
    with engine.connect() as connection:
        connection.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    engine.dispose()


def _seed(db: Database, cases: int, claimers: int) -> list[Staff]:
    now = datetime.now(UTC)
    with db.write() as session:
        session.add(
            Desk(
                id=DESK,
                name_es=DESK,
                name_en=DESK,
                city="Los Angeles",
                state="CA",
                timezone="America/Los_Angeles",
            )
        )
        session.add(
            Desk(
                id="central",
                name_es="central",
                name_en="central",
                city="-",
                state="DF",
                timezone="America/Mexico_City",
                is_central=True,
            )
        )
    rows = []
    for i in range(cases):
        rank = i % 4
        created = now - timedelta(seconds=i)
        rows.append(
            {
                "ref": ref_from_int(10_000 + i),
                "channel": "sms",
                "lang": "es",
                "desk_id": DESK,
                "also_central": False,
                "flow": "raid",
                "intent": "raid",
                "priority": PRIORITIES[rank],
                "priority_rank": rank,
                "reasons": [],
                "status": "open",
                "report_count": 1,
                "created_at": created,
                "updated_at": created,
                "sla_due_at": created + timedelta(minutes=15 * (rank + 1)),
            }
        )
    with db.write() as session:
        for start in range(0, len(rows), 2000):
            session.execute(insert(Case), rows[start : start + 2000])
    return [add_staff(db, name=f"agent {i}", desk=DESK, role="agent")[0] for i in range(claimers)]


class PooledDatabase(Database):
    """The project's Database (its engine: `bot.db.make_engine`) with a PostgreSQL pool of
    `size` connections and no overflow."""

    def __init__(self, url: str, size: int) -> None:
        super().__init__(url)
        self.engine.dispose()
        self.engine = make_engine(url, pool_size=size)
        self._write_engine = self.engine


def run(db: Database, cases: int, claimers: int) -> None:
    """Seed, drain the queue with `claimers` threads, print the figures."""
    staff = _seed(db, cases, claimers)
    latencies: list[float] = []
    refs: list[str] = []
    timeouts: list[float] = []
    lock = threading.Lock()
    barrier = threading.Barrier(claimers + 1)

    def claimer(member: Staff) -> None:
        mine: list[float] = []
        got: list[str] = []
        barrier.wait()
        while True:
            started = time.perf_counter()
            try:
                case = claim_next(db, member, DESK, datetime.now(UTC))
            except PoolTimeout:  # waited 30 s for a pooled connection: count it, go on
                with lock:
                    timeouts.append(time.perf_counter() - started)
                continue
            mine.append(time.perf_counter() - started)
            if case is None:
                break
            got.append(case.ref)
        with lock:
            latencies.extend(mine[:-1])  # the last call found the queue empty
            refs.extend(got)

    threads = [threading.Thread(target=claimer, args=(m,)) for m in staff]
    for thread in threads:
        thread.start()
    barrier.wait()
    started = time.perf_counter()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - started
    assert len(set(refs)) == len(refs), "a case was handed out twice"
    assert len(refs) == cases, f"{cases - len(refs)} cases left unclaimed (a claimer failed)"
    ordered = sorted(latencies)
    p50 = statistics.median(ordered) * 1000
    p99 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))] * 1000
    print(
        f"{db.engine.dialect.name}: {cases} cases, {claimers} claimers: "
        f"{cases / elapsed:,.0f} claims/s, p50 {p50:.1f} ms, p99 {p99:.1f} ms, "
        f"max {ordered[-1] * 1000:.1f} ms ({elapsed:.1f} s; each case claimed once; "
        f"{len(timeouts)} pool timeouts)"
    )


def main() -> None:
    """Parse the options and run the benchmark on a throwaway database."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--cases", type=int, default=10_000)
    parser.add_argument("--claimers", type=int, default=50)
    parser.add_argument(
        "--postgres",
        default="postgresql+psycopg://127.0.0.1:5432/test",
        help="a database on the server to create the throwaway one from",
    )
    parser.add_argument("--sqlite", action="store_true", help="run on a SQLite file instead")
    parser.add_argument(
        "--pool",
        type=int,
        default=0,
        help="PostgreSQL pool size (default: the project's 10 + 20 overflow)",
    )
    args = parser.parse_args()
    install_keyring(secrets.token_urlsafe(48))
    if args.sqlite:
        with tempfile.TemporaryDirectory() as tmp:
            url = f"sqlite:///{Path(tmp) / 'bench.db'}"
            upgrade(url)
            db = Database(url)
            try:
                run(db, args.cases, args.claimers)
            finally:
                db.dispose()
        return
    name, url = _create_postgres(args.postgres)
    try:
        upgrade(url)
        db = PooledDatabase(url, args.pool) if args.pool else Database(url)
        try:
            run(db, args.cases, args.claimers)
        finally:
            db.dispose()
    finally:
        _drop_postgres(args.postgres, name)


if __name__ == "__main__":
    main()
