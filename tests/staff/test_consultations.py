"""Legal-aid consultations on the staff side, as the desk's people use them: the day's list
with the screening answers for legal-aid staff only, held and no-show, availability managed
by supervisors, resolving a screening with a consultation outcome, the weekly figures.
Real app (API and dashboard) on SQLite and PostgreSQL."""

from __future__ import annotations

import csv
import io
import itertools
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx
from sqlmodel import select

from bot import appointments
from bot.db import Database
from bot.models import Appointment, AppointmentStatus, CaseEvent, Slot, SlotPattern, utcnow
from bot.staff.commands import add_staff

from .support import (
    DESKS,
    PASSWORD,
    audits,
    bearer,
    client,
    csrf_from,
    get_case,
    log_in,
    make_app,
    new_case,
    new_contact,
    seed_desks,
)

_PHONES = itertools.count(1000)
ANSWERS: dict[str, Any] = {
    "years_in_us": "gt10",
    "removal_order": "yes",
    "arrest": "no",
    "court": "yes",
    "court_date": {"date": "2027-01-15", "raw": "el 15 de enero", "approx": False},
    "us_children": True,
    "status": None,
    "location": {"zip": "77036", "raw": "77036"},
    "wants_consultation": True,
    "notes": [{"step": "court_date", "text": "me llegó una carta de la corte"}],
    "flow": "screening",
    "lang": "es",
}


def staff(db: Database, name: str, desk: str, role: str = "agent", legal_aid: bool = False) -> str:
    """A staff member with a dashboard password; returns their API token."""
    _, token = add_staff(
        db, name=name, desk=desk, role=role, password=PASSWORD, legal_aid=legal_aid
    )
    return token


def screening(db: Database, desk: str = "houston") -> str:
    """A finished risk screening at the desk; returns its reference."""
    return new_case(
        db,
        desk=desk,
        flow="screening",
        intent="programs",
        answers=ANSWERS,
        summary="me llegó una carta de la corte",
        reasons=["legal consultation, earlier removal order → high"],
        contact_id=new_contact(db, address=f"+1713555{next(_PHONES):04d}"),
        lang="es",
    )


def local_day(desk: str, days: int) -> date:
    return (datetime.now(UTC).astimezone(ZoneInfo(DESKS[desk])) + timedelta(days=days)).date()


def book(db: Database, ref: str, desk: str = "houston", days: int = 2, hour: int = 10) -> int:
    """A slot at the desk at `hour` local on Houston's day `days` ahead, booked for the
    case; returns the appointment."""
    now = utcnow()
    with db.write() as session:
        local = datetime.combine(local_day("houston", days), time(hour))
        slot = appointments.add_slot(session, desk_id=desk, local=local, now=now)
        assert slot.id is not None
        booked = appointments.book(session, slot_id=slot.id, ref=ref, contact_id=None, now=now)
        assert booked is not None and booked.id is not None
        return booked.id


def begun(db: Database, appointment_id: int) -> None:
    """The consultation's day has come: it is today, just after midnight in Houston."""
    with db.write() as session:
        appointment = session.get(Appointment, appointment_id)
        assert appointment is not None
        slot = session.get(Slot, appointment.slot_id)
        assert slot is not None and slot.id is not None
        minute = time(0, slot.id % 59)  # one minute per slot: no two at the same time
        local = datetime.combine(local_day("houston", 0), minute, ZoneInfo(DESKS["houston"]))
        slot.starts_at = local.astimezone(UTC)


async def day_of(c: httpx.AsyncClient, token: str, desk: str, day: date) -> httpx.Response:
    return await c.get(
        "/api/v1/consultations",
        params={"desk": desk, "day": day.isoformat()},
        headers=bearer(token),
    )


