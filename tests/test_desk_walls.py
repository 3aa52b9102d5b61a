"""Desk walls in the transcript: a person with a case at Houston and, later, one at Los Angeles
— each desk reads only its own case's messages, because every message is linked to its case
when it is processed (and every reply when it is queued)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from sqlmodel import col, select

from bot.channels.pipeline import Processor
from bot.conversations import Hotline
from bot.db import Database
from bot.inbox import NewMessage
from bot.models import Case, InboundMessage, OutboundMessage
from tests.conftest import make_settings
from tests.staff.support import bearer, client, make_app, new_staff

PERSON = "+17135550142"  # one phone number, two reports at two desks
HOUSTON = [
    "la migra esta en mi trabajo ahorita en Houston 77036",
    "1",
    "1",
    "2",
    "no",
    "una camioneta blanca en Bellaire",
]
LOS_ANGELES = [
    "hay una redada ahorita en Los Angeles 90011 en la fabrica de mi tio",
    "1",
    "3",
    "no",
    "muchos agentes en Alameda",
]


@pytest.fixture
async def writer(database: Database, tmp_path: Path) -> AsyncIterator[Processor]:
    hotline = Hotline.load(make_settings(tmp_path, flood_per_sender_per_minute=50))
    hotline.prepare(database)
    processor = Processor(database, hotline, on_replies=lambda: None)
    processor.start()
    yield processor
    await processor.stop()


async def say(writer: Processor, text: str, n: int) -> None:
    stored = await writer.accept(NewMessage("sms", f"SMwall{n}", PERSON, text))
    assert stored.inbound_id is not None


def cases(database: Database) -> list[Case]:
    with database.read() as session:
        return list(session.exec(select(Case).order_by(col(Case.id))).all())


async def transcript(c: Any, ref: str, token: str) -> list[tuple[str, str]]:
    """The case's transcript as staff read it: (direction, text) lines."""
    response = await c.get(f"/api/v1/cases/{ref}", headers=bearer(token))
    assert response.status_code == 200
    return [(line["direction"], str(line["text"])) for line in response.json()["transcript"]]


def said(lines: list[tuple[str, str]]) -> list[str]:
    return [text for direction, text in lines if direction == "in"]


def answered(lines: list[tuple[str, str]]) -> str:
    return "\n".join(text for direction, text in lines if direction == "out")


async def test_each_desk_reads_only_its_own_case(
    database: Database, tmp_path: Path, writer: Processor
) -> None:
    for n, text in enumerate(HOUSTON + LOS_ANGELES):
        await say(writer, text, n)
    houston, la = cases(database)
    assert (houston.desk_id, la.desk_id) == ("houston", "los-angeles")
    _, houston_agent = new_staff(database, "Hilda", "houston")
    _, la_agent = new_staff(database, "Luis", "los-angeles")
    reply = "Vamos en camino, guarde la calma."
    async with client(make_app(database, tmp_path)) as c:
        at_houston = await transcript(c, houston.ref, houston_agent)
        at_la = await transcript(c, la.ref, la_agent)
        sent = await c.post(
            f"/api/v1/cases/{houston.ref}/reply",
            json={"text": reply},
            headers=bearer(houston_agent),
        )
        assert sent.status_code == 200
        houston_after = await transcript(c, houston.ref, houston_agent)
        la_after = await transcript(c, la.ref, la_agent)

    # Each desk reads exactly what the person wrote for its case, in order, with the answers
    # it got — and nothing of the other case: not even the first message of the Los Angeles
    # report, which arrived before its case was opened.
    assert said(at_houston) == HOUSTON
    assert said(at_la) == LOS_ANGELES
    assert houston.ref in answered(at_houston) and la.ref not in answered(at_houston)
    assert la.ref in answered(at_la) and houston.ref not in answered(at_la)
    # Staff's reply on the Houston case stays on the Houston case.
    assert reply in answered(houston_after) and reply not in answered(la_after)


async def test_messages_and_replies_are_linked_when_processed(
    database: Database, writer: Processor
) -> None:
    for n, text in enumerate(HOUSTON + LOS_ANGELES):
        await say(writer, text, n)
    houston, la = cases(database)
    with database.read() as session:
        links = session.exec(select(InboundMessage.case_id).order_by(col(InboundMessage.id))).all()
        replies = session.exec(select(OutboundMessage.case_id)).all()
    assert links == [houston.id] * len(HOUSTON) + [la.id] * len(LOS_ANGELES)
    assert set(replies) == {houston.id, la.id}
