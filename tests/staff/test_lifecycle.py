"""bot.lifecycle as the staff side relies on it: every allowed move is applied with its event,
every other move raises, and the bulk UPDATEs of the queue write what `move` would."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import create_engine
from sqlmodel import Session, SQLModel, col, select

from bot import lifecycle
from bot.errors import IllegalTransition
from bot.models import Case, CaseEvent, CaseStatus

NOW = datetime(2026, 11, 30, 16, 0, tzinfo=UTC)
EARLIER = NOW - timedelta(hours=3)
PAIRS = list(itertools.product(CaseStatus, CaseStatus))


@pytest.fixture
def session() -> Iterator[Session]:
    """A database with the tables and no rows: `move` writes its event at once; the case
    itself stays an object the test reads."""
    engine = create_engine("sqlite://")
    SQLModel.metadata.create_all(engine)
    with Session(engine) as session:
        yield session


def _case(status: CaseStatus) -> Case:
    held = status == CaseStatus.claimed
    done = status in (CaseStatus.resolved, CaseStatus.erased)
    return Case(
        id=7,
        ref="HL-0000AB",
        channel="sms",
        lang="es",
        desk_id="los-angeles",
        flow="raid",
        intent="raid",
        priority="high",
        priority_rank=1,
        status=status,
        intake_step="ask_where" if status == CaseStatus.intake else None,
        claimed_by=3 if held else None,
        lease_expires_at=EARLIER + timedelta(minutes=15) if held else None,
        resolved_at=EARLIER if done else None,
        outcome="helped" if done else None,
        created_at=EARLIER,
        updated_at=EARLIER,
    )


def _events(session: Session) -> list[tuple[int, str, str, datetime]]:
    rows = session.exec(select(CaseEvent).order_by(col(CaseEvent.id))).all()
    return [(event.case_id, event.kind, event.actor, event.at) for event in rows]


@pytest.mark.parametrize(
    ("source", "target"),
    [(s, t) for s, t in PAIRS if t in lifecycle.TRANSITIONS[s]],
    ids=lambda s: str(s),
)
def test_move_applies_every_allowed_move_with_its_event(
    session: Session, source: CaseStatus, target: CaseStatus
) -> None:
    """The case takes the new status, the fields of that status, and one event."""
    case = _case(source)
    lease = NOW + timedelta(minutes=15)
    lifecycle.move(
        session, case, target, actor="staff:5", now=NOW, claimed_by=5, lease_until=lease,
        outcome="referred",
    )  # fmt: skip
    assert case.status == target and case.updated_at == NOW
    assert _events(session) == [(7, lifecycle.event_kind(source, target), "staff:5", NOW)]
    if target == CaseStatus.claimed:
        assert (case.claimed_by, case.lease_expires_at) == (5, lease)
    else:
        assert (case.claimed_by, case.lease_expires_at) == (None, None)
    if target == CaseStatus.resolved:
        assert (case.resolved_at, case.outcome) == (NOW, "referred")
    if target == CaseStatus.open:
        assert (case.resolved_at, case.outcome) == (None, None)
    if target == CaseStatus.erased:
        assert case.resolved_at is not None and case.intake_step is None
    if source == CaseStatus.intake:  # staff acting mid-intake do not end it; closing does
        ends = target in (CaseStatus.resolved, CaseStatus.erased)
        assert (case.intake_step is None) == ends


@pytest.mark.parametrize(
    ("source", "target"),
    [(s, t) for s, t in PAIRS if t not in lifecycle.TRANSITIONS[s]],
    ids=lambda s: str(s),
)
def test_move_refuses_every_other_move(
    session: Session, source: CaseStatus, target: CaseStatus
) -> None:
    """IllegalTransition, the case untouched, no event."""
    case = _case(source)
    before = case.model_dump()
    with pytest.raises(IllegalTransition):
        lifecycle.move(session, case, target, actor="staff:5", now=NOW)
    assert case.model_dump() == before
    assert _events(session) == []


def test_transitions_cover_every_status_and_erased_is_final() -> None:
    """Each status has an entry; nothing leaves `erased`; everything else can be erased."""
    assert set(lifecycle.TRANSITIONS) == set(CaseStatus)
    assert lifecycle.TRANSITIONS[CaseStatus.erased] == frozenset()
    for status in set(CaseStatus) - {CaseStatus.erased}:
        assert lifecycle.allowed(status, CaseStatus.erased)
        assert status not in lifecycle.TRANSITIONS[status]


def test_the_queue_bulk_moves_are_allowed_moves() -> None:
    """The claim UPDATE takes CLAIMABLE cases to claimed; the lease release takes claimed
    ones to open: both within what the map allows."""
    assert set(lifecycle.CLAIMABLE) <= set(lifecycle.sources(CaseStatus.claimed))
    assert CaseStatus.claimed in lifecycle.sources(CaseStatus.open)
    with pytest.raises(ValueError):
        lifecycle.bulk_values(CaseStatus.resolved, now=NOW)


@pytest.mark.parametrize(
    ("source", "target"),
    [
        (CaseStatus.open, CaseStatus.claimed),
        (CaseStatus.intake, CaseStatus.claimed),
        (CaseStatus.claimed, CaseStatus.open),
    ],
    ids=lambda s: str(s),
)
def test_bulk_values_write_what_move_writes(
    session: Session, source: CaseStatus, target: CaseStatus
) -> None:
    """A bulk claim or release leaves the row as `move` would leave the object."""
    lease = NOW + timedelta(minutes=15)
    moved = _case(source)
    lifecycle.move(session, moved, target, actor="x", now=NOW, claimed_by=5, lease_until=lease)
    bulk = _case(source)
    for name, value in lifecycle.bulk_values(
        target, now=NOW, claimed_by=5, lease_until=lease
    ).items():
        setattr(bulk, name, CaseStatus(value) if name == "status" else value)  # a row's text
    assert bulk.model_dump() == moved.model_dump()


def test_merge_priority_takes_the_more_urgent_report() -> None:
    """The head takes a more urgent report's priority and earlier target, never a lower one."""
    head = _case(CaseStatus.open)
    head.priority, head.priority_rank, head.sla_due_at = "normal", 2, NOW + timedelta(hours=4)
    urgent = _case(CaseStatus.open)
    urgent.priority, urgent.priority_rank = "critical", 0
    urgent.sla_due_at, urgent.also_central = NOW + timedelta(minutes=15), True
    calm = _case(CaseStatus.open)
    calm.priority, calm.priority_rank, calm.sla_due_at = "low", 3, NOW
    lifecycle.merge_priority(head, calm)
    assert (head.priority, head.sla_due_at, head.also_central) == (
        "normal",
        NOW + timedelta(hours=4),
        False,
    )
    lifecycle.merge_priority(head, urgent)
    assert (head.priority, head.priority_rank, head.sla_due_at, head.also_central) == (
        "critical",
        0,
        NOW + timedelta(minutes=15),
        True,
    )
