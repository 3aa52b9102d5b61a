"""The dashboard's consultation pages under `/staff/consultations`: a desk's local day (each
slot, free or booked, the case, the screening answers in plain words for those who may read
them, held / no-show), and the desk's availability for its supervisors (weekly hours, closed
days, single slots). Every form carries the session's CSRF token, as on the other pages.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime, time, timedelta
from typing import Annotated, Final
from urllib.parse import urlencode

from fastapi import APIRouter, Form, HTTPException, Query, Request
from fastapi.responses import HTMLResponse, PlainTextResponse, Response
from sqlmodel import Session

from bot import appointments
from bot.models import utcnow
from bot.staff import consultations as cons
from bot.staff.access import may_manage_slots, require_slots
from bot.staff.deps import RowId, ServicesDep, StaffServices, http_errors
from bot.staff.views import visible_desks
from bot.staff.web import CsrfField, _back, _lang, _page, _posted, _signed_in

router = APIRouter(prefix="/staff", include_in_schema=False)
REFUSED: Final = (409, 422)  # shown as "slot_error" on the page instead of an error page


def _day_url(desk: str, day: date | None = None, flash: str | None = None) -> str:
    query = [("desk", desk), *([("day", day.isoformat())] if day else [])]
    return f"/staff/consultations?{urlencode(query)}" + (f"&m={flash}" if flash else "")


@router.get("/consultations", response_class=HTMLResponse)
def day_page(
    request: Request,
    services: ServicesDep,
    desk: str | None = Query(default=None),
    day: Annotated[date | None, Query()] = None,
) -> Response:
    """The desk's consultations on one local day, with yesterday and tomorrow a click away."""
    session, staff = _signed_in(request, services)
    wanted = desk or staff.desk_id
    now = utcnow()
    with http_errors(), services.db.write() as db_session:
        view = cons.day_view(db_session, staff, wanted, day, now)
        desks = visible_desks(db_session, staff)
        come = view.day <= cons.today(db_session, wanted, now)  # held / no-show from then on
    lang = _lang(request, session)
    return _page(
        request,
        services,
        "consultations.html",
        session,
        staff,
        view=view,
        desks=desks,
        lines={c.slot_id: cons.plain_answers(c.answers, lang) for c in view.consultations},
        previous=_day_url(wanted, view.day - timedelta(days=1)),
        following=_day_url(wanted, view.day + timedelta(days=1)),
        manage=may_manage_slots(staff, wanted),
        states=cons.STATES,
        marking=come,
    )


@router.post("/consultations/appointments/{appointment_id}")
def mark(
    request: Request,
    services: ServicesDep,
    appointment_id: RowId,
    csrf: CsrfField = None,
    status: Annotated[str, Form()] = "",
    desk: Annotated[str, Form()] = "",
    day: Annotated[date | None, Form()] = None,
) -> Response:
    """Mark a consultation held or a no-show, back to the same day."""
    _, staff = _posted(request, services, csrf)
    if status not in ("held", "no_show"):
        raise HTTPException(status_code=422, detail="held or no_show")
    back = desk or staff.desk_id
    outcome: cons.Mark = "held" if status == "held" else "no_show"
    return _refusable(
        services,
        lambda s: cons.mark(s, staff, appointment_id, outcome, utcnow()),
        _day_url(back, day, f"consultation_{outcome}"),
        _day_url(back, day, "slot_error"),
    )


@router.get("/consultations/availability", response_class=HTMLResponse)
def availability_page(
    request: Request, services: ServicesDep, desk: str | None = Query(default=None)
) -> Response:
    """The desk's weekly availability, closed days and the forms to change them
    (supervisors of the desk and admins)."""
    session, staff = _signed_in(request, services)
    wanted = desk or staff.desk_id
    now = utcnow()
    with http_errors(), services.db.read() as db_session:
        require_slots(staff, wanted)
        view = cons.availability(db_session, staff, wanted, now)
        today = cons.today(db_session, wanted, now)
    return _page(
        request,
        services,
        "availability.html",
        session,
        staff,
        view=view,
        today=today,
        weekdays=range(7),
    )


def _availability_url(desk: str, flash: str) -> str:
    return f"/staff/consultations/availability?{urlencode([('desk', desk), ('m', flash)])}"


