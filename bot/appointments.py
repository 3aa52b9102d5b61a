"""Legal-aid consultations: the one owner of slots and appointments.

A desk publishes weekly availability (`SlotPattern`, in its local time) and exceptions
(`SlotClosure`: a day with no consultations); `publish` turns them into `Slot` rows for the
weeks ahead, and `add_slot` adds a single one (`hotline slots add`). A person picks one of
the next free slots (`free_slots`; a desk with none offers central's remote slots) and
`book` takes it: the database's partial unique index on live appointments per slot decides
a race, so of twenty people choosing the last slot at once exactly one gets it. Reminders go
24 hours and 2 hours before (`send_reminders`, idempotent across processes: the row update
that marks a reminder sent is the claim). Staff see a desk's day (`day_list`), mark a
consultation held or a no-show (`mark`), and count the week (`week_figures`).

`ConsultationDesk` is the conversation's view of all this (`bot.engine.model.Appointments`),
bound to one person inside the transaction that processes their message.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any, Final
from zoneinfo import ZoneInfo

from sqlalchemy import exists, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from bot import i18n, lifecycle
from bot.db import Database
from bot.engine.model import Booking, Reply, SlotOffer
from bot.engine.slots import format_slot
from bot.errors import BotError
from bot.models import (
    Appointment,
    AppointmentStatus,
    Case,
    Contact,
    Desk,
    Slot,
    SlotClosure,
    SlotPattern,
)
from bot.outgoing import queue_replies
from bot.types import as_lang

logger = logging.getLogger(__name__)

CENTRAL: Final = "central"
OFFERED: Final = 3  # slots shown to the person at once
LEAD: Final = timedelta(hours=3)  # the earliest slot offered starts this far ahead
HORIZON: Final = timedelta(days=45)  # nothing further ahead is offered
PUBLISH_WEEKS: Final = 4
REMIND_DAY: Final = timedelta(hours=24)
REMIND_HOURS: Final = timedelta(hours=2)
BATCH: Final = 200
LIVE: Final = (AppointmentStatus.booked, AppointmentStatus.held, AppointmentStatus.no_show)
OUTCOMES: Final = ("advised", "referred", "represented")  # how a consultation's case ends


class SlotError(BotError):
    """A slot that cannot be added or changed (unknown desk, past time, bad hours)."""


@dataclass(frozen=True, slots=True)
class DayEntry:
    """One slot of a desk's day, with its booking when there is one."""

    slot: Slot
    appointment: Appointment | None
    case: Case | None


def local_zone(session: Session, desk_id: str) -> ZoneInfo:
    """The desk's time zone; SlotError for an unknown desk."""
    desk = session.get(Desk, desk_id)
    if desk is None:
        raise SlotError(f"unknown desk {desk_id!r}")
    return ZoneInfo(desk.timezone)


def add_slot(
    session: Session, *, desk_id: str, local: datetime, minutes: int = 30, now: datetime
) -> Slot:
    """One slot at `local` (the desk's wall-clock time, naive). Adding an existing one is a
    no-op that returns it; a closed one is opened again."""
    if not 5 <= minutes <= 240:
        raise SlotError("a consultation lasts 5 to 240 minutes")
    starts = local.replace(tzinfo=local_zone(session, desk_id)).astimezone(UTC)
    if starts <= now:
        raise SlotError("that time has passed")
    slot = session.exec(
        select(Slot).where(Slot.desk_id == desk_id, Slot.starts_at == starts)
    ).first()
    if slot is None:
        slot = Slot(
            desk_id=desk_id,
            starts_at=starts,
            minutes=minutes,
            remote=desk_id == CENTRAL,
            created_at=now,
        )
        session.add(slot)
    else:
        slot.closed_at = None
    session.flush()
    return slot


