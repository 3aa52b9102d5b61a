"""A first message that says someone was taken answers 'was anyone taken?' already."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from bot.engine import load_flows
from bot.engine.extract import prefill

NOW = datetime(2026, 11, 23, 18, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("text", "taken"),
    [
        ("ICE se llevó a mi esposo hoy en Houston", True),
        ("la migra se lo llevaron de la obra", True),
        ("they took my brother from the car wash", True),
        ("hay agentes afuera pero no se llevaron a nadie", None),
        ("redada en la pulga ahorita", None),
    ],
)
def test_raid_prefill_reads_someone_taken(text: str, taken: bool | None) -> None:
    """'se llevó a mi esposo' fills taken=yes; 'no se llevaron a nadie' leaves it to ask."""
    flows = load_flows()
    found = prefill(flows, flows.specs["raid"], text, {}, NOW)
    assert found.get("taken") is taken
