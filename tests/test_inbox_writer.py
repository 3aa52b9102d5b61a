"""The inbox writer: messages stored and processed in batches (group commit), a failing
message isolated, a surge stored at once and processed in turn, several writers (as several
processes) never running one person's messages twice or out of order, sweeps run once."""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections.abc import AsyncIterator, Sequence
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlmodel import col, select
from typer.testing import CliRunner

from bot.cases import sync_desks
from bot.channels.pipeline import Processor
from bot.conversations import Hotline
from bot.db import Database
from bot.inbox import NewMessage, store_many
from bot.jobs import claim_run
from bot.models import (
    Case,
    CaseEvent,
    Contact,
    Conversation,
    Desk,
    InboundMessage,
    InboundStatus,
    Incident,
    OutboundMessage,
    utcnow,
)
from tests.conftest import make_settings

# A person's report, answer by answer: each answer only makes sense after the one before.
REPORT = ["hay una redada ahorita en mi trabajo en Houston 77036", "1", "1", "2", "no", "vi 3"]


@pytest.fixture
def hotline(tmp_path: Path, database: Database) -> Hotline:
    engine = Hotline.load(make_settings(tmp_path, flood_per_sender_per_minute=100))
    engine.prepare(database)
    return engine


@pytest.fixture
async def writer(database: Database, hotline: Hotline) -> AsyncIterator[Processor]:
    processor = Processor(database, hotline, on_replies=lambda: None)
    processor.start()
    yield processor
    await processor.stop()


def sms(n: int, sender: str, text: str, **payload: Any) -> NewMessage:
    return NewMessage("sms", f"SMw{n}", sender, text, payload or None)


def side_by_side(*writers: threading.Thread) -> None:
    """Run the writers (as processes) at the same time; return when all are done."""
    for writer in writers:
        writer.start()
    for writer in writers:
        writer.join()


def inbox(database: Database) -> list[InboundMessage]:
    with database.read() as session:
        return list(session.exec(select(InboundMessage).order_by(col(InboundMessage.id))).all())


async def settled(database: Database) -> list[InboundMessage]:
    """The inbox once every message is processed or has had a failed attempt (the writer
    answers the webhooks when their messages are stored; a surge is processed after)."""
    for _ in range(400):
        rows = inbox(database)
        if all(r.status != InboundStatus.pending or r.attempts for r in rows):
            return rows
        await asyncio.sleep(0.05)
    raise AssertionError("the writer did not get through the inbox")


def replies_to(database: Database, inbound_id: int | None) -> list[OutboundMessage]:
    with database.read() as session:
        return list(
            session.exec(
                select(OutboundMessage)
                .where(OutboundMessage.inbound_id == inbound_id)
                .order_by(col(OutboundMessage.id))
            ).all()
        )


async def test_many_webhooks_at_once_share_commits_and_are_all_processed(
    database: Database, writer: Processor
) -> None:
    """Fifty people writing at the same moment: each webhook returns once its message is
    stored, every message is processed and answered, and far fewer commits than messages."""
    people = [f"+1713555{n:04d}" for n in range(50)]
    stored = await asyncio.gather(
        *(writer.accept(sms(n, p, REPORT[0])) for n, p in enumerate(people))
    )
    assert all(s.inbound_id is not None for s in stored)
    assert len(inbox(database)) == 50  # stored when the webhooks returned
    rows = await settled(database)
    assert {r.status for r in rows} == {InboundStatus.processed}
    assert all(replies_to(database, r.id) for r in rows)
    assert writer.stats["batches"] < 25


async def test_a_redelivered_webhook_is_stored_once(database: Database, writer: Processor) -> None:
    """The same provider id twice (in one batch, or later) is one message, answered once."""
    first, again = await asyncio.gather(
        writer.accept(sms(1, "+17135550001", "hola")), writer.accept(sms(1, "+17135550001", "hola"))
    )
    later = await writer.accept(sms(1, "+17135550001", "hola"))
    assert first.inbound_id is not None and again.inbound_id is None and later.inbound_id is None
    await settled(database)
    answer = replies_to(database, first.inbound_id)
    assert len(inbox(database)) == 1 and [r.seq for r in answer] == list(range(len(answer)))


