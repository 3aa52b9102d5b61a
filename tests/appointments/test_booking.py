"""Consultation slots as a legal-aid coordinator needs them: no double booking, reminders
sent once, the `hotline slots` contract. Real database (SQLite and PostgreSQL), real
conversations through `bot.terminal.TerminalChat`."""

from __future__ import annotations

import itertools
import json
import threading
from collections.abc import Callable
from datetime import datetime, time, timedelta
from pathlib import Path

import pytest
from sqlmodel import col, select

from bot import appointments
from bot.conversations import Hotline
from bot.db import Database
from bot.models import Appointment, AppointmentStatus, Case, OutboundMessage, Slot, utcnow
from bot.terminal import TerminalChat

from ..conftest import make_settings
from ..test_cli import hotline as run_cli

_SENDERS = itertools.count(1)
# A report that reaches the slot question at once: the screening, every question skipped.
TO_THE_SLOTS = ("necesito un abogado", "si", *["saltar"] * 7, "77036", "si")


@pytest.fixture(scope="module")
def hotline(tmp_path_factory: pytest.TempPathFactory) -> Hotline:
    settings = make_settings(tmp_path_factory.mktemp("slots"), flood_per_sender_per_minute=100)
    return Hotline.load(settings)


@pytest.fixture
def chat(hotline: Hotline, database: Database) -> Callable[[], TerminalChat]:
    hotline.prepare(database)

    def make() -> TerminalChat:
        sender = f"slots-{next(_SENDERS)}"
        return TerminalChat(hotline, database, sender=sender, render_as="sms", lang=None)

    return make


def add_slots(db: Database, desk: str, count: int, *, days: int = 3) -> list[int]:
    """`count` slots at the desk, an hour apart, `days` days from now at 9:00 local."""
    now = utcnow()
    day = (now + timedelta(days=days)).date()
    ids = []
    with db.write() as session:
        for n in range(count):
            local = datetime.combine(day, time(9 + n))  # the desk's wall clock
            ids.append(appointments.add_slot(session, desk_id=desk, local=local, now=now).id)
    return [i for i in ids if i is not None]


def at_the_slots(make: Callable[[], TerminalChat]) -> tuple[TerminalChat, str]:
    """A person who reached the slot question; returns them and the question's text."""
    person = make()
    replies: list[dict[str, object]] = []
    for text in TO_THE_SLOTS:
        replies = person.send(text)
    shown = str(replies[-1]["text"])
    assert "1)" in shown, shown
    return person, shown


def test_twenty_people_choosing_the_last_slot_at_once_one_gets_it(
    chat: Callable[[], TerminalChat], database: Database
) -> None:
    first, *_later = add_slots(database, "houston", 4)
    people = [at_the_slots(chat) for _ in range(20)]
    assert all("9:00" in shown for _, shown in people)  # everyone is offered the same first
    answers: dict[int, str] = {}
    start = threading.Barrier(len(people))

    def choose(n: int, person: TerminalChat) -> None:
        start.wait()
        answers[n] = " ".join(str(r["text"]) for r in person.send("1"))

    threads = [threading.Thread(target=choose, args=(n, p)) for n, (p, _) in enumerate(people)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert len(answers) == len(people)
    with database.read() as session:
        holders = session.exec(
            select(Appointment).where(
                Appointment.slot_id == first, Appointment.status == AppointmentStatus.booked
            )
        ).all()
    assert len(holders) == 1
    booked = [a for a in answers.values() if "Su consulta qued" in a]
    taken = [a for a in answers.values() if "se acaba de ocupar" in a]
    assert len(booked) == 1 and len(taken) == 19
    assert all("10:00" in a for a in taken)  # the next free one is offered instead


def test_a_person_keeps_one_booking_when_moving_it(
    chat: Callable[[], TerminalChat], database: Database
) -> None:
    add_slots(database, "houston", 3)
    person, _ = at_the_slots(chat)
    person.send("1")
    person.send("cambiar cita")
    person.send("1")  # the first free one now: the second slot
    with database.read() as session:
        live = session.exec(
            select(Appointment).where(Appointment.status == AppointmentStatus.booked)
        ).all()
        rows = appointments.list_slots(session, desk_id="houston", now=utcnow())
    assert len(live) == 1
    assert [r["booked"] for r in rows] == [False, True, False]


def outbox_reminders(db: Database) -> list[str]:
    with db.read() as session:
        rows = session.exec(
            select(OutboundMessage)
            .where(OutboundMessage.kind == "reminder")
            .order_by(col(OutboundMessage.id))
        ).all()
        return [row.text for row in rows]


def sweep_twice_at_once(db: Database, now: datetime) -> None:
    start = threading.Barrier(2)

    def run() -> None:
        start.wait()
        appointments.send_reminders(db, now=now)

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)


