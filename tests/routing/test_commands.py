"""classify_lines and route_command: the database-free parts of two CLI commands."""

import json
from collections.abc import Iterator

import pytest

from bot.routing.commands import classify_lines, route_command


def test_classify_lines_contract() -> None:
    lines = [
        '{"text": "ICE se llevó a mi esposo hoy en Houston"}',
        '{"text": "hay una redada ahorita", "zip": "85004", "other": 1}',
        '{"text": "hola"}',
        "not json",
        "",
        '["a list"]',
        '{"zip": "77036"}',
        '{"text": "perdí mi pasaporte", "zip": 2108}',
        '{"text": "x", "zip": true}',
    ]
    out = [json.loads(line) for line in classify_lines(lines)]
    assert len(out) == len(lines)
    assert out[0]["intent"] == "detention" and out[0]["priority"] == "critical"
    assert out[0]["desk"] == "houston"
    assert set(out[0]) == {"intent", "priority", "desk", "reasons"}
    assert all(isinstance(r, str) for r in out[0]["reasons"])
    assert (out[1]["intent"], out[1]["priority"], out[1]["desk"]) == ("raid", "critical", "phoenix")
    assert out[2] == {**out[2], "intent": "other", "priority": "low", "desk": None}
    assert out[3]["error"].startswith("invalid JSON")
    assert out[4] == {"error": "empty line"}
    assert out[5] == {"error": "expected a JSON object"}
    assert out[6] == {"error": '"text" must be a string'}
    assert out[7]["desk"] == "boston"
    assert "error" in out[8]


def test_classify_lines_bad_zip_falls_back_to_text() -> None:
    (line,) = classify_lines(['{"text": "estoy en Chicago", "zip": "00000"}'])
    assert json.loads(line)["desk"] == "chicago"


def test_classify_lines_is_lazy() -> None:
    def lines() -> Iterator[str]:
        yield '{"text": "hola"}'
        raise AssertionError("read too far")

    assert json.loads(next(iter(classify_lines(lines()))))["intent"] == "other"


@pytest.mark.parametrize(
    ("arg", "code", "line"),
    [
        ("77036", 0, "houston"),
        ("Houston, TX", 0, "houston"),
        ("east LA", 0, "los-angeles"),
        ("Mineápolis", 0, "saint-paul"),
        ("00901", 0, "san-juan"),
    ],
)
def test_route_command(arg: str, code: int, line: str) -> None:
    assert route_command(arg) == (code, line)


def test_route_command_unknown_and_empty() -> None:
    code, line = route_command("Atlantis")
    assert code == 1 and "unknown location" in line
    assert route_command("  ")[0] == 2