def add_pattern(
    session: Session,
    *,
    desk_id: str,
    weekday: int,
    start: str,
    end: str,
    minutes: int = 30,
    now: datetime,
) -> SlotPattern:
    """Weekly availability: every `weekday` (0 = Monday) from `start` to `end` ("HH:MM")."""
    local_zone(session, desk_id)
    first, last = _hhmm(start), _hhmm(end)
    if not 0 <= weekday <= 6 or last <= first or not 5 <= minutes <= 240:
        raise SlotError("a weekday 0-6, a start before the end, 5 to 240 minutes")
    pattern = SlotPattern(
        desk_id=desk_id, weekday=weekday, start=start, end=end, minutes=minutes, created_at=now
    )
    session.add(pattern)
    session.flush()
    return pattern


def remove_pattern(session: Session, *, desk_id: str, pattern_id: int) -> None:
    """Stop publishing a weekly availability (slots already published stay)."""
    pattern = session.get(SlotPattern, pattern_id)
    if pattern is None or pattern.desk_id != desk_id:
        raise SlotError("no such availability at this desk")
    session.delete(pattern)


def close_day(session: Session, *, desk_id: str, day: date, now: datetime) -> int:
    """No consultations that local day: its free slots are withdrawn and none is published.
    Booked ones stay (staff call those people); returns how many were withdrawn."""
    local_zone(session, desk_id)
    if (
        session.exec(
            select(SlotClosure).where(SlotClosure.desk_id == desk_id, SlotClosure.day == day)
        ).first()
        is None
    ):
        session.add(SlotClosure(desk_id=desk_id, day=day, created_at=now))
    withdrawn = 0
    for entry in day_list(session, desk_id=desk_id, day=day):
        if entry.appointment is None and entry.slot.closed_at is None:
            entry.slot.closed_at = now
            withdrawn += 1
    session.flush()
    return withdrawn


def close_slot(session: Session, *, desk_id: str, slot_id: int, now: datetime) -> bool:
    """Withdraw one free slot; False when it is booked (or not this desk's)."""
    slot = session.get(Slot, slot_id)
    if slot is None or slot.desk_id != desk_id or _taken(session, slot_id):
        return False
    slot.closed_at = now
    return True


def publish(session: Session, *, now: datetime, weeks: int = PUBLISH_WEEKS) -> int:
    """Turn every weekly availability into slots for the coming `weeks` (closed days
    skipped, existing slots kept); returns how many slots were added."""
    patterns = session.exec(select(SlotPattern)).all()
    added = 0
    for pattern in patterns:
        zone = local_zone(session, pattern.desk_id)
        today = now.astimezone(zone).date()
        closed = set(
            session.exec(
                select(col(SlotClosure.day)).where(
                    SlotClosure.desk_id == pattern.desk_id, col(SlotClosure.day) >= today
                )
            ).all()
        )
        existing = set(
            session.exec(
                select(Slot.starts_at).where(
                    Slot.desk_id == pattern.desk_id, col(Slot.starts_at) > now
                )
            ).all()
        )
        existing = {_aware(s) for s in existing}
        for offset in range(weeks * 7):
            day = today + timedelta(days=offset)
            if day.weekday() != pattern.weekday or day in closed:
                continue
            for starts in _times(day, pattern, zone):
                if starts <= now or starts in existing:
                    continue
                session.add(
                    Slot(
                        desk_id=pattern.desk_id,
                        starts_at=starts,
                        minutes=pattern.minutes,
                        remote=pattern.desk_id == CENTRAL,
                        created_at=now,
                    )
                )
                existing.add(starts)
                added += 1
    session.flush()
    return added


def publish_slots(db: Database, *, now: datetime) -> int:
    """The sweep: publish the weeks ahead (several processes may run it: the unique slot
    per desk and time makes a duplicate fail, and the next run simply finds it there)."""
    try:
        with db.write() as session:
            return publish(session, now=now)
    except IntegrityError:
        return 0