async def test_a_message_that_fails_is_retried_alone_and_fails_no_other(
    database: Database, writer: Processor
) -> None:
    """A malformed location in one message makes its processing fail inside a batch: the
    others of that batch are processed and answered all the same; it is stored, its failed
    attempt counted, and it waits for the sweep."""
    broken = sms(0, "+17135550100", "", location={"lat": "not a number", "lon": 1})
    fine = [sms(n, f"+17135550{n:03d}", REPORT[0]) for n in range(1, 10)]
    stored = await asyncio.gather(*(writer.accept(m) for m in [broken, *fine]))
    assert all(s.inbound_id is not None for s in stored)
    rows = {r.id: r for r in await settled(database)}
    bad = rows[stored[0].inbound_id]
    assert bad.status == InboundStatus.pending and bad.attempts == 1 and bad.error
    for s in stored[1:]:
        assert rows[s.inbound_id].status == InboundStatus.processed
        assert replies_to(database, s.inbound_id)


async def test_storing_that_fails_answers_that_webhook_only(
    database: Database, writer: Processor
) -> None:
    """A channel's own bookkeeping that raises (inside the storing transaction) makes that
    webhook fail — the provider retries it — and no other."""

    def refuse(session: Any, inbound_id: int) -> bool:
        raise RuntimeError("bookkeeping failed")

    results = await asyncio.gather(
        writer.accept(sms(1, "+17135550201", "hola")),
        writer.accept(sms(2, "+17135550202", "STOP"), refuse),
        writer.accept(sms(3, "+17135550203", "hola")),
        return_exceptions=True,
    )
    assert isinstance(results[1], RuntimeError)
    rows = await settled(database)
    assert [r.provider_id for r in rows] == ["SMw1", "SMw3"]
    assert all(r.status == InboundStatus.processed for r in rows)


async def test_a_surge_is_stored_at_once_and_processed_in_turn(
    database: Database, hotline: Hotline
) -> None:
    """More arrivals than a batch processes: all are stored (the webhooks return), the rest
    wait in line and are processed in the next batches, each writer told once that their
    message is saved while the line is long."""
    processor = Processor(
        database, hotline, on_replies=lambda: None, batch_size=4, busy_backlog=5, linger=0.05
    )
    processor.start()
    try:
        stored = await asyncio.gather(
            *(processor.accept(sms(n, f"+1713556{n:04d}", "hola")) for n in range(30))
        )
        assert len(inbox(database)) == 30  # stored when the webhooks returned
        for _ in range(200):
            if all(r.status == InboundStatus.processed for r in inbox(database)):
                break
            await asyncio.sleep(0.05)
    finally:
        await processor.stop()
    assert all(r.status == InboundStatus.processed for r in inbox(database))
    assert processor.stats["deferred"] > 0
    with database.read() as session:
        texts = [m.text for m in session.exec(select(OutboundMessage)).all()]
    notices = [t for t in texts if "911" in t and t.count("\n") < 2]
    assert 0 < len(notices) <= 30 - 4
    assert all(s.inbound_id is not None for s in stored)


async def test_in_a_surge_a_critical_message_is_not_in_line_behind_the_others(
    database: Database, hotline: Hotline
) -> None:
    """Thirty people say hello and one reports agents taking someone right now, last: with
    room for four per batch, the critical report is in the first batch processed."""
    batches: list[list[int]] = []
    processor = Processor(
        database,
        hotline,
        on_replies=lambda: None,
        batch_size=4,
        linger=0.05,
        on_processed=batches.append,
    )
    processor.start()
    try:
        hellos = [sms(n, f"+1713559{n:04d}", "hola, una pregunta") for n in range(30)]
        danger = sms(99, "+17135599999", "la migra se esta llevando a mi esposo ahorita")
        stored = await asyncio.gather(*(processor.accept(m) for m in [*hellos, danger]))
        for _ in range(200):
            if sum(len(b) for b in batches) >= 31:
                break
            await asyncio.sleep(0.05)
    finally:
        await processor.stop()
    assert stored[-1].inbound_id in batches[0]
    assert sum(len(b) for b in batches) == 31


