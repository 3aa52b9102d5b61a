"""Voicemail recordings follow erasure and retention: deleted at Twilio, no sid kept."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from sqlmodel import select

from bot.conversations import Hotline
from bot.db import Database
from bot.models import Case, CaseEvent, CaseStatus, ProviderErasure, utcnow
from bot.staff.retention import purge_expired
from tests.fakes.twilio_caller import FakeCaller

from .support import PUBLIC_URL, wait_for
from .test_voice import Fake, cases, events, hotline, line

__all__ = ["hotline"]


async def leave_a_voicemail(call: FakeCaller) -> str:
    """Menu in Spanish, 0 for a person, accept the notice, speak after the beep."""
    await call.dial_in()
    await call.press("1")
    await call.press("0")
    heard = await call.press("1")
    assert heard.record is not None
    await call.leave_voicemail(seconds=9)
    return call.recordings[-1]


def recording_ids(db: Database) -> list[str]:
    return [str(e.data) for e in events(db, "voicemail") if e.data and "recording" in e.data]


def queued(db: Database) -> int:
    with db.read() as session:
        return len(session.exec(select(ProviderErasure)).all())


async def test_borrar_deletes_the_callers_recordings_at_twilio(
    database: Database, tmp_path: Path, hotline: Hotline, twilio_api: Fake
) -> None:
    """A caller who says "borrar" and confirms: the recording and both calls' records are
    deleted at Twilio (with the account's credentials, under TWILIO_API_BASE_URL) and the
    case keeps no recording id."""
    fake, _server = twilio_api
    async with line(database, tmp_path, hotline, twilio_api) as client:
        call = FakeCaller(client, PUBLIC_URL)
        sid = await leave_a_voicemail(call)
        assert recording_ids(database)
        again = FakeCaller(client, PUBLIC_URL)  # the same number calls back
        await again.dial_in()
        await again.press("1")
        heard = await again.say("borrar")
        assert heard.options == 2, heard.says  # "are you sure?"
        await again.press("1")
        wanted = {f"Recordings/{sid}", f"Calls/{call.call_sid}", f"Calls/{again.call_sid}"}
        await wait_for(lambda: set(fake.deleted) == wanted, what="the DELETEs")
        await wait_for(lambda: queued(database) == 0, what="the erasure done")
    (case,) = cases(database)
    assert case.status == CaseStatus.erased
    assert recording_ids(database) == []
    with database.read() as session:
        raw = session.connection().exec_driver_sql("SELECT data FROM caseevent").all()
    assert all(row[0] is None for row in raw)


async def test_retention_deletes_recordings_of_expired_cases_at_twilio(
    database: Database, tmp_path: Path, hotline: Hotline, twilio_api: Fake
) -> None:
    """A case resolved longer ago than the retention period: its recording goes at Twilio."""
    fake, _server = twilio_api
    async with line(database, tmp_path, hotline, twilio_api) as client:
        sid = await leave_a_voicemail(FakeCaller(client, PUBLIC_URL))
        kept = await leave_a_voicemail(FakeCaller(client, PUBLIC_URL, caller="+17135550102"))
        long_ago = utcnow() - timedelta(days=120)
        with database.write() as session:
            old = session.exec(select(Case).order_by(Case.id)).first()
            assert old is not None
            old.status, old.resolved_at, old.outcome = CaseStatus.resolved, long_ago, "helped"
        counts = purge_expired(database, now=utcnow(), retention_days=90)
        assert counts["cases"] == 1
        await wait_for(lambda: fake.deleted == [f"Recordings/{sid}"], what="the DELETE")
        await wait_for(lambda: queued(database) == 0, what="the erasure done")
    with database.read() as session:
        left = session.exec(select(CaseEvent).where(CaseEvent.kind == "voicemail")).all()
    assert [e.data["recording"] for e in left if e.data] == [kept]