@router.post("/consultations/availability")
def add_availability(
    request: Request,
    services: ServicesDep,
    csrf: CsrfField = None,
    desk: Annotated[str, Form()] = "",
    weekday: Annotated[int, Form()] = 0,
    start: Annotated[str, Form()] = "",
    end: Annotated[str, Form()] = "",
    minutes: Annotated[int, Form()] = 30,
) -> Response:
    """Add weekly availability and publish its slots for the weeks ahead."""
    _, staff = _posted(request, services, csrf)
    wanted = desk or staff.desk_id
    now = utcnow()
    try:
        body = cons.PatternRequest(weekday=weekday, start=start, end=end, minutes=minutes)
    except ValueError:
        return _back(_availability_url(wanted, "slot_error"))
    return _refusable(
        services,
        lambda s: cons.add_pattern(s, staff, wanted, body, now),
        _availability_url(wanted, "availability_added"),
        _availability_url(wanted, "slot_error"),
        publish=now,
    )


@router.post("/consultations/availability/{pattern_id}/remove")
def remove_availability(
    request: Request,
    services: ServicesDep,
    pattern_id: RowId,
    csrf: CsrfField = None,
    desk: Annotated[str, Form()] = "",
) -> Response:
    """Stop a weekly availability (its published slots stay)."""
    _, staff = _posted(request, services, csrf)
    wanted = desk or staff.desk_id
    return _refusable(
        services,
        lambda s: cons.remove_pattern(s, staff, pattern_id, utcnow()),
        _availability_url(wanted, "availability_removed"),
        _availability_url(wanted, "slot_error"),
    )


@router.post("/consultations/closures")
def close_day(
    request: Request,
    services: ServicesDep,
    csrf: CsrfField = None,
    desk: Annotated[str, Form()] = "",
    day: Annotated[date | None, Form()] = None,
) -> Response:
    """Close a local day: its free slots are withdrawn, booked ones stay."""
    _, staff = _posted(request, services, csrf)
    wanted = desk or staff.desk_id
    if day is None:
        return _back(_availability_url(wanted, "slot_error"))
    return _refusable(
        services,
        lambda s: cons.close_day(s, staff, wanted, day, utcnow()),
        _availability_url(wanted, "day_closed"),
        _availability_url(wanted, "slot_error"),
    )


@router.post("/consultations/slots")
def add_slot(
    request: Request,
    services: ServicesDep,
    csrf: CsrfField = None,
    desk: Annotated[str, Form()] = "",
    day: Annotated[date | None, Form()] = None,
    at: Annotated[time | None, Form()] = None,
    minutes: Annotated[int, Form()] = 30,
) -> Response:
    """Add one slot on a local day and time, then show that day."""
    _, staff = _posted(request, services, csrf)
    wanted = desk or staff.desk_id
    if day is None or at is None:
        return _back(_availability_url(wanted, "slot_error"))
    local = datetime.combine(day, at)
    return _refusable(
        services,
        lambda s: cons.add_slot(s, staff, wanted, local, minutes, utcnow()),
        _day_url(wanted, day, "slot_added"),
        _availability_url(wanted, "slot_error"),
    )


@router.post("/consultations/slots/{slot_id}/withdraw")
def withdraw_slot(
    request: Request,
    services: ServicesDep,
    slot_id: RowId,
    csrf: CsrfField = None,
    desk: Annotated[str, Form()] = "",
    day: Annotated[date | None, Form()] = None,
) -> Response:
    """Withdraw a free slot, back to its day."""
    _, staff = _posted(request, services, csrf)
    wanted = desk or staff.desk_id
    return _refusable(
        services,
        lambda s: cons.withdraw_slot(s, staff, slot_id, utcnow()),
        _day_url(wanted, day, "slot_withdrawn"),
        _day_url(wanted, day, "slot_error"),
    )


def _refusable(
    services: StaffServices,
    change: Callable[[Session], object],
    done: str,
    refused: str,
    *,
    publish: datetime | None = None,
) -> Response:
    """Apply one supervisor change in a transaction: 403 outside the desks the caller
    manages, back to the page with `slot_error` when the rules refuse it."""
    try:
        with http_errors(), services.db.write() as db_session:
            change(db_session)
    except HTTPException as exc:
        if exc.status_code not in REFUSED:
            raise
        return _back(refused)
    if publish is not None:
        appointments.publish_slots(services.db, now=publish)
    return _back(done)


@router.get("/figures/consultations.csv")
def figures_csv(request: Request, services: ServicesDep) -> Response:
    """Consultations per desk per week as a CSV download."""
    _, staff = _signed_in(request, services)
    with services.db.read() as db_session:
        rows = cons.week_rows(db_session, visible_desks(db_session, staff), utcnow())
    return PlainTextResponse(
        cons.figures_csv(rows),
        media_type="text/csv",
        headers={"Content-Disposition": 'attachment; filename="hotline-consultations.csv"'},
    )