def test_a_person_never_runs_twice_or_out_of_order_with_two_writers(
    database: Database, hotline: Hotline, tmp_path: Path
) -> None:
    """Two writers with connections of their own (as two processes) run the same people's
    stored messages at the same time, each asked for every other message: every message is
    processed once, each person's in the order they wrote, and their conversations end where
    one writer alone would have left them."""
    people = [f"+1713557{n:04d}" for n in range(12)]
    with database.write() as session:
        ids = store_many(
            session,
            [
                sms(100 * p + turn, person, text)
                for turn, text in enumerate(REPORT)
                for p, person in enumerate(people)
            ],
        )
    other = Database(database.url)  # the second "process": its own pool and connections
    start = threading.Barrier(2)
    failures: list[BaseException] = []

    def run(db: Database, mine: list[int | None]) -> None:
        start.wait()
        try:
            for inbound_id in mine:
                assert inbound_id is not None
                with db.write() as session:
                    hotline.process_batch(session, [inbound_id], now=utcnow())
        except BaseException as exc:  # reported below
            failures.append(exc)

    side_by_side(
        threading.Thread(target=run, args=(database, ids[0::2])),
        threading.Thread(target=run, args=(other, list(reversed(ids[1::2])))),
    )
    other.dispose()
    assert not failures
    rows = inbox(database)
    assert {r.status for r in rows} == {InboundStatus.processed}
    with database.read() as session:
        sent = session.exec(select(OutboundMessage).order_by(col(OutboundMessage.id))).all()
    answered = [s.inbound_id for s in sent]
    assert sorted(answered) == sorted(set(answered))  # one answer per message: none twice
    assert set(answered) == {r.id for r in rows}
    by_person: dict[int, list[int]] = {}
    for row in sent:
        assert row.inbound_id is not None
        by_person.setdefault(row.contact_id, []).append(row.inbound_id)
    assert all(order == sorted(order) for order in by_person.values())

    # One writer alone, message by message, for one more person: where a report ends.
    alone = Hotline.load(make_settings(tmp_path, flood_per_sender_per_minute=100))
    for turn, text in enumerate(REPORT):
        with database.write() as session:
            (inbound_id,) = store_many(session, [sms(9000 + turn, "+17135579999", text)])
        assert inbound_id is not None
        alone.process(database, inbound_id)
    ends = conversations(database)
    reference = ends.pop("+17135579999")
    assert set(ends) == set(people) and set(ends.values()) == {reference}


def to_the_last_answer(
    database: Database, hotline: Hotline, people: list[str], *, base: int, ended: Sequence[str] = ()
) -> dict[str, int]:
    """Each person reports a raid at work (Houston, or Dallas for a 214 number) and answers
    every question but the last; that last answer is stored and left pending (the people in
    `ended` have it processed too). Returns the pending last answers' inbox ids by person."""
    first = {"+1713": REPORT[0], "+1214": "hay una redada ahorita en mi trabajo en Dallas 75211"}
    last: dict[str, int] = {}
    for n, person in enumerate(people):
        for turn, text in enumerate([first[person[:5]], *REPORT[1:]]):
            with database.write() as session:
                (inbound_id,) = store_many(session, [sms(base * n + turn, person, text)])
            assert inbound_id is not None
            if person in ended or turn < len(REPORT) - 1:
                hotline.process(database, inbound_id)
            else:
                last[person] = inbound_id
    return last


def test_two_writers_ending_raid_reports_in_opposite_orders_both_commit(
    database: Database, hotline: Hotline
) -> None:
    """A raid wave on two desks, two writers (as two processes): each batch ends one report
    on each desk, one writer Houston first, the other Dallas first. Every batch commits on
    the first try (none is killed as a deadlock and redone message by message) and each
    desk's reports gather under one raid."""
    houston = [f"+1713558{n:04d}" for n in range(8)]
    dallas = [f"+1214558{n:04d}" for n in range(8)]
    last = to_the_last_answer(database, hotline, houston + dallas, base=1000)
    other = Database(database.url)
    start = threading.Barrier(2)
    failures: list[BaseException] = []

    def run(db: Database, batches: list[list[int]]) -> None:
        try:
            for batch in batches:
                start.wait(timeout=30)
                with db.write() as session:
                    hotline.process_batch(session, batch, now=utcnow())
        except BaseException as exc:  # reported below
            failures.append(exc)
            start.abort()

    pairs = list(zip(houston, dallas, strict=True))
    side_by_side(
        threading.Thread(target=run, args=(database, [[last[h], last[d]] for h, d in pairs[0::2]])),
        threading.Thread(target=run, args=(other, [[last[d], last[h]] for h, d in pairs[1::2]])),
    )
    other.dispose()
    assert not failures
    assert {r.status for r in inbox(database)} == {InboundStatus.processed}
    with database.read() as session:
        raids = session.exec(select(Case.desk_id, Case.incident_id)).all()
    assert len({incident for _, incident in raids}) == 2
    assert len(raids) == len(houston + dallas)