def _times(day: date, pattern: SlotPattern, zone: ZoneInfo) -> Iterable[datetime]:
    at = datetime.combine(day, _hhmm(pattern.start), zone)
    end = datetime.combine(day, _hhmm(pattern.end), zone)
    while at + timedelta(minutes=pattern.minutes) <= end:
        yield at.astimezone(UTC)
        at += timedelta(minutes=pattern.minutes)


def _hhmm(value: str) -> time:
    try:
        hours, minutes = value.split(":")
        return time(int(hours), int(minutes))
    except ValueError as exc:
        raise SlotError(f"{value!r} is not a time like 09:30") from exc


def _aware(value: datetime) -> datetime:
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def _taken(session: Session, slot_id: int) -> bool:
    return (
        session.exec(
            select(Appointment.id).where(
                Appointment.slot_id == slot_id, col(Appointment.status).in_(LIVE)
            )
        ).first()
        is not None
    )


def free_slots(
    session: Session, desk_id: str, now: datetime, *, limit: int = OFFERED
) -> list[Slot]:
    """The next free slots at a desk, earliest first."""
    live = exists().where(
        col(Appointment.slot_id) == col(Slot.id), col(Appointment.status).in_(LIVE)
    )
    return list(
        session.exec(
            select(Slot)
            .where(
                Slot.desk_id == desk_id,
                col(Slot.closed_at).is_(None),
                col(Slot.starts_at) >= now + LEAD,
                col(Slot.starts_at) <= now + HORIZON,
                ~live,
            )
            .order_by(col(Slot.starts_at), col(Slot.id))
            .limit(limit)
        ).all()
    )


def offer(session: Session, desk_id: str | None, now: datetime) -> list[Slot]:
    """What a person is offered: their desk's next free slots, else central's remote ones."""
    found = free_slots(session, desk_id, now) if desk_id else []
    return found or free_slots(session, CENTRAL, now)


def book(
    session: Session, *, slot_id: int, ref: str, contact_id: int | None, now: datetime
) -> Appointment | None:
    """Take the slot for case `ref`, cancelling the case's earlier booking (a move); None
    when someone else holds it, it was withdrawn or it has passed."""
    slot = session.get(Slot, slot_id)
    if slot is None or slot.closed_at is not None or _aware(slot.starts_at) <= now:
        return None
    try:
        with session.begin_nested():
            session.execute(
                update(Appointment)
                .where(
                    col(Appointment.case_ref) == ref,
                    col(Appointment.status) == AppointmentStatus.booked,
                )
                .values(status=AppointmentStatus.cancelled, updated_at=now)
                .execution_options(synchronize_session="fetch")
            )
            appointment = Appointment(
                slot_id=slot_id,
                case_ref=ref,
                contact_id=contact_id,
                booked_at=now,
                updated_at=now,
            )
            session.add(appointment)
    except IntegrityError:
        return None
    case = session.exec(select(Case).where(Case.ref == ref)).first()
    if case is not None:
        lifecycle.record(
            session, case, "appointment", "person", now, {"slot": slot_id, "at": _iso(slot)}
        )
    return appointment


def upcoming(session: Session, contact_id: int, now: datetime) -> tuple[Appointment, Slot] | None:
    """The person's next booked consultation."""
    row = session.exec(
        select(Appointment, Slot)
        .join(Slot, col(Slot.id) == col(Appointment.slot_id))
        .where(
            Appointment.contact_id == contact_id,
            Appointment.status == AppointmentStatus.booked,
            col(Slot.starts_at) > now,
        )
        .order_by(col(Slot.starts_at))
    ).first()
    return (row[0], row[1]) if row else None


def latest(session: Session, contact_id: int) -> tuple[Appointment, Slot] | None:
    """The person's most recent appointment, whatever became of it."""
    row = session.exec(
        select(Appointment, Slot)
        .join(Slot, col(Slot.id) == col(Appointment.slot_id))
        .where(Appointment.contact_id == contact_id)
        .order_by(col(Appointment.booked_at).desc(), col(Appointment.id).desc())
    ).first()
    return (row[0], row[1]) if row else None


