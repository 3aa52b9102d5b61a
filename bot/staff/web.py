"""The staff dashboard under `/staff/`: server-rendered pages in Spanish and English.

Login by name and password (behind the login throttle) sets a signed session cookie and
marks the browser as a trusted device; logout ends every session of that person. Every form
carries the session's CSRF token (a post without it gets 403). Pages: the desk queue
(auto-refreshing), a case with its actions, incidents, and per-desk figures with a CSV
export. Reporter text is only ever rendered through Jinja's autoescaping.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any, Final
from urllib.parse import urlencode

from fastapi import APIRouter, Form, HTTPException, Query, Request
from fastapi.responses import HTMLResponse, PlainTextResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates
from sqlmodel import Session, col, select

from bot import i18n
from bot.channels.twilio_voice.recordings import RecordingUnavailable, fetch_recording
from bot.clientaddr import client_address
from bot.models import Case, CaseEvent, Desk, Media, Staff, utcnow
from bot.outbox import channel_backlog
from bot.staff import actions
from bot.staff.access import (
    audit,
    hosts_of,
    is_supervisor,
    require_answers,
    require_desk,
    sees_all,
)
from bot.staff.api import figures_to_csv
from bot.staff.auth import check_login, end_sessions
from bot.staff.consultations import plain_answers, week_rows
from bot.staff.deps import (
    RowId,
    ServicesDep,
    StaffServices,
    http_errors,
    read_session,
    session_staff,
)
from bot.staff.queue import claim_next, queue_items, release
from bot.staff.schemas import CANNED, outcomes_for
from bot.staff.session import DEVICE_LIFETIME, StaffSession, csrf_ok
from bot.staff.views import (
    case_detail,
    case_media,
    desk_figures,
    incidents,
    shown_as,
    staff_names,
    visible_desks,
)

router = APIRouter(prefix="/staff", include_in_schema=False)
templates = Jinja2Templates(directory=Path(__file__).resolve().parent / "templates")
REFRESH_SECONDS: Final = 30
AUTO_REFRESH: Final = "auto"  # query flag of the queue's own refresh: not the person's activity
FLASHES: Final = frozenset(
    {
        "empty",
        "claimed",
        "replied",
        "noted",
        "transferred",
        "escalated",
        "resolved",
        "released",
        "verified",
        "error",
        # the consultation pages (bot.staff.consultations_web)
        "consultation_held",
        "consultation_no_show",
        "availability_added",
        "availability_removed",
        "day_closed",
        "slot_added",
        "slot_withdrawn",
        "slot_error",
    }
)
CsrfField = Annotated[str | None, Form()]


def _lang(request: Request, session: StaffSession | None) -> str:
    if session is not None:
        return actions.as_lang(session.lang)
    accept = request.headers.get("accept-language", "").lower()
    return "en" if accept.startswith("en") else "es"


def _translator(lang: str) -> Callable[..., str]:
    code = actions.as_lang(lang)

    def tr(key: str, **values: object) -> str:
        return i18n.t(key, code, **values)

    return tr


def _minutes_left(due: datetime | None, now: datetime) -> int | None:
    return None if due is None else int((due - now).total_seconds() // 60)


def _when(value: datetime | None) -> str:
    return "" if value is None else value.strftime("%Y-%m-%d %H:%M UTC")


def _page(
    request: Request,
    services: StaffServices,
    name: str,
    session: StaffSession,
    staff: Staff | None,
    status_code: int = 200,
    **context: Any,
) -> Response:
    """Render a template with the language, translator, CSRF token and helpers."""
    lang = _lang(request, session)
    flash = request.query_params.get("m")
    if context.get("refresh"):
        kept = [
            (k, v) for k, v in request.query_params.multi_items() if k not in ("m", AUTO_REFRESH)
        ]
        context["refresh_url"] = f"{request.url.path}?{urlencode([*kept, (AUTO_REFRESH, '1')])}"
    response = templates.TemplateResponse(
        request,
        name,
        {
            "lang": lang,
            "tr": _translator(lang),
            "csrf": session.csrf,
            "staff": staff,
            "now": utcnow(),
            "minutes_left": _minutes_left,
            "when": _when,
            "flash": flash if flash in FLASHES else None,
            **context,
        },
        status_code=status_code,
    )
    _store(response, services, session)
    return response


def _store(response: Response, services: StaffServices, session: StaffSession) -> None:
    cookies = services.cookies
    response.set_cookie(
        cookies.session_name,
        services.signer.dump(session),
        max_age=int(services.limits.absolute.total_seconds()),
        path=cookies.path,
        httponly=True,
        samesite="lax",
        secure=cookies.secure,
    )


def _mark_device(response: Response, services: StaffServices, staff_id: int) -> None:
    """Mark the browser as one this staff member logs in from (see `bot.staff.throttle`)."""
    cookies = services.cookies
    response.set_cookie(
        cookies.device_name,
        services.signer.new_device(staff_id, utcnow()),
        max_age=int(DEVICE_LIFETIME.total_seconds()),
        path=cookies.path,
        httponly=True,
        samesite="lax",
        secure=cookies.secure,
    )


def _signed_in(request: Request, services: StaffServices) -> tuple[StaffSession, Staff]:
    """The session (marked active now, unless this is the queue's auto-refresh) and staff
    member, or a redirect to the login page."""
    session = read_session(request, services)
    staff = session_staff(services, session)
    if session is None or staff is None:
        raise HTTPException(status_code=303, headers={"Location": "/staff/login"})
    if request.query_params.get(AUTO_REFRESH) != "1":
        session = session.touched(utcnow())
    return session, staff


def _posted(
    request: Request, services: StaffServices, csrf: str | None
) -> tuple[StaffSession, Staff]:
    """Like `_signed_in`, and refuse (403) a form without the session's CSRF token."""
    session, staff = _signed_in(request, services)
    if not csrf_ok(session, csrf):
        raise HTTPException(status_code=403, detail="missing or wrong CSRF token")
    return session, staff


def _back(url: str, flash: str | None = None) -> RedirectResponse:
    target = f"{url}{'&' if '?' in url else '?'}m={flash}" if flash else url
    return RedirectResponse(target, status_code=303)


@router.get("/login")
def login_page(request: Request, services: ServicesDep) -> Response:
    """The login form (it starts an anonymous session holding the form's CSRF token)."""
    session = read_session(request, services)
    if session is None:
        session = services.signer.new(None, _lang(request, None), utcnow())
    return _page(request, services, "login.html", session, None, error=None)


@router.post("/login")
def login(
    request: Request,
    services: ServicesDep,
    name: Annotated[str, Form()] = "",
    password: Annotated[str, Form()] = "",
    csrf: CsrfField = None,
) -> Response:
    """Check the password behind the login throttle (429 while it refuses) and start a
    session; the browser is marked as one this person logs in from."""
    session = read_session(request, services)
    if session is None or not csrf_ok(session, csrf):
        raise HTTPException(status_code=403, detail="missing or wrong CSRF token")
    now = utcnow()
    device = request.cookies.get(services.cookies.device_name)
    result = check_login(
        services.db,
        name,
        password,
        now,
        address=client_address(request, services.settings),
        device=services.signer.load_device(device, now),
    )
    staff = result.staff
    if staff is None or staff.id is None:
        throttled = result.retry_after > 0
        response = _page(
            request,
            services,
            "login.html",
            session,
            None,
            status_code=429 if throttled else 401,
            error="staff.login.throttled" if throttled else "staff.login.failed",
        )
        if throttled:
            response.headers["Retry-After"] = str(result.retry_after)
        return response
    response = _back("/staff/")
    _store(
        response, services, services.signer.new(staff.id, session.lang, now, staff.session_epoch)
    )
    _mark_device(response, services, staff.id)
    return response


@router.post("/logout")
def logout(request: Request, services: ServicesDep, csrf: CsrfField = None) -> Response:
    """End every session of this person (the cookie is refused from now on, wherever it is)."""
    _, staff = _posted(request, services, csrf)
    assert staff.id is not None
    with services.db.write() as db_session:
        end_sessions(db_session, staff.id)
        audit(db_session, staff, "logout", utcnow(), desk_id=staff.desk_id)
    cookies = services.cookies
    response = _back("/staff/login")
    response.delete_cookie(
        cookies.session_name, path=cookies.path, secure=cookies.secure, httponly=True
    )
    return response


@router.post("/lang")
def set_lang(
    request: Request,
    services: ServicesDep,
    lang: Annotated[str, Form()] = "es",
    back: Annotated[str, Form()] = "/staff/",
    csrf: CsrfField = None,
) -> Response:
    """Switch the dashboard's language."""
    session = read_session(request, services)
    if session is None or not csrf_ok(session, csrf):
        raise HTTPException(status_code=403, detail="missing or wrong CSRF token")
    response = _back(back if back.startswith("/staff/") else "/staff/")
    _store(response, services, session.with_lang(actions.as_lang(lang)))
    return response


@router.get("/", response_class=HTMLResponse)
def queue_page(
    request: Request, services: ServicesDep, desk: str | None = Query(default=None)
) -> Response:
    """The desk's queue, most urgent first, refreshing itself."""
    session, staff = _signed_in(request, services)
    wanted = desk or staff.desk_id
    with http_errors():
        require_desk(staff, wanted)
    with services.db.read() as db_session:
        now = utcnow()
        items = queue_items(db_session, wanted, now=now)
        names = staff_names(db_session, (i.claimed_by for i in items))
        desks = visible_desks(db_session, staff)
        figures = desk_figures(db_session, [wanted], now)[0]
        backlog = channel_backlog(db_session)  # in a surge: what waits, per channel
    return _page(
        request,
        services,
        "queue.html",
        session,
        staff,
        items=items,
        names=names,
        desk=wanted,
        desks=desks,
        figures=figures,
        backlog=backlog,
        refresh=REFRESH_SECONDS,
    )


@router.post("/claim")
def claim(
    request: Request,
    services: ServicesDep,
    desk: Annotated[str, Form()] = "",
    csrf: CsrfField = None,
) -> Response:
    """Claim the next case of the desk and open it."""
    _, staff = _posted(request, services, csrf)
    wanted = desk or staff.desk_id
    with http_errors():
        case = claim_next(services.db, staff, wanted, utcnow())
    if case is None:
        return _back(f"/staff/?desk={wanted}", "empty")
    return _back(f"/staff/cases/{case.ref}", "claimed")


@router.get("/cases/{ref}", response_class=HTMLResponse)
def case_page(request: Request, services: ServicesDep, ref: str) -> Response:
    """A case in full, with its action forms."""
    session, staff = _signed_in(request, services)
    now = utcnow()
    with http_errors(), services.db.write() as db_session:
        case = actions.case_for(db_session, staff, ref, lock=False)
        detail = case_detail(db_session, staff, case, now)
        media = [] if detail.restricted else case_media(db_session, case)
        names = staff_names(db_session, [detail.claimed_by])
        desks = list(
            db_session.exec(
                select(Desk.id).where(col(Desk.active).is_(True)).order_by(col(Desk.id))
            ).all()
        )
    return _page(
        request,
        services,
        "case.html",
        session,
        staff,
        case=detail,
        media=media,
        names=names,
        desks=desks,
        outcomes=outcomes_for(detail.flow),
        screening=plain_answers(detail.answers, _lang(request, session))
        if detail.flow == "screening"
        else [],
        canned=CANNED,
        supervisor=is_supervisor(staff),
    )


@router.get("/cases/{ref}/recordings/{sid}.mp3")
def case_recording(request: Request, services: ServicesDep, ref: str, sid: str) -> Response:
    """A voicemail left on the case, played through the service (never a Twilio link)."""
    _session, staff = _signed_in(request, services)
    with http_errors(), services.db.write() as db_session:
        case = actions.case_for(db_session, staff, ref, lock=False)
        require_answers(staff, case, hosts_of(db_session, case))
        left = db_session.exec(
            select(CaseEvent).where(CaseEvent.case_id == case.id, CaseEvent.kind == "voicemail")
        ).all()
        if not any((e.data or {}).get("recording") == sid for e in left):
            raise HTTPException(status_code=404)
        audit(db_session, staff, "listen", utcnow(), case=case)
    try:
        audio = fetch_recording(services.settings, sid)
    except RecordingUnavailable:
        return PlainTextResponse("recording unavailable", status_code=502)
    return Response(audio, media_type="audio/mpeg", headers={"Cache-Control": "no-store"})


@router.get("/cases/{ref}/media/{media_id}")
def case_media_file(request: Request, services: ServicesDep, ref: str, media_id: int) -> Response:
    """A photo or voice note the person sent, from the service's encrypted store."""
    _session, staff = _signed_in(request, services)
    with http_errors(), services.db.write() as db_session:
        case = actions.case_for(db_session, staff, ref, lock=False)
        require_answers(staff, case, hosts_of(db_session, case))
        if media_id not in {m.id for m in case_media(db_session, case)}:
            raise HTTPException(status_code=404)
        media = db_session.get(Media, media_id)
        if media is None or media.data is None:
            raise HTTPException(status_code=404)
        audit(db_session, staff, "view_media", utcnow(), case=case)
        data, kind = media.data, media.content_type
    inline = shown_as(kind) is not None
    return Response(
        data,
        media_type=kind if inline else "application/octet-stream",
        headers={
            "Cache-Control": "no-store",
            "X-Content-Type-Options": "nosniff",
            "Content-Disposition": "inline" if inline else "attachment",
            "Content-Security-Policy": "sandbox; default-src 'none'",
        },
    )


@router.post("/cases/{ref}/{action}")
def case_action(
    request: Request,
    services: ServicesDep,
    ref: str,
    action: str,
    csrf: CsrfField = None,
    text: Annotated[str, Form()] = "",
    canned: Annotated[str, Form()] = "",
    desk: Annotated[str, Form()] = "",
    reason: Annotated[str, Form()] = "",
    outcome: Annotated[str, Form()] = "",
) -> Response:
    """Carry out one action on the case from its page's forms."""
    _, staff = _posted(request, services, csrf)
    now = utcnow()
    try:
        with http_errors(), services.db.write() as db_session:
            case = actions.case_for(db_session, staff, ref)
            page, flash = _act(
                db_session,
                staff,
                case,
                action,
                now,
                text=text,
                canned=canned,
                desk=desk,
                reason=reason,
                outcome=outcome,
            )
    except HTTPException as exc:
        if exc.status_code not in (409, 422):
            raise
        return _back(f"/staff/cases/{ref}", "error")
    return _back(page, flash)


def _act(
    db_session: Session,
    staff: Staff,
    case: Case,
    action: str,
    now: datetime,
    *,
    text: str,
    canned: str,
    desk: str,
    reason: str,
    outcome: str,
) -> tuple[str, str]:
    """Apply one case-page action; return where to go next and the flash code."""
    page = f"/staff/cases/{case.ref}"
    if action == "note":
        actions.add_note(db_session, staff, case, text, now)
        flash = "noted"
    elif action == "reply":
        actions.reply(db_session, staff, case, now, text=text or None, canned=canned or None)
        flash = "replied"
    elif action == "transfer":
        actions.transfer(db_session, staff, case, desk, reason, now)
        page, flash = "/staff/", "transferred"
    elif action == "escalate":
        actions.escalate(db_session, staff, case, reason, now)
        flash = "escalated"
    elif action == "resolve":
        actions.resolve(db_session, staff, case, outcome, text, now)
        page, flash = "/staff/", "resolved"
    elif action == "release":
        release(db_session, staff, case, now)
        page, flash = "/staff/", "released"
    else:
        raise HTTPException(status_code=404, detail="unknown action")
    return page, flash


@router.get("/incidents", response_class=HTMLResponse)
def incidents_page(request: Request, services: ServicesDep) -> Response:
    """Recent incidents: grouped raid reports and their verification state."""
    session, staff = _signed_in(request, services)
    with services.db.read() as db_session:
        rows = incidents(db_session, staff, None if sees_all(staff) else staff.desk_id, utcnow())
    return _page(request, services, "incidents.html", session, staff, incidents=rows)


@router.post("/incidents/{incident_id}/verify")
def verify(
    request: Request,
    services: ServicesDep,
    incident_id: RowId,
    csrf: CsrfField = None,
    state: Annotated[str, Form()] = "",
    note: Annotated[str, Form()] = "",
) -> Response:
    """Record staff's verdict on an incident."""
    _, staff = _posted(request, services, csrf)
    with http_errors(), services.db.write() as db_session:
        actions.verify_incident(db_session, staff, incident_id, state, note, utcnow())
    return _back("/staff/incidents", "verified")


@router.get("/figures", response_class=HTMLResponse)
def figures_page(request: Request, services: ServicesDep) -> Response:
    """Per-desk figures: open, claimed, breached and the median time to first response."""
    session, staff = _signed_in(request, services)
    with services.db.read() as db_session:
        desks = visible_desks(db_session, staff)
        rows = desk_figures(db_session, desks, utcnow())
        weeks = week_rows(db_session, desks, utcnow())
    return _page(request, services, "figures.html", session, staff, rows=rows, weeks=weeks)


@router.get("/figures.csv")
def figures_csv(request: Request, services: ServicesDep) -> Response:
    """The per-desk figures as a CSV download."""
    _, staff = _signed_in(request, services)
    with services.db.read() as db_session:
        rows = desk_figures(db_session, visible_desks(db_session, staff), utcnow())
    return PlainTextResponse(
        figures_to_csv(rows),
        media_type="text/csv",
        headers={"Content-Disposition": 'attachment; filename="hotline-figures.csv"'},
    )
