"""What staff do to a case: note, reply, transfer, escalate, resolve; reopening; incidents.

Each action checks the desk wall, appends a `CaseEvent` (the case's history, encrypted) and
an `AuditEntry` (codes and ids only), and renews the actor's lease. Free text staff write
(notes, reasons) goes into the event, never into the audit trail. A case someone else holds
under a live lease refuses replies, transfers and resolutions from agents (409);
supervisors and admins may still act.
"""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Session, col, select

from bot import i18n
from bot.cases import OPEN_STATUSES, record_event
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
from bot.staff.access import audit, is_supervisor, may_see_incident, require_case
from bot.staff.errors import Invalid
from bot.staff.queue import renew_lease
from bot.staff.schemas import CANNED, OUTCOMES
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
    require_case(staff, case)
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


def _require_open(case: Case) -> None:
    if case.status == CaseStatus.resolved or case.erased_at is not None:
        raise IllegalTransition("the case is resolved")


def add_note(session: Session, staff: Staff, case: Case, text: str, now: datetime) -> None:
    """Add a staff note to the case's history."""
    if not text.strip():
        raise Invalid("the note is empty")
    record_event(session, case, "note", _actor(staff), now, {"text": text.strip()})
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
    _require_open(case)
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
    case.status, case.lease_expires_at, case.updated_at = CaseStatus.waiting, None, now
    case.claimed_by = case.claimed_by or staff.id
    record_event(
        session,
        case,
        "reply",
        _actor(staff),
        now,
        {"text": body, **({"canned": canned} if canned else {})},
    )
    audit(session, staff, "reply", now, case=case, detail={"canned": canned} if canned else None)
    return ids


def transfer(
    session: Session, staff: Staff, case: Case, desk_id: str, reason: str, now: datetime
) -> None:
    """Move the case to another desk's queue (unclaimed), with the reason in its history."""
    _require_open(case)
    _require_holder(staff, case, now)
    desk = session.get(Desk, desk_id)
    if desk is None or not desk.active:
        raise Invalid("unknown desk")
    if desk_id == case.desk_id:
        raise Invalid("the case is already at this desk")
    before = case.desk_id
    case.desk_id, case.status, case.claimed_by, case.lease_expires_at = (
        desk_id,
        CaseStatus.open,
        None,
        None,
    )
    case.updated_at = now
    for child in children(session, case):
        child.desk_id = desk_id
    record_event(
        session,
        case,
        "transferred",
        _actor(staff),
        now,
        {"from": before, "to": desk_id, "reason": reason.strip()},
    )
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
    _require_open(case)
    before = case.priority
    raise_priority(case)
    case.escalated_at, case.also_central, case.updated_at = now, True, now
    renew_lease(case, staff, now)
    record_event(
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
    """Close the case (and the reports folded into it) with an outcome."""
    _require_open(case)
    _require_holder(staff, case, now)
    if outcome not in OUTCOMES:
        raise Invalid("unknown outcome")
    for item in [case, *children(session, case)]:
        if item.status == CaseStatus.resolved:
            continue
        item.status, item.resolved_at, item.outcome, item.updated_at = (
            CaseStatus.resolved,
            now,
            outcome,
            now,
        )
        item.lease_expires_at = None
        data = {"outcome": outcome, **({"note": note.strip()} if note.strip() else {})}
        if item is not case:
            data = {"outcome": outcome, "via": case.ref}
        record_event(session, item, "resolved", _actor(staff), now, data)
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
            col(Case.status).in_(OPEN_STATUSES),
        )
    ).first()
    if primary is not None:
        record_event(
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