def forget_person(session: Session, contact_id: int, now: datetime) -> None:
    """A person's data is erased: their consultations still to come are freed for others,
    past ones keep only their outcome (no one to link them to)."""
    session.exec(
        update(Appointment)
        .where(
            col(Appointment.contact_id) == contact_id,
            col(Appointment.status) == AppointmentStatus.booked,
        )
        .values(status=AppointmentStatus.cancelled, updated_at=now)
    )
    session.exec(
        update(Appointment).where(col(Appointment.contact_id) == contact_id).values(contact_id=None)
    )


def cancel(session: Session, appointment: Appointment, *, actor: str, now: datetime) -> None:
    """Free the slot; the case keeps a `appointment_cancelled` event."""
    appointment.status = AppointmentStatus.cancelled
    appointment.updated_at = now
    case = session.exec(select(Case).where(Case.ref == appointment.case_ref)).first()
    if case is not None:
        lifecycle.record(session, case, "appointment_cancelled", actor, now, {})


def mark(
    session: Session,
    appointment_id: int,
    status: AppointmentStatus,
    *,
    actor: str,
    now: datetime,
) -> Appointment:
    """Staff: the consultation was held, or the person did not come."""
    if status not in (AppointmentStatus.held, AppointmentStatus.no_show):
        raise SlotError("mark a consultation held or no_show")
    appointment = session.get(Appointment, appointment_id)
    if appointment is None or appointment.status == AppointmentStatus.cancelled:
        raise SlotError("no such appointment")
    appointment.status = status
    appointment.updated_at = now
    case = session.exec(select(Case).where(Case.ref == appointment.case_ref)).first()
    if case is not None:
        lifecycle.record(session, case, f"appointment_{status}", actor, now, {})
    return appointment


def day_list(session: Session, *, desk_id: str, day: date) -> list[DayEntry]:
    """Every slot of the desk's local day, earliest first, with its live booking and case."""
    zone = local_zone(session, desk_id)
    start = datetime.combine(day, time(0), zone).astimezone(UTC)
    end = start + timedelta(days=1)
    rows = session.exec(
        select(Slot, Appointment)
        .outerjoin(
            Appointment,
            (col(Appointment.slot_id) == col(Slot.id)) & col(Appointment.status).in_(LIVE),
        )
        .where(Slot.desk_id == desk_id, col(Slot.starts_at) >= start, col(Slot.starts_at) < end)
        .order_by(col(Slot.starts_at))
    ).all()
    refs = [a.case_ref for _, a in rows if a is not None]
    cases = (
        {c.ref: c for c in session.exec(select(Case).where(col(Case.ref).in_(refs))).all()}
        if refs
        else {}
    )
    return [
        DayEntry(slot, appointment, cases.get(appointment.case_ref) if appointment else None)
        for slot, appointment in rows
    ]


def list_slots(session: Session, *, desk_id: str, now: datetime) -> list[dict[str, Any]]:
    """`hotline slots list`: every open slot from now on, with whether it is booked."""
    zone = local_zone(session, desk_id)
    rows = session.exec(
        select(Slot, Appointment)
        .outerjoin(
            Appointment,
            (col(Appointment.slot_id) == col(Slot.id)) & col(Appointment.status).in_(LIVE),
        )
        .where(Slot.desk_id == desk_id, col(Slot.starts_at) > now, col(Slot.closed_at).is_(None))
        .order_by(col(Slot.starts_at))
    ).all()
    return [
        {
            "at": _aware(slot.starts_at).astimezone(zone).strftime("%Y-%m-%dT%H:%M"),
            "desk": slot.desk_id,
            "minutes": slot.minutes,
            "remote": slot.remote,
            "booked": appointment is not None,
            "ref": appointment.case_ref if appointment else None,
        }
        for slot, appointment in rows
    ]


