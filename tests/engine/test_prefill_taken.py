"""A first message that says someone was taken answers 'did they take anyone?' already."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from bot.engine import load_flows
from bot.engine.extract import prefill

NOW = datetime(2026, 11, 23, 18, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("text", "taken"),
    [
        ("ICE se llevó a mi esposo hoy en Houston", {"approx": "some"}),
        ("la migra se lo llevaron de la obra", {"approx": "some"}),
        ("they took my brother from the car wash", {"approx": "some"}),
        ("fue ahorita en el 77036, se llevaron a 3", 3),
        ("hay agentes afuera pero no se llevaron a nadie", None),
        ("redada en la pulga ahorita", None),
    ],
)
def test_raid_prefill_reads_someone_taken(text: str, taken: object) -> None:
    """'se llevó a mi esposo' answers the count as "some"; "se llevaron a 3" as 3; 'no se
    llevaron a nadie' leaves the question to ask."""
    flows = load_flows()
    found = prefill(flows, flows.specs["raid"], text, {}, NOW).get("taken_count")
    if isinstance(found, dict):
        found = {"approx": found["approx"]}
    assert found == taken
