"""The case service: the only writer of cases and their history.

`open_case` turns a finished report into a case: triage (intent, priority, reasons), location
resolution, routing to a desk (with `central` in front of closed or overloaded desks for
critical cases), a first-response deadline, and linking — raid reports close in place and
time join one incident, and reports about the same detained person join one case.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlmodel import Session, col, func, select

from bot.crypto import lookup_hash
from bot.models import Case, CaseEvent, CaseStatus, Desk, Incident
from bot.routing import DeskDirectory, Location, extract_location, resolve_location, route
from bot.routing.incidents import person_key
from bot.sla import SlaTargets, first_response_due
from bot.triage import classify
from bot.types import PRIORITY_RANK, Intent

REOPEN_WITHIN = timedelta(days=7)
OPEN_STATUSES = (CaseStatus.open, CaseStatus.claimed, CaseStatus.waiting)


@dataclass(frozen=True, slots=True)
class Report:
    """What a finished flow hands over to become a case."""

    ref: str
    contact_id: int
    channel: str
    lang: str
    flow: str
    intent: Intent | None  # the flow's own intent; None lets triage decide
    answers: Mapping[str, Any]
    text: str  # the person's own words, joined
    sender_phone: str | None = None  # SMS / WhatsApp: the area code is a weak location hint


def record_event(
    session: Session,
    case: Case,
    kind: str,
    actor: str,
    now: datetime,
    data: dict[str, Any] | None = None,
) -> CaseEvent:
    """Append one entry to the case's history."""
    assert case.id is not None
    event = CaseEvent(case_id=case.id, at=now, kind=kind, actor=actor, data=data)
    session.add(event)
    return event


def locate(report: Report) -> Location | None:
    """Where the report is about: the answer given, a place in the text, or the area code."""
    answer = report.answers.get("location")
    location: Location | None = None
    if isinstance(answer, Mapping):
        lat, lon = answer.get("lat"), answer.get("lon")
        if isinstance(lat, int | float) and isinstance(lon, int | float):
            location = resolve_location(lat=float(lat), lon=float(lon))
        else:
            answer = answer.get("text") or answer.get("raw")
    if location is None and isinstance(answer, str) and answer.strip():
        location = resolve_location(answer)
    if location is None and report.text:
        location = extract_location(report.text)
    if location is None and report.sender_phone:
        location = resolve_location(phone=report.sender_phone)
    return location


def open_critical_counts(session: Session) -> dict[str, int]:
    """Open critical cases per desk (for overflow to central)."""
    rows = session.exec(
        select(Case.desk_id, func.count())
        .where(Case.priority == "critical", col(Case.status).in_(OPEN_STATUSES))
        .group_by(Case.desk_id)
    ).all()
    return {desk: int(count) for desk, count in rows}


def open_case(
    session: Session,
    *,
    report: Report,
    desks: DeskDirectory,
    targets: SlaTargets,
    now: datetime,
) -> Case:
    """Triage, route and store a report as a case (linked to an earlier one where it belongs)."""
    answers = {**report.answers, "flow": report.flow}
    triage = classify(report.text, answers, now=now)
    intent = report.intent or triage.intent
    location = locate(report)
    counts = open_critical_counts(session) if triage.priority == "critical" else None
    decision = route(location, triage.priority, now, counts)
    desk = desks.get(decision.desk_id)
    reasons = [*triage.reasons, *decision.reasons]
    if location is not None:
        reasons.append(f"location: {location.method}, confidence {location.confidence}")
    case = Case(
        ref=report.ref,
        contact_id=report.contact_id,
        channel=report.channel,
        lang=report.lang,
        desk_id=desk.id,
        also_central=decision.also_central,
        flow=report.flow,
        intent=intent,
        priority=triage.priority,
        priority_rank=PRIORITY_RANK[triage.priority],
        reasons=reasons,
        answers=dict(answers),
        summary=report.text or None,
        location_label=location.label if location else None,
        location_confidence=location.confidence if location else None,
        zip=location.zip if location else None,
        lat=round(location.lat, 2) if location and location.lat is not None else None,
        lon=round(location.lon, 2) if location and location.lon is not None else None,
        person_hash=_person_hash(answers) if intent == "detention" else None,
        created_at=now,
        updated_at=now,
        sla_due_at=first_response_due(triage.priority, now, desk.timezone, targets),
    )
    session.add(case)
    session.flush()
    record_event(
        session,
        case,
        "created",
        "person",
        now,
        {"intent": intent, "priority": triage.priority, "reasons": reasons},
    )
    _link(session, case, now)
    return case


def _person_hash(answers: Mapping[str, Any]) -> str | None:
    key = person_key(
        _text(answers.get("a_number")), _text(answers.get("name")), _text(answers.get("dob"))
    )
    return None if key is None else lookup_hash(f"person:{key}")


def _text(value: object) -> str | None:
    if isinstance(value, Mapping):
        value = value.get("value") or value.get("raw")
    return value if isinstance(value, str) and value else None


def _link(session: Session, case: Case, now: datetime) -> None:
    """Join the case to an earlier open case about the same person, or to a raid incident."""
    if case.person_hash is not None:
        earlier = session.exec(
            select(Case)
            .where(
                Case.person_hash == case.person_hash,
                Case.id != case.id,
                col(Case.parent_id).is_(None),
                col(Case.status).in_(OPEN_STATUSES),
            )
            .order_by(col(Case.created_at))
        ).first()
        if earlier is not None:
            _attach(session, case, earlier, now, "same person")
    if case.intent == "raid":
        _join_incident(session, case, now)


