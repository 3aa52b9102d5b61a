"""The staff side of legal-aid consultations: a desk's day, held and no-show, availability,
weekly figures.

The rules of slots and appointments are `bot.appointments`'; this module adds the desk walls
and the slot managers (`bot.staff.access`), the audit trail, and the shapes the API and the
dashboard show. A screening's answers appear only where `access.may_read_answers` allows:
for everyone else an entry says they exist and are restricted. Times are the desk's own
(its time zone), as the person was offered them. What the slot rules refuse (a time that
has passed or is more than a year ahead, hours that end before they start, a booked slot)
is an `IllegalTransition`: the request was well formed, the desk's calendar says no (409).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta
from functools import cache
from typing import Any, Final, Literal
from zoneinfo import ZoneInfo

from pydantic import BaseModel, Field
from sqlmodel import Session

from bot import appointments, i18n
from bot.appointments import DayEntry, SlotError
from bot.cases import find_case
from bot.engine.flows import FLOWS_DIR, StepSpec, load_flow
from bot.errors import IllegalTransition, NotFound
from bot.models import AppointmentStatus, Desk, Slot, SlotPattern, Staff
from bot.staff.access import (
    SCREENING,
    audit,
    may_read_answers,
    may_see_case,
    require_desk,
    require_slots,
)
from bot.types import as_lang

SlotState = Literal["free", "withdrawn", "booked", "held", "no_show"]
Mark = Literal["held", "no_show"]
HHMM: Final = r"^([01]\d|2[0-3]):[0-5]\d$"
WEEKS_BACK: Final = 8  # figures: this many weeks before the current one …
AHEAD: Final = timedelta(days=366)  # nothing is planned further ahead than this
CALENDAR: Final = (date(2000, 1, 1), date(2100, 12, 31))  # the days a desk's list can show
FIGURE_COLUMNS: Final = ("desk", "week", "booked", "held", "no_show", "cancelled")
STATES: Final[dict[str, str]] = {
    "free": "staff.consultations.state.free",
    "withdrawn": "staff.consultations.state.withdrawn",
    "booked": "staff.consultations.state.booked",
    "held": "staff.consultations.state.held",
    "no_show": "staff.consultations.state.no_show",
}
# What staff read beside each screening answer (the flow's `save_as` names; a question added
# to the flow later shows under its name until it gets a label here).
QUESTIONS: Final[dict[str, str]] = {
    "years_in_us": "staff.screening.years_in_us",
    "removal_order": "staff.screening.removal_order",
    "arrest": "staff.screening.arrest",
    "court": "staff.screening.court",
    "court_date": "staff.screening.court_date",
    "us_children": "staff.screening.us_children",
    "status": "staff.screening.status",
    "location": "staff.screening.location",
    "wants_consultation": "staff.screening.wants_consultation",
    "appointment": "staff.screening.appointment",
}


class Consultation(BaseModel):
    """One slot of a desk's day, with its booking (`answers` only for those who may read
    them; `restricted` when there are answers the caller may not read)."""

    slot_id: int
    at: datetime  # the desk's local time
    minutes: int
    remote: bool
    state: SlotState
    appointment_id: int | None = None
    ref: str | None = None
    case_desk: str | None = None
    case_status: str | None = None
    lang: str | None = None
    channel: str | None = None
    may_open: bool = False  # the caller may open the case
    restricted: bool = False
    answers: dict[str, Any] | None = None


class ConsultationDay(BaseModel):
    """A desk's consultations on one local day."""

    desk: str
    day: date
    timezone: str
    closed: bool  # no consultations that day (booked ones stay)
    consultations: list[Consultation]


class MarkRequest(BaseModel):
    """How the consultation went."""

    status: Mark


class MarkResult(BaseModel):
    """A consultation after staff marked it."""

    appointment_id: int
    status: str
    ref: str


class PatternRequest(BaseModel):
    """Weekly availability: every `weekday` (0 = Monday) from `start` to `end`, local time."""

    desk: str | None = None
    weekday: int = Field(ge=0, le=6)
    start: str = Field(pattern=HHMM)
    end: str = Field(pattern=HHMM)
    minutes: int = Field(default=30, ge=5, le=240)


