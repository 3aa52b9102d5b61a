"""The staff JSON API under `/api/v1` (bearer tokens; described at /openapi.json).

Routes are plain `def`s: FastAPI runs them in its thread pool, and each one is one short
database transaction.
"""

from __future__ import annotations

import csv
import io
from typing import Any

from fastapi import APIRouter, Query, Response
from fastapi.responses import PlainTextResponse
from pydantic import BaseModel

from bot.cases import find_case
from bot.models import Case, utcnow
from bot.staff import actions
from bot.staff.access import require_desk
from bot.staff.deps import ApiStaff, RowId, ServicesDep, StaffServices, http_errors
from bot.staff.queue import claim_next, queue_items, release as release_case
from bot.staff.schemas import (
    ActionResult,
    CaseDetail,
    ClaimRequest,
    DeskFigures,
    EscalateRequest,
    IncidentOut,
    Me,
    QueueItem,
    ReplyRequest,
    ResolveRequest,
    TextRequest,
    TransferRequest,
    VerifyRequest,
)
from bot.staff.views import case_detail, desk_figures, incident_out, incidents, visible_desks


class Problem(BaseModel):
    """Why a request was refused: a sentence, or (a malformed request) FastAPI's list of
    the fields at fault."""

    detail: str | list[dict[str, Any]]


ERRORS: dict[int | str, dict[str, object]] = {
    401: {"model": Problem, "description": "No token, or a wrong, expired or revoked one."},
    403: {"model": Problem, "description": "Outside the desks the caller may see."},
    404: {"model": Problem, "description": "No such case or incident."},
    409: {"model": Problem, "description": "Not allowed in the case's current state."},
    422: {"model": Problem, "description": "A malformed request, or a value the case refuses."},
}
router = APIRouter(prefix="/api/v1", tags=["staff"], responses=ERRORS)
FIGURE_COLUMNS = (
    "desk",
    "open",
    "claimed",
    "waiting",
    "breached",
    "resolved_24h",
    "median_first_response_minutes",
    "intake",
)


@router.get("/me")
def me(staff: ApiStaff) -> Me:
    """Who the token belongs to."""
    assert staff.id is not None
    return Me(id=staff.id, name=staff.name, desk=staff.desk_id, role=str(staff.role))


@router.get("/queue")
def get_queue(
    services: ServicesDep, staff: ApiStaff, desk: str | None = Query(default=None)
) -> list[QueueItem]:
    """The desk's open cases in queue order (the caller's own desk by default), intake
    unfinished included; `intake` and `needs_review` say what to look at first."""
    wanted = desk or staff.desk_id
    with http_errors():
        require_desk(staff, wanted)
    with services.db.read() as session:
        return queue_items(session, wanted, now=utcnow())


@router.post(
    "/queue/claim",
    response_model=CaseDetail,
    responses={204: {"description": "The queue is empty."}},
)
def claim(
    services: ServicesDep, staff: ApiStaff, body: ClaimRequest | None = None
) -> CaseDetail | Response:
    """Atomically claim the desk's next case (204 when the queue is empty)."""
    desk = (body.desk if body else None) or staff.desk_id
    now = utcnow()
    with http_errors():
        case = claim_next(services.db, staff, desk, now)
    if case is None:
        return Response(status_code=204)
    with services.db.write() as session:
        held = session.get(Case, case.id)
        assert held is not None
        return case_detail(session, staff, held, now)


@router.get("/cases/{ref}")
def get_case(services: ServicesDep, staff: ApiStaff, ref: str) -> CaseDetail:
    """The case: triage, location, status, transcript, history, linked reports."""
    now = utcnow()
    with http_errors(), services.db.write() as session:
        case = actions.case_for(session, staff, ref, lock=False)
        return case_detail(session, staff, case, now)


def _result(ref: str, services: StaffServices, outbound: list[int] | None = None) -> ActionResult:
    with services.db.read() as session:
        case = find_case(session, ref)
        assert case is not None
        return ActionResult(
            ref=case.ref,
            status=str(case.status),
            desk=case.desk_id,
            priority=case.priority,
            outbound_ids=outbound or [],
        )