async def test_the_days_answers_are_shown_only_to_the_desks_legal_aid_staff(
    database: Database, tmp_path: Path
) -> None:
    """Legal-aid staff and supervisors of the desk read the answers; an agent sees a booked
    slot whose answers are restricted; another desk is refused. Each reading is audited."""
    seed_desks(database)
    ref = screening(database)
    book(database, ref)
    day = local_day("houston", 2)
    lucia = staff(database, "Lucía", "houston", legal_aid=True)
    pedro = staff(database, "Pedro", "houston")
    sara = staff(database, "Sara", "houston", role="supervisor")
    ana = staff(database, "Ana", "los-angeles", legal_aid=True)
    async with client(make_app(database, tmp_path)) as c:
        shown = (await day_of(c, lucia, "houston", day)).json()
        hidden = (await day_of(c, pedro, "houston", day)).json()
        supervised = (await day_of(c, sara, "houston", day)).json()
        refused = await day_of(c, ana, "houston", day)
        case_for_pedro = (await c.get(f"/api/v1/cases/{ref}", headers=bearer(pedro))).json()
        case_for_lucia = (await c.get(f"/api/v1/cases/{ref}", headers=bearer(lucia))).json()
    [entry] = shown["consultations"]
    assert (shown["desk"], shown["day"], shown["timezone"]) == (
        "houston",
        day.isoformat(),
        "America/Chicago",
    )
    assert (entry["state"], entry["ref"], entry["at"][11:16]) == ("booked", ref, "10:00")
    assert entry["answers"] == ANSWERS and entry["restricted"] is False and entry["may_open"]
    assert supervised["consultations"][0]["answers"] == ANSWERS
    [other] = hidden["consultations"]
    assert (other["ref"], other["answers"], other["restricted"]) == (ref, None, True)
    assert refused.status_code == 403
    # The case itself: the answers, the words, the reasons and the transcript stay hidden.
    assert case_for_pedro["restricted"] is True
    assert (case_for_pedro["answers"], case_for_pedro["summary"]) == (None, None)
    assert case_for_pedro["reasons"] == [] and case_for_pedro["transcript"] == []
    assert all(e["data"] is None for e in case_for_pedro["events"])
    assert case_for_lucia["answers"] == ANSWERS and case_for_lucia["restricted"] is False
    viewed = [(e.action, (e.detail or {}).get("via")) for e in audits(database, "view")]
    assert viewed.count(("view", "consultations")) == 2  # Lucía and Sara read the day


async def test_central_legal_aid_staff_hold_the_remote_consultations_of_other_desks(
    database: Database, tmp_path: Path
) -> None:
    """A Houston person booked one of central's remote slots: central's legal-aid agent sees
    the answers and opens the case; a central agent without legal aid does neither."""
    seed_desks(database)
    ref = screening(database, desk="houston")
    book(database, ref, desk="central")
    day = local_day("houston", 2)
    marta = staff(database, "Marta", "central", legal_aid=True)
    jose = staff(database, "José", "central")
    async with client(make_app(database, tmp_path)) as c:
        [held_by] = (await day_of(c, marta, "central", day)).json()["consultations"]
        [seen_by] = (await day_of(c, jose, "central", day)).json()["consultations"]
        opened = await c.get(f"/api/v1/cases/{ref}", headers=bearer(marta))
        refused = await c.get(f"/api/v1/cases/{ref}", headers=bearer(jose))
    assert held_by["answers"] == ANSWERS and held_by["may_open"] and held_by["remote"]
    assert held_by["case_desk"] == "houston"
    assert (seen_by["answers"], seen_by["restricted"], seen_by["may_open"]) == (None, True, False)
    assert opened.status_code == 200 and opened.json()["answers"] == ANSWERS
    assert refused.status_code == 403