class PatternOut(BaseModel):
    """One weekly availability of a desk."""

    id: int
    desk: str
    weekday: int
    start: str
    end: str
    minutes: int


class ClosureRequest(BaseModel):
    """A local day without consultations."""

    desk: str | None = None
    day: date


class ClosureOut(BaseModel):
    """A closed day and how many free slots it withdrew."""

    desk: str
    day: date
    withdrawn: int


class SlotRequest(BaseModel):
    """One consultation slot at `at`, the desk's local time ("2026-12-03T10:30")."""

    desk: str | None = None
    at: datetime
    minutes: int = Field(default=30, ge=5, le=240)


class SlotOut(BaseModel):
    """A slot the desk offers."""

    id: int
    desk: str
    at: datetime
    minutes: int
    remote: bool


class Availability(BaseModel):
    """A desk's weekly availability and its closed days from today on."""

    desk: str
    timezone: str
    patterns: list[PatternOut]
    closures: list[date]


class WeekFigures(BaseModel):
    """A desk's consultations in one week (Monday to Sunday, UTC): booked, held, no-shows,
    cancelled."""

    desk: str
    week: date
    booked: int
    held: int
    no_show: int
    cancelled: int


def zone_of(session: Session, desk_id: str) -> ZoneInfo:
    """The desk's time zone (NotFound for an unknown desk)."""
    desk = session.get(Desk, desk_id)
    if desk is None:
        raise NotFound("no such desk")
    return ZoneInfo(desk.timezone)


def today(session: Session, desk_id: str, now: datetime) -> date:
    """The desk's local date."""
    return now.astimezone(zone_of(session, desk_id)).date()


def day_view(
    session: Session, staff: Staff, desk_id: str, day: date | None, now: datetime
) -> ConsultationDay:
    """The desk's slots on its local `day` (today by default); every case whose answers are
    shown is written to the audit trail."""
    require_desk(staff, desk_id)
    zone = zone_of(session, desk_id)
    day = day or now.astimezone(zone).date()
    if not CALENDAR[0] <= day <= CALENDAR[1]:
        raise NotFound("no consultations that far from now")
    entries = appointments.day_list(session, desk_id=desk_id, day=day)
    return ConsultationDay(
        desk=desk_id,
        day=day,
        timezone=zone.key,
        closed=day in appointments.closures_of(session, desk_id, day),
        consultations=[_consultation(session, staff, e, zone, now) for e in entries],
    )


def _consultation(
    session: Session, staff: Staff, entry: DayEntry, zone: ZoneInfo, now: datetime
) -> Consultation:
    slot, appointment, case = entry.slot, entry.appointment, entry.case
    assert slot.id is not None
    row = Consultation(
        slot_id=slot.id,
        at=_aware(slot.starts_at).astimezone(zone),
        minutes=slot.minutes,
        remote=slot.remote,
        state="withdrawn" if slot.closed_at is not None else "free",
    )
    if appointment is None:
        return row
    row.state, row.appointment_id = _state(appointment.status), appointment.id
    row.ref = appointment.case_ref
    if case is None:
        return row
    hosts = {slot.desk_id}
    shown = may_read_answers(staff, case, hosts)
    row.case_desk, row.case_status = case.desk_id, str(case.status)
    row.lang, row.channel = case.lang, case.channel
    row.may_open = may_see_case(staff, case, hosts)
    row.restricted = not shown
    if shown and case.answers:
        row.answers = case.answers
        audit(session, staff, "view", now, case=case, detail={"via": "consultations"})
    return row


def _state(status: AppointmentStatus) -> SlotState:
    if status == AppointmentStatus.held:
        return "held"
    return "no_show" if status == AppointmentStatus.no_show else "booked"


