"""The scheduler's sweeps, called directly with their own `now`."""

from __future__ import annotations

from datetime import timedelta

from bot.db import Database
from bot.delivery import Sender
from bot.inbox import store_inbound
from bot.jobs import build_scheduler, refresh_metrics, release_leases, sweep_inbox
from bot.metrics import Metrics
from bot.models import InboundStatus, utcnow
from bot.outbox import claim_due
from tests.fakes.engine import EchoEngine

from .channels.support import inbound_rows, outbound_rows


def _store(db: Database, provider_id: str) -> int:
    with db.write() as session:
        inbound_id = store_inbound(
            session, channel="sms", provider_id=provider_id, sender="+17135550101", text="hola"
        )
        assert inbound_id is not None
        return inbound_id


def test_sweep_inbox_processes_only_messages_left_behind(database: Database) -> None:
    """Messages pending longer than the grace period are processed, once."""
    _store(database, "SM1")
    engine = EchoEngine()
    now = utcnow()
    assert sweep_inbox(database, engine, now=now) == 0
    assert sweep_inbox(database, engine, now=now + timedelta(seconds=31)) == 1
    assert sweep_inbox(database, engine, now=now + timedelta(seconds=62)) == 0
    assert [r.status for r in inbound_rows(database)] == [InboundStatus.processed]
    assert [r.text for r in outbound_rows(database)] == ["echo: hola"]


def test_release_leases_returns_stuck_rows(database: Database) -> None:
    """A row claimed by a sender that died is pending again once its lease is over."""
    _store(database, "SM2")
    now = utcnow()
    EchoEngine().process_pending(database, now=now, older_than=timedelta(0))
    assert len(claim_due(database, now=now + timedelta(seconds=1))) == 1
    assert release_leases(database, now=now + timedelta(seconds=30)) == 0
    assert release_leases(database, now=now + timedelta(minutes=5)) == 1


def test_refresh_metrics_counts_open_rows(database: Database) -> None:
    """The outbox gauge reflects the rows waiting per channel and status."""
    _store(database, "SM3")
    EchoEngine().process_pending(database, older_than=timedelta(0))
    metrics = Metrics()
    refresh_metrics(database, metrics)
    assert b'hotline_outbox_open{channel="sms",status="pending"} 1.0' in metrics.render()


async def test_build_scheduler_registers_the_sweeps(database: Database) -> None:
    """The scheduler holds the three channel sweeps plus any extra job, not started."""

    async def extra() -> None:
        return None

    sender = Sender(database, [])
    scheduler = build_scheduler(
        database, EchoEngine(), sender=sender, metrics=Metrics(), extra={"escalate": (extra, 60)}
    )
    assert sorted(job.id for job in scheduler.get_jobs()) == [
        "escalate",
        "refresh_metrics",
        "release_leases",
        "sweep_inbox",
    ]
    # Each sweep goes by its own name in the scheduler's log lines, not "_guarded.<locals>.run".
    for job in scheduler.get_jobs():
        assert job.name == job.id and job.func.__qualname__ == job.id
    assert not scheduler.running