async def test_staff_mark_a_consultation_held_or_a_no_show_once_its_day_has_come(
    database: Database, tmp_path: Path
) -> None:
    """Not before the day (409); then any staff member of the desk marks it; the case's
    history says so; another desk is refused; a cancelled one cannot be marked."""
    seed_desks(database)
    ref = screening(database)
    appointment = book(database, ref)
    later = book(database, screening(database), hour=11)
    pedro = staff(database, "Pedro", "houston")
    ana = staff(database, "Ana", "los-angeles", role="supervisor")
    async with client(make_app(database, tmp_path)) as c:

        async def mark(token: str, appointment_id: int, status: str) -> httpx.Response:
            return await c.post(
                f"/api/v1/consultations/{appointment_id}/mark",
                json={"status": status},
                headers=bearer(token),
            )

        early = await mark(pedro, appointment, "held")
        begun(database, appointment)
        held = await mark(pedro, appointment, "held")
        other_desk = await mark(ana, appointment, "no_show")
        begun(database, later)
        missed = await mark(pedro, later, "no_show")
        unknown = await mark(pedro, 999_999, "held")
        wrong = await mark(pedro, appointment, "cancelled")
    assert early.status_code == 409
    assert held.status_code == 200 and held.json() == {
        "appointment_id": appointment,
        "status": "held",
        "ref": ref,
    }
    assert other_desk.status_code == 403
    assert missed.status_code == 200
    assert (unknown.status_code, wrong.status_code) == (404, 422)
    with database.read() as session:
        statuses = {a.id: a.status for a in session.exec(select(Appointment)).all()}
        kinds = session.exec(
            select(CaseEvent.kind).where(CaseEvent.case_id == get_case(database, ref).id)
        ).all()
    assert statuses == {appointment: AppointmentStatus.held, later: AppointmentStatus.no_show}
    assert "appointment_held" in kinds
    assert [e.action for e in audits(database) if e.action.startswith("consultation_")] == [
        "consultation_held",
        "consultation_no_show",
    ]
    with database.write() as session:
        found = session.get(Appointment, later)
        assert found is not None
        appointments.cancel(session, found, actor="person", now=utcnow())
    async with client(make_app(database, tmp_path)) as c:
        cancelled = await c.post(
            f"/api/v1/consultations/{later}/mark", json={"status": "held"}, headers=bearer(pedro)
        )
    assert cancelled.status_code == 409


async def test_the_desks_supervisors_manage_availability_agents_cannot(
    database: Database, tmp_path: Path
) -> None:
    """Weekly hours (published at once), a closed day (free slots withdrawn, booked kept), a
    single slot, a withdrawn slot: supervisors of the desk and admins; agents get 403."""
    seed_desks(database)
    pedro = staff(database, "Pedro", "houston", legal_aid=True)
    sara = staff(database, "Sara", "houston", role="supervisor")
    luis = staff(database, "Luis", "los-angeles", role="supervisor")
    root = staff(database, "Root", "los-angeles", role="admin")
    weekday = local_day("houston", 3).weekday()
    hours = {"desk": "houston", "weekday": weekday, "start": "09:00", "end": "11:00"}
    async with client(make_app(database, tmp_path)) as c:

        async def post(token: str, path: str, body: dict[str, Any] | None = None) -> Any:
            return await c.post(f"/api/v1/consultations{path}", json=body, headers=bearer(token))

        assert (await post(pedro, "/availability", hours)).status_code == 403
        assert (await post(luis, "/availability", hours)).status_code == 403
        added = await post(sara, "/availability", hours)
        assert added.status_code == 200
        assert (
            await post(root, "/availability", {**hours, "start": "15:00", "end": "16:00"})
        ).status_code == 200
        listed = (await c.get("/api/v1/consultations/availability", headers=bearer(pedro))).json()
        assert [(p["start"], p["end"], p["minutes"]) for p in listed["patterns"]] == [
            ("09:00", "11:00", 30),
            ("15:00", "16:00", 30),
        ]
        day = local_day("houston", 3)
        slots = (await day_of(c, pedro, "houston", day)).json()["consultations"]
        assert [s["at"][11:16] for s in slots] == [
            "09:00",
            "09:30",
            "10:00",
            "10:30",
            "15:00",
            "15:30",
        ]
        assert {s["state"] for s in slots} == {"free"}
        # One of them is booked, then the day is closed: the booked one stays.
        ref = screening(database)
        with database.write() as session:
            appointments.book(
                session, slot_id=slots[1]["slot_id"], ref=ref, contact_id=None, now=utcnow()
            )
        assert (await post(pedro, "/closures", {"day": day.isoformat()})).status_code == 403
        closed = await post(sara, "/closures", {"day": day.isoformat()})
        assert closed.json() == {"desk": "houston", "day": day.isoformat(), "withdrawn": 5}
        after = (await day_of(c, pedro, "houston", day)).json()
        assert after["closed"] is True
        assert [s["state"] for s in after["consultations"]] == ["withdrawn", "booked"] + [
            "withdrawn"
        ] * 4
        # A single slot, then withdrawn; a booked one cannot be; a past one is refused.
        at = f"{local_day('houston', 4).isoformat()}T12:15"
        assert (await post(pedro, "/slots", {"at": at})).status_code == 403
        single = await post(sara, "/slots", {"at": at, "minutes": 45})
        assert single.status_code == 200 and single.json()["minutes"] == 45
        assert single.json()["at"].startswith(at)
        slot_id = single.json()["id"]
        assert (await post(pedro, f"/slots/{slot_id}/withdraw")).status_code == 403
        assert (await post(sara, f"/slots/{slot_id}/withdraw")).status_code == 204
        booked = slots[1]["slot_id"]
        assert (await post(sara, f"/slots/{booked}/withdraw")).status_code == 409
        past = f"{local_day('houston', -1).isoformat()}T12:00"
        assert (await post(sara, "/slots", {"at": past})).status_code == 409
        pattern_id = added.json()["id"]
        assert (await post(pedro, f"/availability/{pattern_id}/remove")).status_code == 403
        assert (await post(sara, f"/availability/{pattern_id}/remove")).status_code == 204
    with database.read() as session:
        left = session.exec(select(SlotPattern.start)).all()
        free_ahead = appointments.list_slots(session, desk_id="houston", now=utcnow())
    assert left == ["15:00"]
    assert all(not s["at"].startswith(day.isoformat()) or s["booked"] for s in free_ahead)
    actions = [e.action for e in audits(database)]
    assert actions.count("availability_add") == 2 and "day_close" in actions


