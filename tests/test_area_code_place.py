"""A town whose name several states share, written without its state: on SMS the writer's
own area code tells which one — the report reaches the desk of the writer's state."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlmodel import col, select

from bot.channels.pipeline import Processor
from bot.conversations import Hotline
from bot.db import Database
from bot.inbox import NewMessage
from bot.models import Case
from tests.conftest import make_settings

REPORT = "ayuda la migra esta en la polleria de Gainesville ahorita, mi hermana no contesta"


@pytest.fixture
async def writer(database: Database, tmp_path: Path) -> AsyncIterator[Processor]:
    hotline = Hotline.load(make_settings(tmp_path))
    hotline.prepare(database)
    processor = Processor(database, hotline, on_replies=lambda: None)
    processor.start()
    yield processor
    await processor.stop()


async def test_the_same_words_from_two_states_reach_two_desks(
    writer: Processor, database: Database
) -> None:
    for n, phone in enumerate(("+17705550101", "+13525550102")):  # Georgia, then Florida
        stored = await writer.accept(NewMessage("sms", f"SMac{n}", phone, REPORT))
        assert stored.inbound_id is not None
    with database.read() as session:
        cases = session.exec(select(Case).order_by(col(Case.id))).all()
    assert [(c.desk_id, c.location_label, c.priority) for c in cases] == [
        ("atlanta", "Gainesville, GA", "critical"),
        ("orlando", "Gainesville, FL", "critical"),
    ]
