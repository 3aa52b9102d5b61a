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

import functools
import logging
import threading
import weakref
from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta
from typing import Any, Final

from sqlalchemy import (
    String,
    and_,
    bindparam,
    exists,
    insert,
    literal,
    or_,
    select,
    true,
    update,
)
from sqlalchemy.sql.elements import ColumnElement
from sqlmodel import Session, col

from bot import lifecycle
from bot.db import Database
from bot.errors import IllegalTransition
from bot.models import AuditEntry, Case, CaseEvent, CaseStatus, Incident, Staff
from bot.staff.access import CENTRAL, audit, is_supervisor, require_desk
from bot.staff.schemas import IntakeState, QueueItem

logger = logging.getLogger(__name__)

LEASE: Final = timedelta(minutes=15)
RELEASE_EVERY: Final = timedelta(seconds=1)
CLAIM_RETRIES: Final = 20
# Intake counts as in progress while the person answered within this long.
INTAKE_QUIET: Final = timedelta(minutes=10)
_T: Any = Case.__table__  # type: ignore[attr-defined]
_EVENTS: Any = CaseEvent.__table__  # type: ignore[attr-defined]
_AUDIT: Any = AuditEntry.__table__  # type: ignore[attr-defined]
_CASE_COLUMNS: Final = tuple(c.name for c in _T.c)
_CLAIMED_KIND: Final = lifecycle.event_kind(CaseStatus.open, CaseStatus.claimed)
_NOW_EVENT: Final = bindparam("b_now", type_=_EVENTS.c.at.type)
_NOW_AUDIT: Final = bindparam("b_now", type_=_AUDIT.c.at.type)
_STAFF: Final = bindparam("b_staff", type_=_AUDIT.c.staff_id.type)
_ACTOR: Final = bindparam("b_actor", type_=_EVENTS.c.actor.type)
_EVENT_INSERT: Final = (
    insert(_EVENTS)
    .values(case_id=bindparam("b_case"), at=_NOW_EVENT, kind=_CLAIMED_KIND, actor=_ACTOR)
    .returning(_EVENTS.c.id)
)
_AUDIT_INSERT: Final = insert(_AUDIT).values(
    at=_NOW_AUDIT,
    staff_id=_STAFF,
    action="claim",
    case_id=bindparam("b_case"),
    desk_id=bindparam("b_case_desk"),
)
# When each desk's lapsed leases were last released, per database (see _release_lapsed).
_RELEASED: weakref.WeakKeyDictionary[Database, dict[str, datetime]] = weakref.WeakKeyDictionary()
_RELEASING: Final = threading.Lock()


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
    statuses = sorted(s for s in lifecycle.sources(to) if s in wanted)
    # Written into the statement as literals (not parameters): the partial index of the
    # claimable cases (`ix_case_claimable`) is usable only when the planner sees them.
    condition: ColumnElement[bool] = _T.c.status.in_(
        [literal(s, String(16), literal_execute=True) for s in statuses]
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
    _release_lapsed(db, desk_id, now)
    for _ in range(CLAIM_RETRIES):
        case = _claim_one(db, staff, desk_id, now, lease)
        if case is not None:
            return case
        # On PostgreSQL a claim can come back empty when its candidate was taken between the
        # statement's snapshot and the lock; try again while claimable cases remain.
        with db.read() as session:
            if not session.execute(select(exists().where(_claimable(desk_id)))).scalar():
                return None
    return None


def _release_lapsed(db: Database, desk_id: str, now: datetime) -> None:
    """Release the desk's lapsed leases before a claim — at most once a second per desk and
    process (a claim is many times a second in a surge; the sweep releases them all anyway)."""
    with _RELEASING:  # one claimer takes the turn; the others at that moment go on
        done = _RELEASED.setdefault(db, {})
        last = done.get(desk_id)
        if last is not None and timedelta(0) <= now - last < RELEASE_EVERY:
            return
        done[desk_id] = now
    release_expired_leases(db, now=now, desk_id=desk_id)


def _claim_one(
    db: Database, staff: Staff, desk_id: str, now: datetime, lease: timedelta
) -> Case | None:
    """All a claim writes, at once: the case (an atomic `UPDATE … WHERE id = (next
    claimable, skipping locked rows) RETURNING`), its `claimed` event and its audit entry.
    On PostgreSQL that is one statement (data-modifying CTEs) in autocommit — one round trip,
    its own transaction; the step an intake case had reached is added to the event after
    (encrypted, so written from here). On SQLite three statements in one write transaction.
    The statements are built once per dialect and kind of desk."""
    values = {
        "b_desk": desk_id,
        "b_now": now,
        "b_staff": staff.id,
        "b_lease_until": now + lease,
        "b_actor": f"staff:{staff.id}",
    }
    central = desk_id == CENTRAL
    with db.statements() as connection:
        if db.is_sqlite:
            row = connection.execute(_claim_statement(central, False), values).first()
            if row is None:
                return None
            event_id = connection.execute(_EVENT_INSERT, {**values, "b_case": row.id}).scalar_one()
            connection.execute(
                _AUDIT_INSERT, {**values, "b_case": row.id, "b_case_desk": row.desk_id}
            )
        else:
            row = connection.execute(_claim_statement(central, True), values).first()
            if row is None:
                return None
            event_id = row.event_id
        case = Case(**{name: getattr(row, name) for name in _CASE_COLUMNS})
        if case.intake_step is not None:  # the step reached, encrypted like every event's data
            connection.execute(
                update(_EVENTS)
                .where(_EVENTS.c.id == event_id)
                .values(data={"intake_step": case.intake_step})
            )
        return case


@functools.cache
def _claim_statement(central: bool, postgresql: bool) -> Any:
    """The claim of the next case of desk `:b_desk` (central's queue when `central`); on
    PostgreSQL with its event and audit entry written by the same statement."""
    on_desk = _T.c.desk_id == bindparam("b_desk")
    if central:
        on_desk = or_(on_desk, _T.c.also_central.is_(True))
    claimable = and_(
        on_desk, _T.c.parent_id.is_(None), _may_move(CaseStatus.claimed, lifecycle.CLAIMABLE)
    )
    candidate = select(_T.c.id).where(claimable).order_by(*QUEUE_ORDER).limit(1)
    if postgresql:
        candidate = candidate.with_for_update(skip_locked=True)
    values = lifecycle.bulk_values(
        CaseStatus.claimed,
        now=bindparam("b_now", type_=_T.c.updated_at.type),  # type: ignore[arg-type]
        claimed_by=bindparam("b_staff", type_=_T.c.claimed_by.type),  # type: ignore[arg-type]
        lease_until=bindparam("b_lease_until", type_=_T.c.lease_expires_at.type),  # type: ignore[arg-type]
    )
    claim = (
        update(_T)
        .where(_T.c.id == candidate.scalar_subquery(), claimable)
        .values(**values)
        .returning(*_T.c)
    )
    if not postgresql:
        return claim
    claimed = claim.cte("claimed")
    recorded = (
        insert(_EVENTS)
        .from_select(
            ["case_id", "at", "kind", "actor"],
            select(claimed.c.id, _NOW_EVENT, literal(_CLAIMED_KIND), _ACTOR),
        )
        .returning(_EVENTS.c.id)
        .cte("recorded")
    )
    audited = insert(_AUDIT).from_select(
        ["at", "staff_id", "action", "case_id", "desk_id"],
        select(_NOW_AUDIT, _STAFF, literal("claim"), claimed.c.id, claimed.c.desk_id),
    )
    return (
        select(claimed, recorded.c.id.label("event_id"))
        .select_from(claimed.join(recorded, true()))
        .add_cte(audited.cte("audited"))
    )


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
