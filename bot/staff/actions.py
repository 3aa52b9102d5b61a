"""What staff do to a case: note, reply, transfer, escalate, resolve; reopening; incidents.

Each action checks the desk wall, appends a `CaseEvent` (the case's history, encrypted) and
an `AuditEntry` (codes and ids only), and renews the actor's lease. Status changes go
through `bot.lifecycle.move`, which refuses a move the lifecycle does not allow (409: e.g.
replying to or resolving an erased case). Free text staff write (notes, reasons) goes into
the event, never into the audit trail. A case someone else holds under a live lease refuses
replies, transfers and resolutions from agents (409); supervisors and admins may still act.
"""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Session, col, select

from bot import i18n, lifecycle
from bot.engine.model import Reply
from bot.engine.refs import normalize_ref
from bot.errors import Forbidden, IllegalTransition, NotFound
from bot.models import (
    Case,
    CaseStatus,
    Contact,
    Desk,
    Incident,
    IncidentState,
    Staff,
)
from bot.outgoing import queue_replies
from bot.staff.access import audit, hosts_of, is_supervisor, may_see_incident, require_case
from bot.staff.errors import Invalid
from bot.staff.queue import renew_lease
from bot.staff.schemas import CANNED, outcomes_for
from bot.types import LANGS, PRIORITIES, Lang


def as_lang(value: str) -> Lang:
    """A supported language code (Spanish when unknown)."""
    return next((lang for lang in LANGS if lang == value), "es")


def case_for(session: Session, staff: Staff, ref: str, *, lock: bool = True) -> Case:
    """The case with this reference if the staff member may see it (NotFound, Forbidden).

    With `lock` (every action) the row is locked first, so the holder and status checks see
    what is committed now, not a snapshot a concurrent claim has since changed (PostgreSQL;
    SQLite's write transaction already excludes others)."""
    canonical = normalize_ref(ref)
    case = None
    if canonical:
        query = select(Case).where(Case.ref == canonical)
        case = session.exec(query.with_for_update() if lock else query).first()
    if case is None:
        raise NotFound("no case with this reference")
    require_case(staff, case, hosts_of(session, case))
    return case


def _actor(staff: Staff) -> str:
    return f"staff:{staff.id}"


def _require_holder(staff: Staff, case: Case, now: datetime) -> None:
    held = (
        case.status == CaseStatus.claimed
        and case.claimed_by not in (None, staff.id)
        and case.lease_expires_at is not None
        and case.lease_expires_at > now
    )
    if held and not is_supervisor(staff):
        raise IllegalTransition("another staff member holds this case")


def _require_active(case: Case) -> None:
    """Refuse work on a case that is resolved or erased (actions that keep its status)."""
    if case.status not in lifecycle.ACTIVE or case.erased_at is not None:
        raise IllegalTransition(f"the case is {case.status}")


def add_note(session: Session, staff: Staff, case: Case, text: str, now: datetime) -> None:
    """Add a staff note to the case's history."""
    if not text.strip():
        raise Invalid("the note is empty")
    lifecycle.record(session, case, "note", _actor(staff), now, {"text": text.strip()})
    renew_lease(case, staff, now)
    case.updated_at = now
    audit(session, staff, "note", now, case=case)


def reply(
    session: Session,
    staff: Staff,
    case: Case,
    now: datetime,
    *,
    text: str | None = None,
    canned: str | None = None,
) -> list[int]:
    """Write a reply to the person on their channel, in the case's language; return the
    outbox row ids. The case then waits for the person."""
    _require_holder(staff, case, now)
    if canned is not None:
        if canned not in CANNED:
            raise Invalid("unknown canned reply")
        body = i18n.t(f"staff.canned.{canned}", as_lang(case.lang), ref=case.ref)
    else:
        body = (text or "").strip()
    if not body:
        raise Invalid("the reply is empty")
    contact = session.get(Contact, case.contact_id) if case.contact_id is not None else None
    if contact is None or contact.address is None:
        raise IllegalTransition("the person can no longer be reached")
    assert contact.id is not None
    data = {"text": body, **({"canned": canned} if canned else {})}
    answered_by = case.claimed_by or staff.id
    if case.status == CaseStatus.waiting:  # a further message; the case keeps waiting
        lifecycle.record(session, case, "reply", _actor(staff), now, data)
        case.updated_at = now
    else:
        lifecycle.move(
            session,
            case,
            CaseStatus.waiting,
            actor=_actor(staff),
            now=now,
            event="reply",
            data=data,
        )
    case.claimed_by = answered_by  # who answered, shown while the case waits
    ids = queue_replies(
        session,
        contact_id=contact.id,
        channel=contact.channel,
        replies=[Reply(body)],
        now=now,
        case_id=case.id,
        kind="staff",
    )
    if case.first_response_at is None:
        case.first_response_at = now
    audit(session, staff, "reply", now, case=case, detail={"canned": canned} if canned else None)
    return ids