def week_figures(session: Session, *, week_of: date) -> list[dict[str, Any]]:
    """Consultations per desk for the week (Monday to Sunday, UTC) holding `week_of`:
    booked, held, no-shows, cancelled."""
    monday = week_of - timedelta(days=week_of.weekday())
    start = datetime.combine(monday, time(0), UTC)
    end = start + timedelta(days=7)
    rows = session.exec(
        select(Slot.desk_id, Appointment.status)
        .join(Slot, col(Slot.id) == col(Appointment.slot_id))
        .where(col(Slot.starts_at) >= start, col(Slot.starts_at) < end)
    ).all()
    figures: dict[str, dict[str, Any]] = {}
    for desk_id, status in rows:
        row = figures.setdefault(
            desk_id,
            {
                "desk": desk_id,
                "week": monday.isoformat(),
                "booked": 0,
                "held": 0,
                "no_show": 0,
                "cancelled": 0,
            },
        )
        if status == AppointmentStatus.cancelled:
            row["cancelled"] += 1
            continue
        row["booked"] += 1  # every consultation that kept its slot
        if status in (AppointmentStatus.held, AppointmentStatus.no_show):
            row[str(status)] += 1
    return sorted(figures.values(), key=lambda r: r["desk"])


def send_reminders(db: Database, *, now: datetime) -> int:
    """Remind each person 24 hours and 2 hours before (each once, whichever process runs:
    the update that stamps the reminder is the claim). A slot already closer than 2 hours
    at booking gets no reminder; one closer than 24 gets only the 2-hour one."""
    sent = 0
    with db.write() as session:
        for column, name, window, key in (
            (
                Appointment.reminded_hours_at,
                "reminded_hours_at",
                REMIND_HOURS,
                "appointment.reminder_hours",
            ),
            (
                Appointment.reminded_day_at,
                "reminded_day_at",
                REMIND_DAY,
                "appointment.reminder_day",
            ),
        ):
            due = session.exec(
                select(Appointment, Slot)
                .join(Slot, col(Slot.id) == col(Appointment.slot_id))
                .where(
                    Appointment.status == AppointmentStatus.booked,
                    col(column).is_(None),
                    col(Slot.starts_at) > now,
                    col(Slot.starts_at) <= now + window,
                )
                .order_by(col(Slot.starts_at))
                .limit(BATCH)
            ).all()
            for appointment, slot in due:
                claimed = session.execute(
                    update(Appointment)
                    .where(col(Appointment.id) == appointment.id, col(column).is_(None))
                    .values({name: now})
                    .execution_options(synchronize_session=False)
                )
                if claimed.rowcount != 1:  # type: ignore[attr-defined]
                    continue
                if key == "appointment.reminder_hours":
                    # the day-before one is moot now: never send it after this one
                    session.execute(
                        update(Appointment)
                        .where(
                            col(Appointment.id) == appointment.id,
                            col(Appointment.reminded_day_at).is_(None),
                        )
                        .values(reminded_day_at=now)
                        .execution_options(synchronize_session=False)
                    )
                elif _aware(slot.starts_at) - now <= REMIND_HOURS:
                    continue
                sent += _remind(session, appointment, slot, key, now)
    if sent:
        logger.info("sent %s consultation reminder(s)", sent)
    return sent


def _remind(session: Session, appointment: Appointment, slot: Slot, key: str, now: datetime) -> int:
    contact = session.get(Contact, appointment.contact_id) if appointment.contact_id else None
    if contact is None or contact.address is None or contact.opted_out or contact.erased_at:
        return 0
    assert contact.id is not None
    lang = as_lang(contact.lang)
    when = describe(session, slot, lang)
    queue_replies(
        session,
        contact_id=contact.id,
        channel=contact.channel,
        replies=[Reply(i18n.t(key, lang, when=when, ref=appointment.case_ref))],
        now=now,
        kind="reminder",
        priority="high",
    )
    return 1