def _attach(session: Session, case: Case, parent: Case, now: datetime, why: str) -> None:
    case.parent_id = parent.id
    parent.report_count += 1
    parent.updated_at = now
    parent.also_central = parent.also_central or case.also_central
    if case.priority_rank < parent.priority_rank:  # a more urgent report raises the group
        parent.priority, parent.priority_rank = case.priority, case.priority_rank
        if case.sla_due_at is not None and (
            parent.sla_due_at is None or case.sla_due_at < parent.sla_due_at
        ):
            parent.sla_due_at = case.sla_due_at
    record_event(session, parent, "linked", "system", now, {"ref": case.ref, "why": why})
    record_event(session, case, "linked", "system", now, {"ref": parent.ref, "why": why})


def _join_incident(session: Session, case: Case, now: datetime) -> None:
    """Group the raid report with reports close in place and time (see routing.incidents)."""
    from bot.routing.incidents import IncidentReport, corroboration_state, match_incident

    window_start = now - timedelta(hours=12)
    recent = session.exec(
        select(Incident).where(
            Incident.desk_id == case.desk_id, col(Incident.last_report_at) >= window_start
        )
    ).all()
    report = IncidentReport(zip=case.zip, lat=case.lat, lon=case.lon, at=now)
    match = match_incident(report, recent)
    if match is None:
        incident = Incident(
            desk_id=case.desk_id,
            zip=case.zip,
            lat=case.lat,
            lon=case.lon,
            label=case.location_label,
            first_report_at=now,
            last_report_at=now,
        )
        session.add(incident)
        session.flush()
    else:
        incident = match
    case.incident_id = incident.id
    reporters = set(
        session.exec(select(Case.contact_id).where(Case.incident_id == incident.id)).all()
    ) | {case.contact_id}
    incident.report_count += 1
    incident.reporter_count = len(reporters)
    incident.last_report_at = now
    incident.state = corroboration_state(incident.state, incident.reporter_count)
    primary = session.exec(
        select(Case)
        .where(Case.incident_id == incident.id, Case.id != case.id, col(Case.parent_id).is_(None))
        .order_by(col(Case.created_at))
    ).first()
    if primary is not None:
        _attach(session, case, primary, now, "same incident")


def find_case(session: Session, ref: str) -> Case | None:
    """The case with this reference (already normalised to HL-XXXXXX)."""
    return session.exec(select(Case).where(Case.ref == ref)).first()


def latest_open_case(session: Session, contact_id: int) -> Case | None:
    """The contact's most recent case that is not resolved."""
    return session.exec(
        select(Case)
        .where(Case.contact_id == contact_id, col(Case.status).in_(OPEN_STATUSES))
        .order_by(col(Case.created_at).desc())
    ).first()


def sync_desks(session: Session, desks: DeskDirectory) -> int:
    """Make the desk table match the routing data (add new desks, update changed ones)."""
    known = {desk.id: desk for desk in session.exec(select(Desk)).all()}
    changed = 0
    for desk in desks.all():
        values: dict[str, Any] = {
            "name_es": desk.name_es,
            "name_en": desk.name_en,
            "city": desk.city,
            "state": desk.state,
            "timezone": desk.timezone,
            "phone": desk.phone,
            "is_central": desk.is_central,
            "critical_capacity": desk.critical_capacity,
            "active": True,
        }
        row = known.get(desk.id)
        if row is None:
            session.add(Desk(id=desk.id, **values))
            changed += 1
        elif any(getattr(row, name) != value for name, value in values.items()):
            for name, value in values.items():
                setattr(row, name, value)
            changed += 1
    for desk_id, row in known.items():  # a desk removed from the data stays for its cases
        if desk_id not in desks.ids and row.active:
            row.active = False
            changed += 1
    return changed


def case_in_conversation(
    session: Session, contact_id: int, now: datetime, within: timedelta = REOPEN_WITHIN
) -> Case | None:
    """The person's own latest case, when staff and they are talking about it: its queue
    item (the case itself, or the report it is linked to) was answered by staff and is not
    closed, waits for the person, or was resolved within `within`."""
    own = session.exec(
        select(Case)
        .where(Case.contact_id == contact_id, col(Case.erased_at).is_(None))
        .order_by(col(Case.created_at).desc())
    ).first()
    head = queue_item_of(session, own) if own is not None else None
    if own is None or head is None or head.erased_at is not None:
        return None
    if head.status == CaseStatus.waiting:
        return own
    if head.status in (CaseStatus.open, CaseStatus.claimed):
        return own if head.first_response_at is not None else None
    recent = head.resolved_at is not None and head.resolved_at >= now - within
    return own if recent else None


def queue_item_of(session: Session, case: Case) -> Case | None:
    """The case that stands in the queue for this one: itself, or the report it joined."""
    return case if case.parent_id is None else session.get(Case, case.parent_id)


def reopen_on_message(
    session: Session, contact_id: int, now: datetime, *, within: timedelta = REOPEN_WITHIN
) -> Case | None:
    """Put the contact's latest case back in its queue when they write again about it: a
    case waiting for them, or one resolved within `within`. Returns the reopened queue item."""
    own = case_in_conversation(session, contact_id, now, within)
    case = queue_item_of(session, own) if own is not None else None
    if case is None or case.status not in (CaseStatus.waiting, CaseStatus.resolved):
        return None
    before = str(case.status)
    case.status, case.claimed_by, case.lease_expires_at, case.updated_at = (
        CaseStatus.open,
        None,
        None,
        now,
    )
    case.resolved_at, case.outcome = None, None
    record_event(session, case, "reopened", "person", now, {"from": before})
    return case