async def test_a_screening_is_resolved_with_a_consultation_outcome(
    database: Database, tmp_path: Path
) -> None:
    """A screening ends advised, referred to a PALE lawyer or represented (not "helped");
    the case page offers exactly those, and the form resolves with one."""
    seed_desks(database)
    first, second = screening(database), screening(database)
    lucia = staff(database, "Lucía", "houston", legal_aid=True)
    async with client(make_app(database, tmp_path)) as c:
        refused = await c.post(
            f"/api/v1/cases/{first}/resolve", json={"outcome": "helped"}, headers=bearer(lucia)
        )
        resolved = await c.post(
            f"/api/v1/cases/{first}/resolve",
            json={"outcome": "referred", "note": "canalizada a la Lic. Ramos"},
            headers=bearer(lucia),
        )
        await log_in(c, "Lucía")
        page = await c.get(f"/staff/cases/{second}")
        options = page.text.split('name="outcome"')[1].split("</select>")[0]
        posted = await c.post(
            f"/staff/cases/{second}/resolve",
            data={"outcome": "represented", "text": "", "csrf": csrf_from(page.text)},
        )
        done = await c.get(f"/staff/cases/{second}")
    assert refused.status_code == 422
    assert resolved.status_code == 200 and resolved.json()["status"] == "resolved"
    assert get_case(database, first).outcome == "referred"
    assert 'value="advised"' in options and 'value="represented"' in options
    assert "canalizado a abogado PALE" in options and 'value="helped"' not in options
    assert posted.status_code == 303
    assert get_case(database, second).outcome == "represented"
    assert "representado por abogado PALE" in done.text