def offer_of(session: Session, slot: Slot) -> SlotOffer:
    """A slot as the conversation shows it: local time and the consulate's city."""
    desk = session.get(Desk, slot.desk_id)
    assert desk is not None
    return SlotOffer(
        id=slot.id or 0,
        at=_aware(slot.starts_at).astimezone(ZoneInfo(desk.timezone)),
        place=desk.city,
        remote=slot.remote,
    )


def describe(session: Session, slot: Slot, lang: str) -> str:
    """ "mar 1 dic, 10:30 (consulado en Houston)" for reminders and staff messages."""
    return format_slot(i18n.catalog(), as_lang(lang), offer_of(session, slot))


def _iso(slot: Slot) -> str:
    return _aware(slot.starts_at).isoformat()


class ConsultationDesk:
    """`bot.engine.model.Appointments` for one person, inside their message's transaction."""

    def __init__(self, session: Session, contact_id: int, now: datetime) -> None:
        self.session, self.contact_id, self.now = session, contact_id, now

    def offer(self, ref: str | None, answers: Mapping[str, Any]) -> tuple[SlotOffer, ...]:
        case = self._case(ref)
        desk_id = case.desk_id if case is not None else None
        return tuple(offer_of(self.session, s) for s in offer(self.session, desk_id, self.now))

    def book(self, ref: str, slot_id: int) -> bool:
        case = self._case(ref)
        if case is None or case.contact_id != self.contact_id:
            return False
        booked = book(
            self.session, slot_id=slot_id, ref=ref, contact_id=self.contact_id, now=self.now
        )
        return booked is not None

    def current(self) -> Booking | None:
        found = upcoming(self.session, self.contact_id, self.now)
        if found is not None:
            return Booking(found[0].case_ref, offer_of(self.session, found[1]))
        return None

    def last(self) -> Booking | None:
        found = latest(self.session, self.contact_id)
        return Booking(found[0].case_ref, offer_of(self.session, found[1])) if found else None

    def cancel(self) -> Booking | None:
        found = upcoming(self.session, self.contact_id, self.now)
        if found is None:
            return None
        cancel(self.session, found[0], actor="person", now=self.now)
        return Booking(found[0].case_ref, offer_of(self.session, found[1]))

    def _case(self, ref: str | None) -> Case | None:
        if ref is None:
            return None
        return self.session.exec(select(Case).where(Case.ref == ref)).first()


def consultation_desks(session: Session, ref: str) -> set[str]:
    """The desks whose slots hold the case's consultations, cancelled ones aside (central's,
    for a remote one): their legal-aid staff hold the consultation."""
    return set(
        session.exec(
            select(Slot.desk_id)
            .join(Appointment, col(Appointment.slot_id) == col(Slot.id))
            .where(Appointment.case_ref == ref, col(Appointment.status).in_(LIVE))
        ).all()
    )


def patterns_of(session: Session, desk_id: str) -> list[SlotPattern]:
    """The desk's weekly availability, Monday first."""
    return list(
        session.exec(
            select(SlotPattern)
            .where(SlotPattern.desk_id == desk_id)
            .order_by(col(SlotPattern.weekday), col(SlotPattern.start), col(SlotPattern.id))
        ).all()
    )


def closures_of(session: Session, desk_id: str, since: date) -> list[date]:
    """The desk's closed days from `since` on."""
    return list(
        session.exec(
            select(col(SlotClosure.day))
            .where(SlotClosure.desk_id == desk_id, col(SlotClosure.day) >= since)
            .order_by(col(SlotClosure.day))
        ).all()
    )


def appointment_at(session: Session, appointment_id: int) -> tuple[Appointment, Slot] | None:
    """An appointment with its slot (whose desk holds the consultation)."""
    row = session.exec(
        select(Appointment, Slot)
        .join(Slot, col(Slot.id) == col(Appointment.slot_id))
        .where(Appointment.id == appointment_id)
    ).first()
    return (row[0], row[1]) if row else None