def mark(
    session: Session, staff: Staff, appointment_id: int, status: Mark, now: datetime
) -> MarkResult:
    """Staff mark a consultation held or a no-show (from the start of its local day on)."""
    found = appointments.appointment_at(session, appointment_id)
    if found is None:
        raise NotFound("no such appointment")
    appointment, slot = found
    require_desk(staff, slot.desk_id)
    if appointment.status == AppointmentStatus.cancelled:
        raise IllegalTransition("the consultation was cancelled")
    zone = zone_of(session, slot.desk_id)
    if _aware(slot.starts_at).astimezone(zone).date() > now.astimezone(zone).date():
        raise IllegalTransition("the consultation's day has not come")
    with slot_errors():
        appointments.mark(
            session,
            appointment_id,
            AppointmentStatus(status),
            actor=f"staff:{staff.id}",
            now=now,
        )
    audit(
        session,
        staff,
        f"consultation_{status}",
        now,
        case=find_case(session, appointment.case_ref),
        desk_id=slot.desk_id,
        detail={"appointment": appointment_id},
    )
    return MarkResult(appointment_id=appointment_id, status=status, ref=appointment.case_ref)


def availability(session: Session, staff: Staff, desk_id: str, now: datetime) -> Availability:
    """The desk's weekly availability and its closed days ahead."""
    require_desk(staff, desk_id)
    zone = zone_of(session, desk_id)
    return Availability(
        desk=desk_id,
        timezone=zone.key,
        patterns=[_pattern_out(p) for p in appointments.patterns_of(session, desk_id)],
        closures=appointments.closures_of(session, desk_id, now.astimezone(zone).date()),
    )


def add_pattern(
    session: Session, staff: Staff, desk_id: str, body: PatternRequest, now: datetime
) -> PatternOut:
    """A supervisor adds weekly availability (published into slots by the caller, after the
    commit: `appointments.publish_slots`)."""
    require_slots(staff, desk_id)
    zone_of(session, desk_id)
    with slot_errors():
        pattern = appointments.add_pattern(
            session,
            desk_id=desk_id,
            weekday=body.weekday,
            start=body.start,
            end=body.end,
            minutes=body.minutes,
            now=now,
        )
    audit(session, staff, "availability_add", now, desk_id=desk_id, detail={"id": pattern.id})
    return _pattern_out(pattern)


def remove_pattern(session: Session, staff: Staff, pattern_id: int, now: datetime) -> str:
    """A supervisor stops a weekly availability (published slots stay); returns its desk."""
    pattern = session.get(SlotPattern, pattern_id)
    if pattern is None:
        raise NotFound("no such availability")
    desk_id = pattern.desk_id
    require_slots(staff, desk_id)
    with slot_errors():
        appointments.remove_pattern(session, desk_id=desk_id, pattern_id=pattern_id)
    audit(session, staff, "availability_remove", now, desk_id=desk_id, detail={"id": pattern_id})
    return desk_id


def close_day(session: Session, staff: Staff, desk_id: str, day: date, now: datetime) -> int:
    """A supervisor closes a local day (today or later); returns the free slots withdrawn."""
    require_slots(staff, desk_id)
    _plannable(day, today(session, desk_id, now))
    with slot_errors():
        withdrawn = appointments.close_day(session, desk_id=desk_id, day=day, now=now)
    audit(
        session,
        staff,
        "day_close",
        now,
        desk_id=desk_id,
        detail={"day": day.isoformat(), "withdrawn": withdrawn},
    )
    return withdrawn


def add_slot(
    session: Session, staff: Staff, desk_id: str, local: datetime, minutes: int, now: datetime
) -> SlotOut:
    """A supervisor adds one slot at `local` (the desk's wall-clock time)."""
    require_slots(staff, desk_id)
    zone = zone_of(session, desk_id)
    _plannable(local.date(), now.astimezone(zone).date())
    wall = local.astimezone(zone) if local.tzinfo else local
    with slot_errors():
        slot = appointments.add_slot(
            session, desk_id=desk_id, local=wall.replace(tzinfo=None), minutes=minutes, now=now
        )
    assert slot.id is not None
    audit(session, staff, "slot_add", now, desk_id=desk_id, detail={"slot": slot.id})
    return SlotOut(
        id=slot.id,
        desk=desk_id,
        at=_aware(slot.starts_at).astimezone(zone),
        minutes=slot.minutes,
        remote=slot.remote,
    )


