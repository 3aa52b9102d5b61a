"""Claims: exclusive under concurrency, held under a lease that runs out back into the queue."""

from __future__ import annotations

import asyncio
import threading
from collections import Counter
from datetime import timedelta
from pathlib import Path

from sqlmodel import select

from bot.db import Database
from bot.models import CaseEvent, Staff
from bot.staff.queue import claim_next, release_expired_leases

from .support import NOW, bearer, client, get_case, make_app, new_case, new_staff, seed_desks

CASES = 30
CLAIMERS = 20


def _staff(db: Database, staff_id: int) -> Staff:
    with db.read() as session:
        staff = session.get(Staff, staff_id)
        assert staff is not None
        return staff


async def test_concurrent_api_claims_give_each_case_once(
    database: Database, tmp_path: Path
) -> None:
    """20 claimers racing through the API over 30 cases: every case is claimed exactly once."""
    seed_desks(database)
    refs = {new_case(database, created_at=NOW - timedelta(minutes=i)) for i in range(CASES)}
    tokens = [
        new_staff(database, f"agent {i}", "los-angeles", password=None)[1] for i in range(CLAIMERS)
    ]
    app = make_app(database, tmp_path)

    async def claimer(token: str) -> list[str]:
        got: list[str] = []
        async with client(app) as c:
            while True:
                answer = await c.post(
                    "/api/v1/queue/claim", json={"desk": "los-angeles"}, headers=bearer(token)
                )
                if answer.status_code == 204:
                    return got
                assert answer.status_code == 200, answer.text
                got.append(answer.json()["ref"])

    results = await asyncio.gather(*(claimer(t) for t in tokens))
    claimed = Counter(ref for got in results for ref in got)
    assert set(claimed) == refs
    assert max(claimed.values()) == 1


def test_concurrent_thread_claims_give_each_case_once(database: Database) -> None:
    """20 threads calling claim_next at once over 30 cases: no case is handed out twice."""
    seed_desks(database)
    for i in range(CASES):
        new_case(database, priority=("critical", "high", "normal")[i % 3])
    staff = [
        _staff(database, new_staff(database, f"t{i}", "los-angeles", password=None)[0])
        for i in range(CLAIMERS)
    ]
    start = threading.Barrier(CLAIMERS)
    got: list[str] = []
    lock = threading.Lock()

    def run(member: Staff) -> None:
        start.wait()
        while (case := claim_next(database, member, "los-angeles", NOW)) is not None:
            with lock:
                got.append(case.ref)

    threads = [threading.Thread(target=run, args=(s,)) for s in staff]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert len(got) == CASES and len(set(got)) == CASES


def test_lease_runs_out_back_into_the_queue(database: Database) -> None:
    """A held case is not claimable while its lease lasts; afterwards it is, and the sweep
    puts it back to open."""
    seed_desks(database)
    ref = new_case(database)
    ana = _staff(database, new_staff(database, "Ana", "los-angeles")[0])
    bea = _staff(database, new_staff(database, "Bea", "los-angeles")[0])
    first = claim_next(database, ana, "los-angeles", NOW)
    assert first is not None and first.ref == ref
    assert claim_next(database, bea, "los-angeles", NOW + timedelta(minutes=14)) is None
    assert release_expired_leases(database, now=NOW + timedelta(minutes=14)) == 0
    assert release_expired_leases(database, now=NOW + timedelta(minutes=16)) == 1
    assert release_expired_leases(database, now=NOW + timedelta(minutes=16)) == 0
    case = get_case(database, ref)
    assert case.status == "open" and case.claimed_by is None
    again = claim_next(database, bea, "los-angeles", NOW + timedelta(minutes=17))
    assert again is not None and again.ref == ref and again.claimed_by == bea.id


def test_an_expired_lease_is_claimable_before_the_sweep(database: Database) -> None:
    """Between sweeps, a case whose lease ran out can be claimed by someone else."""
    seed_desks(database)
    ref = new_case(database)
    ana = _staff(database, new_staff(database, "Ana", "los-angeles")[0])
    bea = _staff(database, new_staff(database, "Bea", "los-angeles")[0])
    assert claim_next(database, ana, "los-angeles", NOW) is not None
    taken = claim_next(database, bea, "los-angeles", NOW + timedelta(minutes=20))
    assert taken is not None and taken.ref == ref and taken.claimed_by == bea.id
    with database.read() as session:
        kinds = session.exec(select(CaseEvent.kind).where(CaseEvent.case_id == taken.id)).all()
    assert list(kinds).count("claimed") == 2
