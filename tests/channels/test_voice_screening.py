"""The risk screening and a consultation booked by phone: option 6, keys and words."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from pathlib import Path

from sqlmodel import select

from bot import appointments
from bot.conversations import Hotline
from bot.db import Database
from bot.models import Appointment, utcnow
from tests.fakes.twilio_caller import FakeCaller

from .support import PUBLIC_URL
from .test_voice import (
    Fake,
    answer,
    cases,
    hotline as hotline,
    line,
)

SCREENING_DIGIT = "6"


async def test_a_caller_is_screened_and_books_a_consultation(
    database: Database,
    tmp_path: Path,
    hotline: Hotline,
    twilio_api: Fake,
) -> None:
    day = (utcnow() + timedelta(days=4)).date()
    hotline.prepare(database)
    with database.write() as session:
        slot = appointments.add_slot(
            session,
            desk_id="houston",
            local=datetime.combine(day, time(10)),
            now=utcnow(),
        )
    async with line(database, tmp_path, hotline, twilio_api) as client:
        call = FakeCaller(client, PUBLIC_URL)
        await call.dial_in()
        heard = await call.press("1")  # Spanish
        heard = await call.press(SCREENING_DIGIT)
        offered = False
        for _ in range(30):
            found = [c for c in cases(database) if c.channel == "voice"]
            if found and found[-1].intake_step is None:
                break
            offered = offered or "10:00" in heard.text
            heard = await answer(call, heard)
        else:
            raise AssertionError(f"no finished case; last heard: {call.last.says}")
    case = found[-1]
    assert case.flow == "screening" and case.desk_id == "houston"
    assert case.priority == "high"  # the hurried caller said yes to a removal order
    assert offered
    with database.read() as session:
        booking = session.exec(select(Appointment)).one()
    assert booking.slot_id == slot.id and booking.case_ref == case.ref