def test_raid_reports_ending_in_one_batch_gather_as_one_at_a_time_would(
    database: Database, hotline: Hotline
) -> None:
    """A raid wave: one Houston report ended earlier (its incident's head, here lowered to
    normal), then one batch ends six more Houston reports and five Dallas ones. Houston's
    six fold into the earlier report, which counts them all and is raised back to critical;
    Dallas's first report of the batch opens its incident and heads the other four. Every
    link is in both cases' histories."""
    houston = [f"+1713557{n:04d}" for n in range(7)]
    dallas = [f"+1214557{n:04d}" for n in range(5)]
    last = to_the_last_answer(database, hotline, houston + dallas, base=2000, ended=houston[:1])
    with database.write() as session:
        earlier = session.exec(select(Case).where(Case.incident_id.is_not(None))).one()  # type: ignore[union-attr]
        earlier.priority, earlier.priority_rank, earlier.sla_due_at = "normal", 2, None
        earlier_id = earlier.id

    with database.write() as session:
        hotline.process_batch(session, list(last.values()), now=utcnow())

    with database.read() as session:
        cases = session.exec(select(Case).order_by(col(Case.id))).all()
        incidents = session.exec(select(Incident).order_by(col(Incident.id))).all()
        links = session.exec(select(CaseEvent).where(CaseEvent.kind == "linked")).all()
    by_desk = {desk: [c for c in cases if c.desk_id == desk] for desk in ("houston", "dallas")}
    assert [len(by_desk["houston"]), len(by_desk["dallas"])] == [7, 5]
    assert [(i.desk_id, i.report_count, i.reporter_count) for i in incidents] == [
        ("houston", 7, 7),
        ("dallas", 5, 5),
    ]
    for desk, incident in zip(("houston", "dallas"), incidents, strict=True):
        head, *followers = by_desk[desk]
        assert head.parent_id is None and head.report_count == len(by_desk[desk])
        assert all(c.parent_id == head.id and c.incident_id == incident.id for c in followers)
        assert head.incident_id == incident.id and head.priority == "critical"
    assert by_desk["houston"][0].id == earlier_id
    assert by_desk["houston"][0].sla_due_at is not None  # raised with the report's target
    linked = sorted(event.case_id for event in links)
    followers = [c.id for desk in by_desk.values() for c in desk[1:]]
    heads = [desk[0].id for desk in by_desk.values() for _ in desk[1:]]
    assert linked == sorted(followers + heads)


async def test_a_batch_killed_as_a_deadlock_runs_again_whole(
    database: Database, hotline: Hotline, writer: Processor, caplog: pytest.LogCaptureFixture
) -> None:
    """Another process's transaction and a batch wait on each other in a circle (here, made
    on purpose: it holds the Houston desk's linking and then wants the person's row); the
    server kills the batch, and the writer runs the batch again whole, not message by
    message: the report ends and joins its raid."""
    if database.is_sqlite:
        pytest.skip("PostgreSQL only: SQLite runs one writer at a time, nothing waits in a circle")
    person = "+17135590001"
    for turn, text in enumerate(REPORT[:-1]):
        await writer.accept(sms(turn, person, text))
    with database.read() as session:
        contact_id = session.exec(select(Contact.id)).one()
    holding, done = threading.Event(), threading.Event()

    def other_process() -> None:
        with database.engine.connect() as connection:
            # The batch waits first, so its check (after 1 s) finds the circle and it is the
            # one rolled back; where the role may, make sure of it.
            if connection.exec_driver_sql(
                "SELECT rolsuper FROM pg_roles WHERE rolname = current_user"
            ).scalar():
                connection.exec_driver_sql("SET deadlock_timeout = '10s'")
            connection.exec_driver_sql("SELECT pg_advisory_xact_lock(hashtext('link:houston'))")
            holding.set()
            time.sleep(0.5)  # the batch has locked the person and waits for the desk
            connection.exec_driver_sql(
                f"UPDATE contact SET last_inbound_at = last_inbound_at WHERE id = {contact_id}"
            )
            connection.rollback()
        done.set()

    thread = threading.Thread(target=other_process)
    thread.start()
    holding.wait(5)
    with caplog.at_level(logging.INFO, logger="bot.channels.pipeline"):
        await writer.accept(sms(len(REPORT) - 1, person, REPORT[-1]))
    thread.join(10)
    assert done.is_set()
    assert "lost a lock conflict" in caplog.text and "each message on its own" not in caplog.text
    assert {r.status for r in inbox(database)} == {InboundStatus.processed}
    with database.read() as session:
        case = session.exec(select(Case)).one()
    assert case.incident_id is not None and case.status == "open"


