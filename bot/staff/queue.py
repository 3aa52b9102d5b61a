"""Desk queues: their order, the atomic claim, claim leases, and how far intake has got.

A desk's queue offers `lifecycle.CLAIMABLE` cases: `open` ones and, since a case opens at the
person's first message, `intake` ones whose person is still answering. Queue order is
`priority_rank`, then cases triage flagged `needs_review`, then `sla_due_at` (cases without
a target last), then `created_at`. Only cases without a parent are queued: later reports
about the same person or raid fold into the first one (its `report_count`). The `central`
queue also holds every case marked `also_central`.

A claim is one statement: `UPDATE case … WHERE id = (SELECT id … ORDER BY … LIMIT 1 FOR
UPDATE SKIP LOCKED) RETURNING id` on PostgreSQL (concurrent claimers skip each other's row);
on SQLite the same UPDATE without the lock clause runs inside `Database.write()`, which holds
the write lock. Its status condition and the values it writes come from `bot.lifecycle`
(`sources`, `bulk_values`), which owns every status change. The claimer holds the case under
a lease, renewed by each action; when it runs out the case goes back to `open` (the sweep, or
the desk's next claim, releases it first) and is claimable again.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta
from typing import Any, Final

from sqlalchemy import and_, exists, or_, select, update
from sqlalchemy.sql.elements import ColumnElement
from sqlmodel import Session, col

from bot import lifecycle
from bot.db import Database
from bot.errors import IllegalTransition
from bot.models import Case, CaseStatus, Incident, Staff
from bot.staff.access import CENTRAL, audit, is_supervisor, require_desk
from bot.staff.schemas import IntakeState, QueueItem

logger = logging.getLogger(__name__)

LEASE: Final = timedelta(minutes=15)
CLAIM_RETRIES: Final = 20
# Intake counts as in progress while the person answered within this long.
INTAKE_QUIET: Final = timedelta(minutes=10)
_T: Any = Case.__table__  # type: ignore[attr-defined]


def intake_state(case: Case, now: datetime) -> IntakeState | None:
    """How far the person got: `in_progress` while they answered within INTAKE_QUIET,
    `not_finished` when they stopped before the end, None once intake is over."""
    if case.intake_step is None:
        return None
    return "in_progress" if case.updated_at >= now - INTAKE_QUIET else "not_finished"


def _on_desk(desk_id: str) -> ColumnElement[bool]:
    if desk_id == CENTRAL:
        return or_(_T.c.desk_id == desk_id, _T.c.also_central.is_(True))
    return _T.c.desk_id == desk_id  # type: ignore[no-any-return]


def _may_move(to: CaseStatus, among: Iterable[CaseStatus]) -> ColumnElement[bool]:
    """`status IN (…)`: the statuses of `among` that the lifecycle lets move to `to`."""
    wanted = set(among)
    condition: ColumnElement[bool] = _T.c.status.in_(
        [s for s in lifecycle.sources(to) if s in wanted]
    )
    return condition


def _claimable(desk_id: str) -> ColumnElement[bool]:
    """The desk's queue: unclaimed cases without a parent, intake included."""
    return and_(
        _on_desk(desk_id),
        _T.c.parent_id.is_(None),
        _may_move(CaseStatus.claimed, lifecycle.CLAIMABLE),
    )


def _lapsed(now: datetime) -> ColumnElement[bool]:
    """Claimed cases whose lease ran out."""
    return and_(
        _may_move(CaseStatus.open, (CaseStatus.claimed,)),
        _T.c.lease_expires_at < now,
    )


QUEUE_ORDER: Final = (
    _T.c.priority_rank,
    _T.c.needs_review.desc(),
    _T.c.sla_due_at.asc().nulls_last(),
    _T.c.created_at,
    _T.c.id,
)


def claim_next(
    db: Database, staff: Staff, desk_id: str, now: datetime, *, lease: timedelta = LEASE
) -> Case | None:
    """Give the staff member the desk's next case under a lease, or None when none is left
    (cases of the desk whose lease ran out go back to the queue first)."""
    require_desk(staff, desk_id)
    release_expired_leases(db, now=now, desk_id=desk_id)
    for _ in range(CLAIM_RETRIES):
        case = _claim_one(db, staff, _claimable(desk_id), now, lease)
        if case is not None:
            return case
        # On PostgreSQL a claim can come back empty when its candidate was taken between the
        # statement's snapshot and the lock; try again while claimable cases remain.
        with db.read() as session:
            if not session.execute(select(exists().where(_claimable(desk_id)))).scalar():
                return None
    return None