@router.post("/cases/{ref}/reply")
def reply(services: ServicesDep, staff: ApiStaff, ref: str, body: ReplyRequest) -> ActionResult:
    """Answer the person on their channel, in the case's language."""
    with http_errors(), services.db.write() as session:
        case = actions.case_for(session, staff, ref)
        ids = actions.reply(session, staff, case, utcnow(), text=body.text, canned=body.canned)
        found = case.ref
    return _result(found, services, ids)


@router.post("/cases/{ref}/notes")
def note(services: ServicesDep, staff: ApiStaff, ref: str, body: TextRequest) -> ActionResult:
    """Add a staff note."""
    with http_errors(), services.db.write() as session:
        case = actions.case_for(session, staff, ref)
        actions.add_note(session, staff, case, body.text, utcnow())
        found = case.ref
    return _result(found, services)


@router.post("/cases/{ref}/transfer")
def transfer(
    services: ServicesDep, staff: ApiStaff, ref: str, body: TransferRequest
) -> ActionResult:
    """Move the case to another desk's queue, with a reason."""
    with http_errors(), services.db.write() as session:
        case = actions.case_for(session, staff, ref)
        actions.transfer(session, staff, case, body.desk, body.reason, utcnow())
        found = case.ref
    return _result(found, services)


@router.post("/cases/{ref}/escalate")
def escalate(
    services: ServicesDep, staff: ApiStaff, ref: str, body: EscalateRequest | None = None
) -> ActionResult:
    """Raise the case one priority level and show it to central."""
    with http_errors(), services.db.write() as session:
        case = actions.case_for(session, staff, ref)
        actions.escalate(session, staff, case, body.reason if body else "", utcnow())
        found = case.ref
    return _result(found, services)


@router.post("/cases/{ref}/resolve")
def resolve(services: ServicesDep, staff: ApiStaff, ref: str, body: ResolveRequest) -> ActionResult:
    """Close the case (and its linked reports) with an outcome."""
    with http_errors(), services.db.write() as session:
        case = actions.case_for(session, staff, ref)
        actions.resolve(session, staff, case, body.outcome, body.note, utcnow())
        found = case.ref
    return _result(found, services)


@router.post("/cases/{ref}/release")
def release(services: ServicesDep, staff: ApiStaff, ref: str) -> ActionResult:
    """Give a claimed case back to the queue."""
    with http_errors(), services.db.write() as session:
        case = actions.case_for(session, staff, ref)
        release_case(session, staff, case, utcnow())
        found = case.ref
    return _result(found, services)


@router.get("/incidents")
def list_incidents(
    services: ServicesDep, staff: ApiStaff, desk: str | None = Query(default=None)
) -> list[IncidentOut]:
    """Recent incidents (grouped raid reports) of the desk."""
    with http_errors():
        if desk is not None:
            require_desk(staff, desk)
    with services.db.read() as session:
        return incidents(session, staff, desk, utcnow())


@router.post("/incidents/{incident_id}/verify")
def verify(
    services: ServicesDep, staff: ApiStaff, incident_id: RowId, body: VerifyRequest
) -> IncidentOut:
    """Mark an incident confirmed or false, with a note."""
    with http_errors(), services.db.write() as session:
        incident = actions.verify_incident(
            session, staff, incident_id, body.state, body.note, utcnow()
        )
        return incident_out(session, incident)


@router.get("/figures")
def figures(
    services: ServicesDep, staff: ApiStaff, desk: str | None = Query(default=None)
) -> list[DeskFigures]:
    """Per-desk figures: open, claimed, waiting, breached, median first response."""
    with http_errors():
        if desk is not None:
            require_desk(staff, desk)
    with services.db.read() as session:
        desks = [desk] if desk else visible_desks(session, staff)
        return desk_figures(session, desks, utcnow())


class CsvResponse(PlainTextResponse):
    media_type = "text/csv"


@router.get("/figures.csv", response_class=CsvResponse)
def figures_csv(services: ServicesDep, staff: ApiStaff) -> CsvResponse:
    """The per-desk figures as CSV."""
    with services.db.read() as session:
        rows = desk_figures(session, visible_desks(session, staff), utcnow())
    return CsvResponse(figures_to_csv(rows))


def figures_to_csv(rows: list[DeskFigures]) -> str:
    """CSV text of desk figures, one desk per line."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(FIGURE_COLUMNS)
    for row in rows:
        values = row.model_dump()
        writer.writerow(["" if values[c] is None else values[c] for c in FIGURE_COLUMNS])
    return out.getvalue()
