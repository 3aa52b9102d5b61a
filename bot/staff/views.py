"""Read models for staff: a case in full, desk figures and incident lists.

`case_detail` decrypts what an authorised staff member may read: answers, the person's own
words, the transcript (the messages linked to the case, both ways, in time order), triage
reasons, history, evidence references, linked reports and the incident. A screening whose
answers the caller may not read (`bot.staff.access.may_read_answers`) comes `restricted`:
everything that repeats the answers is left out.
"""

from __future__ import annotations

import statistics
from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any, Final

from pydantic import BaseModel
from sqlmodel import Session, col, func, select

from bot.lifecycle import ACTIVE
from bot.models import (
    Case,
    CaseEvent,
    Desk,
    InboundMessage,
    Incident,
    Media,
    OutboundMessage,
    Staff,
)
from bot.staff.access import audit, hosts_of, may_read_answers, may_see_incident, sees_all
from bot.staff.actions import children
from bot.staff.queue import queue_item
from bot.staff.schemas import (
    CaseDetail,
    DeskFigures,
    EventOut,
    IncidentOut,
    LinkedCase,
    TranscriptLine,
)

TRANSCRIPT_LIMIT: Final = 300
WINDOW_CLOSED: Final = ("WhatsApp 24-hour window closed", "error 63016")


# What a browser may show from an evidence file in the dashboard's own origin: raster
# pictures, sound and video. Anything else (SVG above all: it can carry script) is only
# offered for download.
SHOWN_IMAGES: Final = frozenset({"image/jpeg", "image/png", "image/gif", "image/webp"})


def shown_as(content_type: str) -> str | None:
    """ "image", "audio" or "video" when the dashboard may show the file in the page; None
    when it must be downloaded instead."""
    kind = content_type.split(";", 1)[0].strip().lower()
    if kind in SHOWN_IMAGES:
        return "image"
    major = kind.split("/", 1)[0]
    return major if major in ("audio", "video") else None


class MediaOut(BaseModel):
    """An evidence file on the case page (served by the service, never a provider link)."""

    id: int
    content_type: str
    size: int
    at: datetime

    @property
    def kind(self) -> str | None:
        return shown_as(self.content_type)


class OutboundLine(TranscriptLine):
    """A message to the person, with how it went: as a WhatsApp template, or why it failed
    (shown on the dashboard; the API keeps the plain transcript line)."""

    template: bool = False
    error: str | None = None  # the sender's reason, for a failed or undelivered message
    window_closed: bool = False  # WhatsApp's 24-hour window closed and no template went


FIGURES_WINDOW: Final = timedelta(days=30)


def case_detail(session: Session, staff: Staff, case: Case, now: datetime) -> CaseDetail:
    """The case in full, and an audit entry saying who looked."""
    audit(session, staff, "view", now, case=case)
    incident = session.get(Incident, case.incident_id) if case.incident_id else None
    parent = session.get(Case, case.parent_id) if case.parent_id else None
    events = list(
        session.exec(
            select(CaseEvent)
            .where(col(CaseEvent.case_id) == case.id)
            .order_by(col(CaseEvent.at), col(CaseEvent.id))
        ).all()
    )
    evidence = [
        {"ref": str(m.get("ref", "")), "content_type": str(m.get("content_type", ""))}
        for e in events
        if e.kind == "evidence" and e.data
        for m in e.data.get("media", [])
        if isinstance(m, dict)
    ]
    base = queue_item(case, incident, now).model_dump()
    shown = may_read_answers(staff, case, hosts_of(session, case))
    return CaseDetail(
        **base,
        flow=case.flow,
        reasons=list(case.reasons or []) if shown else [],
        summary=case.summary if shown else None,
        answers=case.answers if shown else None,
        location=case.location_label,
        location_confidence=case.location_confidence,
        zip=case.zip,
        resolved_at=case.resolved_at,
        outcome=case.outcome,
        erased=case.erased_at is not None,
        transcript=transcript(session, case) if shown else [],
        events=[
            EventOut(at=e.at, kind=e.kind, actor=e.actor, data=e.data if shown else None)
            for e in events
        ],
        evidence=evidence if shown else [],
        linked=[
            LinkedCase(
                ref=c.ref,
                intent=c.intent,
                priority=c.priority,
                created_at=c.created_at,
                summary=c.summary if shown else None,
            )
            for c in children(session, case)
        ],
        incident=incident_out(session, incident) if incident else None,
        parent_ref=parent.ref if parent else None,
        restricted=not shown,
    )


def transcript(session: Session, case: Case) -> list[TranscriptLine]:
    """The messages both ways that belong to this case, oldest first (the latest
    TRANSCRIPT_LIMIT): those linked to it when they were processed or queued, so staff at
    one desk never read about another desk's case of the same person. A case opened before
    the privacy notice was accepted (no contact) shows none."""
    if case.contact_id is None:
        return []
    inbound_query = select(InboundMessage).where(col(InboundMessage.case_id) == case.id)
    outbound_query = select(OutboundMessage).where(col(OutboundMessage.case_id) == case.id)
    inbound = session.exec(
        inbound_query.order_by(col(InboundMessage.received_at).desc()).limit(TRANSCRIPT_LIMIT)
    ).all()
    outbound = session.exec(
        outbound_query.order_by(col(OutboundMessage.created_at).desc()).limit(TRANSCRIPT_LIMIT)
    ).all()
    lines = [
        TranscriptLine(at=m.received_at, direction="in", text=m.text, status=str(m.status))
        for m in inbound
    ]
    lines += [
        OutboundLine(
            at=m.created_at,
            direction="out",
            text=m.text,
            status=str(m.status),
            template=m.template is not None,
            error=m.last_error if m.status in ("failed", "undelivered") else None,
            window_closed=any(w in (m.last_error or "") for w in WINDOW_CLOSED),
        )
        for m in outbound
    ]
    lines.sort(key=lambda line: (line.at, line.direction != "in"))
    return lines[-TRANSCRIPT_LIMIT:]