def _claim_one(
    db: Database, staff: Staff, claimable: ColumnElement[bool], now: datetime, lease: timedelta
) -> Case | None:
    """One atomic UPDATE … WHERE id = (next claimable, skipping locked rows) RETURNING id."""
    candidate = select(_T.c.id).where(claimable).order_by(*QUEUE_ORDER).limit(1)
    if not db.is_sqlite:
        candidate = candidate.with_for_update(skip_locked=True)
    values = lifecycle.bulk_values(
        CaseStatus.claimed, now=now, claimed_by=staff.id, lease_until=now + lease
    )
    statement = (
        update(_T)
        .where(_T.c.id == candidate.scalar_subquery(), claimable)
        .values(**values)
        .returning(_T.c.id)
    )
    with db.write() as session:
        case_id = session.execute(statement).scalar()
        if case_id is None:
            return None
        case = session.get(Case, case_id)
        assert case is not None
        data = {"intake_step": case.intake_step} if case.intake_step is not None else None
        kind = lifecycle.event_kind(CaseStatus.open, CaseStatus.claimed)
        lifecycle.record(session, case, kind, f"staff:{staff.id}", now, data)
        audit(session, staff, "claim", now, case=case)
        return case


def renew_lease(case: Case, staff: Staff, now: datetime, *, lease: timedelta = LEASE) -> None:
    """Extend the caller's lease on a case they hold."""
    if case.status == CaseStatus.claimed and case.claimed_by == staff.id:
        case.lease_expires_at = now + lease


def release_expired_leases(db: Database, *, now: datetime, desk_id: str | None = None) -> int:
    """Put claimed cases whose lease ran out (of one desk, or all) back to `open`; return
    how many."""
    lapsed = _lapsed(now) if desk_id is None else and_(_lapsed(now), _on_desk(desk_id))
    statement = (
        update(_T)
        .where(lapsed)
        .values(**lifecycle.bulk_values(CaseStatus.open, now=now))
        .returning(_T.c.id)
    )
    with db.write() as session:
        ids = list(session.execute(statement).scalars())
        for case_id in ids:
            case = session.get(Case, case_id)
            if case is not None:
                lifecycle.record(session, case, "lease_expired", "system", now)
    if ids:
        logger.info("released %s expired case lease(s)", len(ids))
    return len(ids)


def release(session: Session, staff: Staff, case: Case, now: datetime) -> None:
    """Give a held case back to the queue (only its holder, a supervisor or an admin may)."""
    if case.status != CaseStatus.claimed:
        return
    held_by_other = case.claimed_by not in (None, staff.id) and (
        case.lease_expires_at is not None and case.lease_expires_at > now
    )
    if held_by_other and not is_supervisor(staff):
        raise IllegalTransition("another staff member holds this case")
    lifecycle.move(session, case, CaseStatus.open, actor=f"staff:{staff.id}", now=now)
    audit(session, staff, "release", now, case=case)


def queue_items(
    session: Session,
    desk_id: str | None,
    *,
    now: datetime,
    statuses: Sequence[CaseStatus] = lifecycle.ACTIVE,
    limit: int = 500,
) -> list[QueueItem]:
    """The desk's cases (every desk's when `desk_id` is None) in queue order."""
    query = (
        select(Case, Incident)
        .outerjoin(Incident, col(Case.incident_id) == col(Incident.id))
        .where(col(Case.parent_id).is_(None), col(Case.status).in_(list(statuses)))
    )
    if desk_id is not None:
        query = query.where(_on_desk(desk_id))
    query = query.order_by(*QUEUE_ORDER).limit(limit)
    rows = session.execute(query).all()
    return [queue_item(case, incident, now) for case, incident in rows]


def queue_item(case: Case, incident: Incident | None, now: datetime) -> QueueItem:
    """A case as a queue line (with how far intake has got at `now`)."""
    return QueueItem(
        ref=case.ref,
        intent=case.intent,
        priority=case.priority,
        priority_rank=case.priority_rank,
        desk=case.desk_id,
        status=str(case.status),
        needs_review=case.needs_review,
        intake=intake_state(case, now),
        intake_step=case.intake_step or None,
        intake_finished=case.intake_step is None,
        channel=case.channel,
        lang=case.lang,
        created_at=case.created_at,
        sla_due_at=case.sla_due_at,
        first_response_at=case.first_response_at,
        escalated=case.escalated_at is not None,
        also_central=case.also_central,
        report_count=case.report_count,
        claimed_by=case.claimed_by,
        lease_expires_at=case.lease_expires_at,
        incident_id=case.incident_id,
        incident_reports=incident.report_count if incident else None,
        incident_state=str(incident.state) if incident else None,
    )