def conversations(database: Database) -> dict[str | None, tuple[str | None, str | None]]:
    """Where each person's conversation stands (flow, step), by their number."""
    with database.read() as session:
        rows = session.exec(
            select(Contact.address, Conversation.flow, Conversation.step).join(
                Conversation, col(Conversation.contact_id) == col(Contact.id)
            )
        ).all()
    return {address: (flow, step) for address, flow, step in rows}


async def test_a_restart_takes_up_what_was_stored_and_not_processed(
    database: Database, hotline: Hotline
) -> None:
    """Messages stored by a writer that died before processing them are processed by the
    next one as soon as it starts."""
    with database.write() as session:
        store_many(session, [sms(n, f"+1713558{n:04d}", "hola") for n in range(5)])
    processor = Processor(database, hotline, on_replies=lambda: None)
    processor.start()
    try:
        for _ in range(200):
            if all(r.status == InboundStatus.processed for r in inbox(database)):
                break
            await asyncio.sleep(0.05)
    finally:
        await processor.stop()
    assert all(r.status == InboundStatus.processed for r in inbox(database))


def test_a_sweep_runs_once_per_interval_across_processes(database: Database) -> None:
    """Each process's scheduler fires every sweep; only the first to claim an interval runs."""
    other = Database(database.url)
    now = utcnow()
    try:
        claims = [claim_run(db, "sweep_inbox", 15, now) for db in (database, other, database)]
        later = claim_run(other, "sweep_inbox", 15, now + timedelta(seconds=15))
        another = claim_run(other, "send_followups", 15, now)
    finally:
        other.dispose()
    assert claims == [True, False, False] and later and another


def test_workers_starting_together_both_bring_up_the_desks(
    tmp_path: Path, database: Database
) -> None:
    """`hotline serve --workers 2`: both processes sync the desk table at start; the second
    waits for the first's desks and starts, instead of failing on a duplicate desk."""
    engine = Hotline.load(make_settings(tmp_path))
    other = Database(database.url)
    failures: list[Exception] = []

    def second_worker() -> None:
        try:
            engine.prepare(other)
        except Exception as exc:
            failures.append(exc)

    try:
        with database.write() as session:
            sync_desks(session, engine.desks)
            worker = threading.Thread(target=second_worker)
            worker.start()
            worker.join(0.5)  # it reaches the desk table while the first has not committed
        worker.join(30)
    finally:
        other.dispose()
    assert not failures and not worker.is_alive()
    with database.read() as session:
        assert len(session.exec(select(Desk)).all()) == len(list(engine.desks.all()))


def test_several_workers_need_postgresql(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """`hotline serve --workers 2` on SQLite stops with one sentence saying why."""
    from bot.cli import app

    monkeypatch.setenv("HOTLINE_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("HOTLINE_SECRET_KEY", "test-secret-key-that-is-long-enough-0123456789")
    monkeypatch.setenv("HOTLINE_DATABASE_URL", f"sqlite:///{tmp_path / 'hotline.db'}")
    result = CliRunner().invoke(app, ["serve", "--workers", "2"])
    assert result.exit_code == 2
    assert "--workers needs PostgreSQL" in result.output