def case_media(session: Session, case: Case) -> list[MediaOut]:
    """The photos and voice notes the person sent with this case (attached to it, or sent
    with a message linked to it, as for the transcript), without the bytes."""
    sent = select(InboundMessage.id).where(col(InboundMessage.case_id) == case.id)
    query = select(Media.id, Media.content_type, Media.size, Media.created_at).where(
        (col(Media.case_id) == case.id) | col(Media.inbound_id).in_(sent)
    )
    rows = session.exec(query.order_by(col(Media.created_at))).all()
    return [MediaOut(id=i, content_type=t, size=n, at=a) for i, t, n, a in rows if i is not None]


def incident_out(session: Session, incident: Incident) -> IncidentOut:
    """An incident with the reference of its first report."""
    primary = session.exec(
        select(Case.ref)
        .where(col(Case.incident_id) == incident.id, col(Case.parent_id).is_(None))
        .order_by(col(Case.created_at))
    ).first()
    assert incident.id is not None
    return IncidentOut(
        id=incident.id,
        desk=incident.desk_id,
        zip=incident.zip,
        label=incident.label,
        first_report_at=incident.first_report_at,
        last_report_at=incident.last_report_at,
        report_count=incident.report_count,
        reporter_count=incident.reporter_count,
        state=str(incident.state),
        note=incident.note,
        verified_at=incident.verified_at,
        primary_ref=primary,
    )


def incidents(
    session: Session,
    staff: Staff,
    desk_id: str | None,
    now: datetime,
    within: timedelta = timedelta(days=7),
) -> list[IncidentOut]:
    """Recent incidents of the desk (or every desk the staff member may see)."""
    query = select(Incident).where(col(Incident.last_report_at) >= now - within)
    if desk_id is not None:
        query = query.where(col(Incident.desk_id) == desk_id)
    rows = session.exec(query.order_by(col(Incident.last_report_at).desc())).all()
    return [incident_out(session, i) for i in rows if may_see_incident(staff, i)]


def visible_desks(session: Session, staff: Staff) -> list[str]:
    """The desks whose queues the staff member may open."""
    if sees_all(staff):
        return list(
            session.exec(
                select(Desk.id).where(col(Desk.active).is_(True)).order_by(col(Desk.id))
            ).all()
        )
    return [staff.desk_id]


def desk_figures(session: Session, desk_ids: Iterable[str], now: datetime) -> list[DeskFigures]:
    """Cases in intake, open, claimed, waiting and breached, resolutions in 24 h and the
    median minutes to first response (cases of the last 30 days), per desk."""
    wanted = list(desk_ids)
    counts: dict[tuple[str, str], int] = {}
    for desk, status, count in session.exec(
        select(Case.desk_id, Case.status, func.count())
        .where(
            col(Case.desk_id).in_(wanted),
            col(Case.parent_id).is_(None),
            col(Case.status).in_(list(ACTIVE)),
        )
        .group_by(Case.desk_id, Case.status)
    ).all():
        counts[(desk, str(status))] = int(count)
    breached = _per_desk(
        session,
        wanted,
        col(Case.status).in_(list(ACTIVE)),
        col(Case.first_response_at).is_(None),
        col(Case.sla_due_at) < now,
    )
    resolved = _per_desk(session, wanted, col(Case.resolved_at) >= now - timedelta(days=1))
    waits: dict[str, list[float]] = {}
    for desk, created, first in session.exec(
        select(Case.desk_id, Case.created_at, Case.first_response_at).where(
            col(Case.desk_id).in_(wanted),
            col(Case.parent_id).is_(None),
            col(Case.first_response_at).is_not(None),
            col(Case.created_at) >= now - FIGURES_WINDOW,
        )
    ).all():
        if first is not None:
            waits.setdefault(desk, []).append((first - created).total_seconds() / 60)
    return [
        DeskFigures(
            desk=desk,
            intake=counts.get((desk, "intake"), 0),
            open=counts.get((desk, "open"), 0),
            claimed=counts.get((desk, "claimed"), 0),
            waiting=counts.get((desk, "waiting"), 0),
            breached=breached.get(desk, 0),
            resolved_24h=resolved.get(desk, 0),
            median_first_response_minutes=(
                round(statistics.median(waits[desk]), 1) if waits.get(desk) else None
            ),
        )
        for desk in wanted
    ]


def _per_desk(session: Session, desks: list[str], *conditions: Any) -> dict[str, int]:
    rows = session.exec(
        select(Case.desk_id, func.count())
        .where(col(Case.desk_id).in_(desks), col(Case.parent_id).is_(None), *conditions)
        .group_by(Case.desk_id)
    ).all()
    return {desk: int(count) for desk, count in rows}


def staff_names(session: Session, ids: Iterable[int | None]) -> dict[int, str]:
    """Names of the staff members with these ids (for showing who holds a case)."""
    wanted = {i for i in ids if i is not None}
    if not wanted:
        return {}
    rows = session.exec(select(Staff.id, Staff.name).where(col(Staff.id).in_(wanted)))
    return {int(i): str(n) for i, n in rows.all() if i is not None}
