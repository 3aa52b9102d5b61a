"""Free text that asks about deportation risk or a lawyer reaches the screening; someone
taken or agents at a place never do. Measured on the legal-risk authors' messages
(tests/data/authors/a11–a13, `wants_legal_help`), written by independent sessions; a13 was
held out while the cue words were chosen (see bench/RESULTS.md, ## Screening)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot.conversations import hints_for
from bot.engine import Context, ConversationState, Inbound, advance
from tests.engine.support import flows

AUTHORS = Path(__file__).resolve().parents[1] / "data" / "authors"
NOW = datetime(2026, 11, 30, 18, tzinfo=UTC)
# Per author: (recall floor, precision floor); measured 84.0/93.3, 89.6/95.6, 68.1/88.9.
FLOORS = {
    "a11_court_mother": (0.80, 0.88),
    "a12_citizen_daughter": (0.85, 0.90),
    "a13_orchard_worker": (0.64, 0.84),
}


def rows(author: str) -> list[dict[str, object]]:
    path = next(AUTHORS.glob(f"{author}.jsonl"))
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line]


def lands_in_screening(text: str) -> bool:
    step = advance(
        flows(),
        ConversationState(),
        Inbound(text=text, channel="sms"),
        Context(now=NOW, new_ref="HL-TEST01", classify=hints_for),
    )
    return step.state.flow == "screening"


@pytest.mark.parametrize("author", sorted(FLOORS))
def test_legal_questions_reach_the_screening(author: str) -> None:
    found = [
        (bool(r["wants_legal_help"]), lands_in_screening(str(r["text"]))) for r in rows(author)
    ]
    hits = sum(1 for wanted, fired in found if wanted and fired)
    recall = hits / sum(1 for wanted, _ in found if wanted)
    precision = hits / max(1, sum(1 for _, fired in found if fired))
    recall_floor, precision_floor = FLOORS[author]
    assert recall >= recall_floor and precision >= precision_floor, (recall, precision)


def test_someone_in_danger_or_taken_never_lands_in_the_screening() -> None:
    urgent = [
        r
        for author in FLOORS
        for r in rows(author)
        if r["priority"] == "critical" and r["intent"] != "programs"
    ]
    assert len(urgent) >= 10
    wrong = [r["text"] for r in urgent if lands_in_screening(str(r["text"]))]
    assert not wrong


@pytest.mark.parametrize(
    ("text", "screening"),
    [
        ("¿me pueden deportar? tengo corte en marzo", True),
        ("necesito un abogado para mi caso de inmigracion", True),
        ("can I get a lawyer? I have an old deportation order", True),
        ("se llevaron a mi esposo, necesito un abogado", False),
        ("ICE is outside my house right now, do I need a lawyer?", False),
        ("el notario me robo 2000 dolares", False),
    ],
)
def test_what_a_person_gets_from_a_first_message(text: str, screening: bool) -> None:
    assert lands_in_screening(text) is screening