def withdraw_slot(session: Session, staff: Staff, slot_id: int, now: datetime) -> Slot:
    """A supervisor withdraws a free slot (409 when it is booked)."""
    slot = session.get(Slot, slot_id)
    if slot is None:
        raise NotFound("no such slot")
    require_slots(staff, slot.desk_id)
    if not appointments.close_slot(session, desk_id=slot.desk_id, slot_id=slot_id, now=now):
        raise IllegalTransition("the slot is booked: cancel with the person first")
    audit(session, staff, "slot_withdraw", now, desk_id=slot.desk_id, detail={"slot": slot_id})
    return slot


def _plannable(day: date, local_today: date) -> None:
    if day < local_today:
        raise IllegalTransition("that day has passed")
    if day > local_today + AHEAD:
        raise IllegalTransition("that is more than a year ahead")


@contextmanager
def slot_errors() -> Iterator[None]:
    """What the slot rules refuse (a past time, hours ending before they start) is 409."""
    try:
        yield
    except SlotError as exc:
        raise IllegalTransition(str(exc)) from None


def week_rows(
    session: Session, desk_ids: Iterable[str], now: datetime, *, back: int = WEEKS_BACK
) -> list[WeekFigures]:
    """Consultations per desk per week, from `back` weeks ago to the last week slots are
    published for; weeks without any are left out."""
    wanted = set(desk_ids)
    this_week = now.date() - timedelta(days=now.date().weekday())
    rows = [
        WeekFigures.model_validate(row)
        for n in range(-back, appointments.PUBLISH_WEEKS + 1)
        for row in appointments.week_figures(session, week_of=this_week + timedelta(weeks=n))
        if row["desk"] in wanted
    ]
    return sorted(rows, key=lambda r: (r.desk, r.week))


def figures_csv(rows: Iterable[WeekFigures]) -> str:
    """CSV text of the weekly consultation figures, one desk and week per line."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(FIGURE_COLUMNS)
    for row in rows:
        values = row.model_dump()
        writer.writerow([values[c] for c in FIGURE_COLUMNS])
    return out.getvalue()


def plain_answers(answers: Mapping[str, Any] | None, lang: str) -> list[tuple[str, str]]:
    """A screening's answers in plain words, in the flow's order: (what was asked, what the
    person said), in the staff member's language."""
    if not answers:
        return []
    code = as_lang(lang)
    steps = _screening_steps()
    lines = [
        (
            i18n.t(QUESTIONS[key], code) if key in QUESTIONS else key,
            _plain(step, answers[key], code),
        )
        for key, step in steps.items()
        if key in answers
    ]
    said = [str(n.get("text", "")) for n in answers.get("notes") or [] if isinstance(n, dict)]
    if said:
        lines.append((i18n.t("staff.screening.notes", code), " · ".join(said)))
    return lines


@cache
def _screening_steps() -> dict[str, StepSpec]:
    spec = load_flow(FLOWS_DIR / f"{SCREENING}.yaml", i18n.catalog())
    return {s.save_as: s for s in spec.steps.values() if s.save_as}


def _plain(step: StepSpec, value: Any, lang: Literal["es", "en"]) -> str:
    if value is None:
        return i18n.t("staff.screening.skipped", lang)
    if isinstance(value, bool):
        return i18n.t("staff.screening.yes" if value else "staff.screening.no", lang)
    if isinstance(value, dict):
        if "date" in value:
            approx = i18n.t("staff.screening.approx", lang) if value.get("approx") else ""
            return f"{value['date']} {approx}".strip()
        if "booked" in value:
            booked = value.get("booked") and value.get("at")
            return str(value["at"]) if booked else i18n.t("staff.screening.not_booked", lang)
        return str(value.get("raw") or value.get("zip") or "")
    option = next((o for o in step.options if o.value == str(value)), None)
    return i18n.t(option.label, lang) if option else str(value)


def _pattern_out(pattern: SlotPattern) -> PatternOut:
    assert pattern.id is not None
    return PatternOut(
        id=pattern.id,
        desk=pattern.desk_id,
        weekday=pattern.weekday,
        start=pattern.start,
        end=pattern.end,
        minutes=pattern.minutes,
    )


def _aware(value: datetime) -> datetime:
    return value if value.tzinfo else value.replace(tzinfo=UTC)