def test_reminders_go_once_a_day_and_two_hours_before_even_from_two_sweeps(
    chat: Callable[[], TerminalChat], database: Database
) -> None:
    add_slots(database, "houston", 1)
    person, _ = at_the_slots(chat)
    person.send("1")
    with database.read() as session:
        slot = session.exec(select(Slot)).one()
        starts = (
            slot.starts_at
            if slot.starts_at.tzinfo
            else slot.starts_at.replace(tzinfo=utcnow().tzinfo)
        )
    sweep_twice_at_once(database, starts - timedelta(hours=30))
    assert outbox_reminders(database) == []
    sweep_twice_at_once(database, starts - timedelta(hours=23, minutes=59))
    sweep_twice_at_once(database, starts - timedelta(hours=20))
    day = outbox_reminders(database)
    assert len(day) == 1 and "mañana" in day[0]
    sweep_twice_at_once(database, starts - timedelta(hours=1, minutes=59))
    sweep_twice_at_once(database, starts - timedelta(minutes=30))
    both = outbox_reminders(database)
    assert len(both) == 2 and "2 horas" in both[1]
    with database.read() as session:
        ref = session.exec(select(Case.ref)).one()
    assert all(ref in text for text in both)


def test_a_cancelled_consultation_gets_no_reminder(
    chat: Callable[[], TerminalChat], database: Database
) -> None:
    add_slots(database, "houston", 1)
    person, _ = at_the_slots(chat)
    person.send("1")
    reply = person.send("cancelar cita")
    assert "Cancelamos" in str(reply[0]["text"])
    with database.read() as session:
        slot = session.exec(select(Slot)).one()
        starts = (
            slot.starts_at
            if slot.starts_at.tzinfo
            else slot.starts_at.replace(tzinfo=utcnow().tzinfo)
        )
    appointments.send_reminders(database, now=starts - timedelta(hours=1))
    assert outbox_reminders(database) == []


def test_slots_add_and_list_as_the_design_says(tmp_path: Path) -> None:
    day = (utcnow() + timedelta(days=5)).date().isoformat()
    added = run_cli("slots", "add", "--desk", "houston", "--at", f"{day}T10:30", cwd=tmp_path)
    assert added.returncode == 0, added.stderr
    run_cli(
        "slots", "add", "--desk", "houston", "--at", f"{day}T11:00", "--minutes", "45", cwd=tmp_path
    )
    listed = run_cli("slots", "list", "--desk", "houston", "--json", cwd=tmp_path)
    rows = [json.loads(line) for line in listed.stdout.splitlines()]
    assert [(r["at"], r["desk"], r["booked"], r["ref"]) for r in rows] == [
        (f"{day}T10:30", "houston", False, None),
        (f"{day}T11:00", "houston", False, None),
    ]
    wrong = run_cli("slots", "add", "--desk", "houston", "--at", "tomorrow 10", cwd=tmp_path)
    assert wrong.returncode == 2 and "YYYY-MM-DDTHH:MM" in wrong.stderr
    unknown = run_cli("slots", "add", "--desk", "atlantis", "--at", f"{day}T10:30", cwd=tmp_path)
    assert unknown.returncode == 2 and "atlantis" in unknown.stderr


def test_borrar_frees_the_persons_coming_consultation(
    chat: Callable[[], TerminalChat], database: Database
) -> None:
    add_slots(database, "houston", 1)
    person, _ = at_the_slots(chat)
    person.send("1")
    person.send("borrar")
    person.send("1")  # yes, erase
    with database.read() as session:
        rows = appointments.list_slots(session, desk_id="houston", now=utcnow())
        kept = session.exec(select(Appointment)).all()
    assert [r["booked"] for r in rows] == [False]
    assert all(a.contact_id is None for a in kept)
