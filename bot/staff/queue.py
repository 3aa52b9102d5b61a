"""Desk queues: their order, the atomic claim, and claim leases.

Queue order is `priority_rank`, then `sla_due_at` (cases without a target last), then
`created_at`. Only cases without a parent are queued: later reports about the same person or
raid fold into the first one (its `report_count`). The `central` queue also holds every case
marked `also_central`.

A claim is one statement: `UPDATE case … WHERE id = (SELECT id … ORDER BY … LIMIT 1 FOR
UPDATE SKIP LOCKED) RETURNING id` on PostgreSQL (concurrent claimers skip each other's row);
on SQLite the same UPDATE without the lock clause runs inside `Database.write()`, which holds
the write lock. The claimer holds the case under a lease, renewed by each action; when it
runs out the case is claimable again (and the sweep puts it back to `open`). Open cases are
tried first, so the common claim is an index walk on `ix_case_queue`.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any, Final

from sqlalchemy import and_, exists, or_, select, update
from sqlalchemy.sql.elements import ColumnElement
from sqlmodel import Session, col

from bot.cases import OPEN_STATUSES, record_event
from bot.db import Database
from bot.errors import IllegalTransition
from bot.models import Case, CaseStatus, Incident, Staff
from bot.staff.access import CENTRAL, audit, is_supervisor, require_desk
from bot.staff.schemas import QueueItem

logger = logging.getLogger(__name__)

LEASE: Final = timedelta(minutes=15)
CLAIM_RETRIES: Final = 20
_T: Any = Case.__table__  # type: ignore[attr-defined]


def _on_desk(desk_id: str) -> ColumnElement[bool]:
    if desk_id == CENTRAL:
        return or_(_T.c.desk_id == desk_id, _T.c.also_central.is_(True))
    return _T.c.desk_id == desk_id  # type: ignore[no-any-return]


def _waiting(desk_id: str) -> ColumnElement[bool]:
    """Open cases of the desk's queue (the index `ix_case_queue` serves this and the order)."""
    return and_(_on_desk(desk_id), _T.c.parent_id.is_(None), _T.c.status == CaseStatus.open.value)


def _lapsed(desk_id: str, now: datetime) -> ColumnElement[bool]:
    """Claimed cases of the desk whose lease ran out (the sweep has not reopened them yet)."""
    return and_(
        _on_desk(desk_id),
        _T.c.parent_id.is_(None),
        _T.c.status == CaseStatus.claimed.value,
        _T.c.lease_expires_at < now,
    )


QUEUE_ORDER: Final = (
    _T.c.priority_rank,
    _T.c.sla_due_at.asc().nulls_last(),
    _T.c.created_at,
    _T.c.id,
)


def claim_next(
    db: Database, staff: Staff, desk_id: str, now: datetime, *, lease: timedelta = LEASE
) -> Case | None:
    """Give the staff member the desk's next case under a lease, or None when none is left."""
    require_desk(staff, desk_id)
    for _ in range(CLAIM_RETRIES):
        for claimable in (_waiting(desk_id), _lapsed(desk_id, now)):
            case = _claim_one(db, staff, claimable, now, lease)
            if case is not None:
                return case
        # On PostgreSQL a claim can come back empty when its candidate was taken between the
        # statement's snapshot and the lock; try again while claimable cases remain.
        with db.read() as session:
            if not session.execute(
                select(exists().where(or_(_waiting(desk_id), _lapsed(desk_id, now))))
            ).scalar():
                return None
    return None


def _claim_one(
    db: Database, staff: Staff, claimable: ColumnElement[bool], now: datetime, lease: timedelta
) -> Case | None:
    """One atomic UPDATE … WHERE id = (next claimable, skipping locked rows) RETURNING id."""
    candidate = select(_T.c.id).where(claimable).order_by(*QUEUE_ORDER).limit(1)
    if not db.is_sqlite:
        candidate = candidate.with_for_update(skip_locked=True)
    statement = (
        update(_T)
        .where(_T.c.id == candidate.scalar_subquery())
        .values(
            status=CaseStatus.claimed.value,
            claimed_by=staff.id,
            lease_expires_at=now + lease,
            updated_at=now,
        )
        .returning(_T.c.id)
    )
    with db.write() as session:
        case_id = session.execute(statement).scalar()
        if case_id is None:
            return None
        case = session.get(Case, case_id)
        assert case is not None
        record_event(session, case, "claimed", f"staff:{staff.id}", now)
        audit(session, staff, "claim", now, case=case)
        return case


def renew_lease(case: Case, staff: Staff, now: datetime, *, lease: timedelta = LEASE) -> None:
    """Extend the caller's lease on a case they hold."""
    if case.status == CaseStatus.claimed and case.claimed_by == staff.id:
        case.lease_expires_at = now + lease


def release_expired_leases(db: Database, *, now: datetime) -> int:
    """Put claimed cases whose lease ran out back to `open`; return how many."""
    statement = (
        update(_T)
        .where(_T.c.status == CaseStatus.claimed.value, _T.c.lease_expires_at < now)
        .values(
            status=CaseStatus.open.value, claimed_by=None, lease_expires_at=None, updated_at=now
        )
        .returning(_T.c.id)
    )
    with db.write() as session:
        ids = list(session.execute(statement).scalars())
        for case_id in ids:
            case = session.get(Case, case_id)
            if case is not None:
                record_event(session, case, "lease_expired", "system", now)
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
    case.status, case.claimed_by, case.lease_expires_at, case.updated_at = (
        CaseStatus.open,
        None,
        None,
        now,
    )
    record_event(session, case, "released", f"staff:{staff.id}", now)
    audit(session, staff, "release", now, case=case)


def queue_items(
    session: Session,
    desk_id: str | None,
    *,
    statuses: Sequence[CaseStatus] = OPEN_STATUSES,
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
    return [queue_item(case, incident) for case, incident in session.execute(query).all()]


def queue_item(case: Case, incident: Incident | None) -> QueueItem:
    """A case as a queue line."""
    return QueueItem(
        ref=case.ref,
        intent=case.intent,
        priority=case.priority,
        priority_rank=case.priority_rank,
        desk=case.desk_id,
        status=str(case.status),
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