def transfer(
    session: Session, staff: Staff, case: Case, desk_id: str, reason: str, now: datetime
) -> None:
    """Move the case to another desk's queue (unclaimed), with the reason in its history."""
    _require_active(case)
    _require_holder(staff, case, now)
    desk = session.get(Desk, desk_id)
    if desk is None or not desk.active:
        raise Invalid("unknown desk")
    if desk_id == case.desk_id:
        raise Invalid("the case is already at this desk")
    before = case.desk_id
    data = {"from": before, "to": desk_id, "reason": reason.strip()}
    case.desk_id = desk_id
    for child in children(session, case):
        child.desk_id = desk_id
    if case.status in (CaseStatus.claimed, CaseStatus.waiting):  # back into the new queue
        lifecycle.move(
            session,
            case,
            CaseStatus.open,
            actor=_actor(staff),
            now=now,
            event="transferred",
            data=data,
        )
    else:  # open, or intake still going on: it stays what it is, at the other desk
        lifecycle.record(session, case, "transferred", _actor(staff), now, data)
        case.updated_at = now
    audit(
        session,
        staff,
        "transfer",
        now,
        case=case,
        desk_id=before,
        detail={"from": before, "to": desk_id},
    )


def raise_priority(case: Case) -> None:
    """Move the case one priority level up (critical stays critical)."""
    rank = max(0, case.priority_rank - 1)
    case.priority_rank, case.priority = rank, PRIORITIES[rank]


def escalate(session: Session, staff: Staff, case: Case, reason: str, now: datetime) -> None:
    """Raise the case one priority level and put it before central too."""
    _require_active(case)
    before = case.priority
    raise_priority(case)
    case.escalated_at, case.also_central, case.updated_at = now, True, now
    renew_lease(case, staff, now)
    lifecycle.record(
        session,
        case,
        "escalated",
        _actor(staff),
        now,
        {"from": before, "to": case.priority, "reason": reason.strip()},
    )
    audit(session, staff, "escalate", now, case=case, detail={"from": before, "to": case.priority})


def resolve(
    session: Session, staff: Staff, case: Case, outcome: str, note: str, now: datetime
) -> None:
    """Close the case (and the reports folded into it that are still active) with one of the
    outcomes of its flow; a case already resolved or erased cannot be resolved (409)."""
    _require_holder(staff, case, now)
    if outcome not in outcomes_for(case.flow):
        raise Invalid("unknown outcome")
    data = {"outcome": outcome, **({"note": note.strip()} if note.strip() else {})}
    lifecycle.move(
        session, case, CaseStatus.resolved, actor=_actor(staff), now=now, outcome=outcome, data=data
    )
    for item in children(session, case):
        if lifecycle.allowed(item.status, CaseStatus.resolved):
            lifecycle.move(
                session,
                item,
                CaseStatus.resolved,
                actor=_actor(staff),
                now=now,
                outcome=outcome,
                data={"outcome": outcome, "via": case.ref},
            )
    audit(session, staff, "resolve", now, case=case, detail={"outcome": outcome})


def children(session: Session, case: Case) -> list[Case]:
    """The later reports folded into this case."""
    return list(
        session.exec(
            select(Case).where(Case.parent_id == case.id).order_by(col(Case.created_at))
        ).all()
    )


def verify_incident(
    session: Session, staff: Staff, incident_id: int, state: str, note: str, now: datetime
) -> Incident:
    """Staff's verdict on an incident: confirmed or false, with a note."""
    incident = session.get(Incident, incident_id)
    if incident is None:
        raise NotFound("no such incident")
    if not may_see_incident(staff, incident):
        raise Forbidden("this incident belongs to another desk")
    if state not in (IncidentState.confirmed, IncidentState.false):
        raise Invalid("state must be confirmed or false")
    before = str(incident.state)
    incident.state, incident.note = IncidentState(state), note.strip() or None
    incident.verified_by, incident.verified_at = staff.id, now
    primary = session.exec(
        select(Case).where(
            Case.incident_id == incident.id,
            col(Case.parent_id).is_(None),
            col(Case.status).in_(lifecycle.ACTIVE),
        )
    ).first()
    if primary is not None:
        lifecycle.record(
            session,
            primary,
            "incident_verified",
            _actor(staff),
            now,
            {"state": state, "note": note.strip()},
        )
    audit(
        session,
        staff,
        "verify_incident",
        now,
        incident_id=incident.id,
        desk_id=incident.desk_id,
        detail={"from": before, "to": state},
    )
    return incident