async def test_the_dashboard_day_shows_plain_answers_to_legal_aid_staff_only(
    database: Database, tmp_path: Path
) -> None:
    """The Consultations page: the slot, the case link and the answers in plain words for
    legal-aid staff; "restricted" for an agent; yesterday and tomorrow links; held by form."""
    seed_desks(database)
    ref = screening(database)
    appointment = book(database, ref)
    day = local_day("houston", 2)
    staff(database, "Lucía", "houston", legal_aid=True)
    staff(database, "Pedro", "houston")
    app = make_app(database, tmp_path)
    async with client(app) as c:
        await log_in(c, "Lucía")
        home = await c.get("/staff/")
        page = await c.get("/staff/consultations", params={"desk": "houston", "day": str(day)})
    assert 'href="/staff/consultations"' in home.text and "Consultas" in home.text
    assert page.status_code == 200
    assert f'href="/staff/cases/{ref}"' in page.text and "10:00" in page.text
    for words in ("Tiempo en EE. UU.", "Más de 10 años", "Deportación u orden de deportación"):
        assert words in page.text
    assert "2027-01-15" in page.text and "me llegó una carta de la corte" in page.text
    assert f"day={day - timedelta(days=1)}" in page.text
    assert f"day={day + timedelta(days=1)}" in page.text
    assert 'value="no_show"' not in page.text  # marked once the day has come
    assert "/availability" not in page.text  # agents do not manage the desk's slots
    async with client(app) as c:
        await log_in(c, "Pedro")
        other = await c.get("/staff/consultations", params={"desk": "houston", "day": str(day)})
        case_page = await c.get(f"/staff/cases/{ref}")
        early = await c.post(
            f"/staff/consultations/appointments/{appointment}",
            data={
                "status": "held",
                "desk": "houston",
                "day": str(day),
                "csrf": csrf_from(other.text),
            },
        )
        begun(database, appointment)
        today = await c.get("/staff/consultations")
        without_csrf = await c.post(
            f"/staff/consultations/appointments/{appointment}", data={"status": "held"}
        )
        held = await c.post(
            f"/staff/consultations/appointments/{appointment}",
            data={
                "status": "held",
                "desk": "houston",
                "day": str(day),
                "csrf": csrf_from(other.text),
            },
        )
    assert ref in other.text and "solo las ve el personal de asesoría legal" in other.text
    assert "Más de 10 años" not in other.text
    assert 'id="restricted"' in case_page.text and "Más de 10 años" not in case_page.text
    assert "me llegó una carta" not in case_page.text  # the words and transcript too
    assert early.headers["location"].endswith("m=slot_error")
    assert f"/staff/consultations/appointments/{appointment}" in today.text
    assert without_csrf.status_code == 403
    assert held.status_code == 303 and held.headers["location"].endswith("m=consultation_held")
    with database.read() as session:
        marked = session.get(Appointment, appointment)
        assert marked is not None and marked.status == AppointmentStatus.held


async def test_the_case_page_shows_a_screening_in_plain_words(
    database: Database, tmp_path: Path
) -> None:
    """Legal-aid staff read the screening on the case page as questions and answers."""
    seed_desks(database)
    ref = screening(database)
    staff(database, "Lucía", "houston", legal_aid=True)
    async with client(make_app(database, tmp_path)) as c:
        await log_in(c, "Lucía")
        page = await c.get(f"/staff/cases/{ref}")
    table = page.text.split('id="screening"')[1].split("</table>")[0]
    assert "<th>Deportación u orden de deportación</th><td>Sí</td>" in table
    assert "<th>Hijos nacidos en EE. UU.</th><td>Sí</td>" in table
    assert "<th>Permiso o trámite</th><td>Sin respuesta</td>" in table
    assert 'id="restricted"' not in page.text


async def test_dashboard_availability_is_for_the_desks_supervisors_with_csrf(
    database: Database, tmp_path: Path
) -> None:
    """An agent cannot open or post the availability forms (403); a supervisor's forms
    need the CSRF token, add weekly hours and a single slot, close a day, withdraw a slot."""
    seed_desks(database)
    staff(database, "Pedro", "houston", legal_aid=True)
    staff(database, "Sara", "houston", role="supervisor")
    day = local_day("houston", 5)
    app = make_app(database, tmp_path)
    async with client(app) as c:
        await log_in(c, "Pedro")
        home = await c.get("/staff/consultations")
        assert (await c.get("/staff/consultations/availability")).status_code == 403
        token = csrf_from(home.text)
        refused = await c.post(
            "/staff/consultations/availability",
            data={"csrf": token, "weekday": "1", "start": "09:00", "end": "10:00", "minutes": "30"},
        )
        assert refused.status_code == 403
    async with client(app) as c:
        await log_in(c, "Sara")
        page = await c.get("/staff/consultations/availability", params={"desk": "houston"})
        assert page.status_code == 200 and 'id="pattern-form"' in page.text
        token = csrf_from(page.text)
        hours = {"weekday": str(day.weekday()), "start": "09:00", "end": "10:00", "minutes": "30"}
        assert (await c.post("/staff/consultations/availability", data=hours)).status_code == 403
        added = await c.post(
            "/staff/consultations/availability", data={**hours, "desk": "houston", "csrf": token}
        )
        assert added.headers["location"].endswith("m=availability_added")
        single = await c.post(
            "/staff/consultations/slots",
            data={"desk": "houston", "day": str(day), "at": "16:30", "csrf": token},
        )
        assert single.headers["location"].endswith("m=slot_added")
        shown = await c.get(single.headers["location"])
        assert [t in shown.text for t in ("09:00", "09:30", "16:30")] == [True] * 3
        assert 'class="withdraw"' in shown.text and 'id="manage"' in shown.text
        with database.read() as session:
            late = appointments.day_list(session, desk_id="houston", day=day)[-1].slot
        withdrawn = await c.post(
            f"/staff/consultations/slots/{late.id}/withdraw",
            data={"desk": "houston", "day": str(day), "csrf": token},
        )
        assert withdrawn.headers["location"].endswith("m=slot_withdrawn")
        closed = await c.post(
            "/staff/consultations/closures",
            data={"desk": "houston", "day": str(day), "csrf": token},
        )
        assert closed.headers["location"].endswith("m=day_closed")
        bad = await c.post(
            "/staff/consultations/availability",
            data={**hours, "start": "10:00", "end": "09:00", "desk": "houston", "csrf": token},
        )
        assert bad.headers["location"].endswith("m=slot_error")
        after = await c.get("/staff/consultations/availability", params={"desk": "houston"})
        final = await c.get("/staff/consultations", params={"desk": "houston", "day": str(day)})
    assert str(day) in after.text.split('id="closures"')[1]
    assert final.text.count('data-state="withdrawn"') == 3


