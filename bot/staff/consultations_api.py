"""The staff API for legal-aid consultations, under `/api/v1/consultations` (bearer tokens,
the same desk walls as the rest of `/api/v1`): a desk's day, held and no-show, and — for the
desk's supervisors and admins — availability, closed days and single slots. The weekly
figures sit beside the other figures (`/api/v1/figures/consultations`, and `.csv`).
"""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Query, Response

from bot import appointments
from bot.models import utcnow
from bot.staff import consultations as cons
from bot.staff.access import require_desk
from bot.staff.api import ERRORS, CsvResponse, Problem
from bot.staff.deps import ApiStaff, RowId, ServicesDep, http_errors
from bot.staff.views import visible_desks

router = APIRouter(prefix="/api/v1", tags=["consultations"], responses=ERRORS)
REFUSED: dict[int | str, dict[str, object]] = {
    409: {
        "model": Problem,
        "description": "The desk's calendar refuses it: a time that has passed or is more "
        "than a year ahead, hours that end before they start, a booked slot.",
    }
}


@router.get("/consultations")
def day(
    services: ServicesDep,
    staff: ApiStaff,
    desk: str | None = Query(default=None),
    day: Annotated[date | None, Query(description="The desk's local day; today.")] = None,
) -> cons.ConsultationDay:
    """The desk's consultation slots on one local day, with the bookings; a screening's
    answers only for the desk's legal-aid staff, supervisors and admins (`restricted`
    otherwise)."""
    with http_errors(), services.db.write() as session:
        return cons.day_view(session, staff, desk or staff.desk_id, day, utcnow())


@router.post("/consultations/{appointment_id}/mark")
def mark(
    services: ServicesDep, staff: ApiStaff, appointment_id: RowId, body: cons.MarkRequest
) -> cons.MarkResult:
    """Mark a consultation held or a no-show (409 before its day, or when cancelled)."""
    with http_errors(), services.db.write() as session:
        return cons.mark(session, staff, appointment_id, body.status, utcnow())


@router.get("/consultations/availability")
def availability(
    services: ServicesDep, staff: ApiStaff, desk: str | None = Query(default=None)
) -> cons.Availability:
    """The desk's weekly availability and closed days ahead."""
    with http_errors(), services.db.read() as session:
        return cons.availability(session, staff, desk or staff.desk_id, utcnow())


@router.post("/consultations/availability", responses=REFUSED)
def add_availability(
    services: ServicesDep, staff: ApiStaff, body: cons.PatternRequest
) -> cons.PatternOut:
    """Supervisors: add weekly availability (its slots are published at once)."""
    now = utcnow()
    with http_errors(), services.db.write() as session:
        pattern = cons.add_pattern(session, staff, body.desk or staff.desk_id, body, now)
    appointments.publish_slots(services.db, now=now)
    return pattern


@router.post("/consultations/availability/{pattern_id}/remove", status_code=204, responses=REFUSED)
def remove_availability(services: ServicesDep, staff: ApiStaff, pattern_id: RowId) -> Response:
    """Supervisors: stop a weekly availability (slots already published stay)."""
    with http_errors(), services.db.write() as session:
        cons.remove_pattern(session, staff, pattern_id, utcnow())
    return Response(status_code=204)


@router.post("/consultations/closures", responses=REFUSED)
def close_day(services: ServicesDep, staff: ApiStaff, body: cons.ClosureRequest) -> cons.ClosureOut:
    """Supervisors: no consultations that local day; its free slots are withdrawn, booked
    ones stay (call those people)."""
    desk = body.desk or staff.desk_id
    with http_errors(), services.db.write() as session:
        withdrawn = cons.close_day(session, staff, desk, body.day, utcnow())
    return cons.ClosureOut(desk=desk, day=body.day, withdrawn=withdrawn)


@router.post("/consultations/slots", responses=REFUSED)
def add_slot(services: ServicesDep, staff: ApiStaff, body: cons.SlotRequest) -> cons.SlotOut:
    """Supervisors: one slot at a local time (422 when it has passed)."""
    with http_errors(), services.db.write() as session:
        return cons.add_slot(
            session, staff, body.desk or staff.desk_id, body.at, body.minutes, utcnow()
        )


@router.post("/consultations/slots/{slot_id}/withdraw", status_code=204, responses=REFUSED)
def withdraw_slot(services: ServicesDep, staff: ApiStaff, slot_id: RowId) -> Response:
    """Supervisors: withdraw a free slot (409 when booked)."""
    with http_errors(), services.db.write() as session:
        cons.withdraw_slot(session, staff, slot_id, utcnow())
    return Response(status_code=204)


@router.get("/figures/consultations")
def figures(
    services: ServicesDep, staff: ApiStaff, desk: str | None = Query(default=None)
) -> list[cons.WeekFigures]:
    """Consultations booked, held, no-shows and cancelled, per desk per week."""
    with http_errors():
        if desk is not None:
            require_desk(staff, desk)
    with services.db.read() as session:
        desks = [desk] if desk else visible_desks(session, staff)
        return cons.week_rows(session, desks, utcnow())


@router.get("/figures/consultations.csv", response_class=CsvResponse)
def figures_csv(services: ServicesDep, staff: ApiStaff) -> CsvResponse:
    """The weekly consultation figures as CSV."""
    with services.db.read() as session:
        rows = cons.week_rows(session, visible_desks(session, staff), utcnow())
    return CsvResponse(cons.figures_csv(rows))