async def test_consultation_figures_per_desk_per_week_as_csv(
    database: Database, tmp_path: Path
) -> None:
    """Booked (every consultation that kept its slot), held, no-shows and cancelled per desk
    and week, as CSV beside the other figures; each desk sees only its own rows."""
    seed_desks(database)
    ids = [book(database, screening(database), hour=9 + n) for n in range(4)]
    book(database, screening(database, desk="los-angeles"), desk="los-angeles")
    now = utcnow()
    with database.write() as session:
        appointments.mark(session, ids[0], AppointmentStatus.held, actor="staff:1", now=now)
        appointments.mark(session, ids[1], AppointmentStatus.no_show, actor="staff:1", now=now)
        cancelled = session.get(Appointment, ids[3])
        assert cancelled is not None
        appointments.cancel(session, cancelled, actor="person", now=now)
        slot = session.get(Slot, cancelled.slot_id)
        assert slot is not None
        starts = (
            slot.starts_at.replace(tzinfo=UTC) if slot.starts_at.tzinfo is None else slot.starts_at
        )
    week = (starts.date() - timedelta(days=starts.date().weekday())).isoformat()
    hugo = staff(database, "Hugo", "houston")
    root = staff(database, "Root", "central", role="admin")
    app = make_app(database, tmp_path)
    async with client(app) as c:
        everything = await c.get("/api/v1/figures/consultations.csv", headers=bearer(root))
        houston_only = await c.get("/api/v1/figures/consultations.csv", headers=bearer(hugo))
        as_json = await c.get("/api/v1/figures/consultations", headers=bearer(hugo))
        other_desk = await c.get(
            "/api/v1/figures/consultations", params={"desk": "los-angeles"}, headers=bearer(hugo)
        )
        await log_in(c, "Root")
        page = await c.get("/staff/figures")
        download = await c.get("/staff/figures/consultations.csv")
    assert everything.headers["content-type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(everything.text)))
    assert rows == [
        ["desk", "week", "booked", "held", "no_show", "cancelled"],
        ["houston", week, "3", "1", "1", "1"],
        ["los-angeles", week, "1", "0", "0", "0"],
    ]
    assert list(csv.reader(io.StringIO(houston_only.text)))[1:] == [
        ["houston", week, "3", "1", "1", "1"]
    ]
    assert as_json.json() == [
        {"desk": "houston", "week": week, "booked": 3, "held": 1, "no_show": 1, "cancelled": 1}
    ]
    assert other_desk.status_code == 403
    assert 'href="/staff/figures/consultations.csv"' in page.text
    assert 'id="consultation-figures"' in page.text and week in page.text
    assert download.text == everything.text
    assert "attachment" in download.headers["content-disposition"]
