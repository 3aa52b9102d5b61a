"""The `hotline` command as a person or an operator runs it (real subprocesses)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from .conftest import TEST_SECRET


def hotline(*args: str, cwd: Path, stdin: str = "") -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "HOTLINE_SECRET_KEY": TEST_SECRET,
        "HOTLINE_DATABASE_URL": "",
        "HOTLINE_DATA_DIR": str(cwd / "var"),
    }
    return subprocess.run(
        [sys.executable, "-m", "bot", *args],
        cwd=cwd,
        env=env,
        input=stdin,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_chat_json_answers_one_line_per_message_and_continues_by_sender(tmp_path: Path) -> None:
    """`hotline chat --json`: one JSON line per input line; the same --sender continues."""
    first = hotline("chat", "--json", "--sender", "maria", cwd=tmp_path, stdin="hola\n2\n")
    assert first.returncode == 0, first.stderr
    lines = [json.loads(line) for line in first.stdout.splitlines()]
    assert len(lines) == 2
    menu = lines[0]["replies"][-1]
    assert len(menu["options"]) >= 5 and all(isinstance(o, str) for o in menu["options"])
    again = hotline("chat", "--json", "--sender", "maria", cwd=tmp_path, stdin="atras\n")
    replies = json.loads(again.stdout.splitlines()[0])["replies"]
    assert replies and replies != lines[0]["replies"]


def test_chat_choice_by_label_works_like_its_number(tmp_path: Path) -> None:
    """A menu choice can be answered by its label as well as by its number."""
    by_number = hotline("chat", "--json", "--sender", "a", cwd=tmp_path, stdin="hola\n2\n")
    label = json.loads(by_number.stdout.splitlines()[0])["replies"][-1]["options"][1]
    by_label = hotline(
        "chat", "--json", "--sender", "b", cwd=tmp_path, stdin=f"hola\n{label.lower()}\n"
    )
    assert json.loads(by_number.stdout.splitlines()[1]) == json.loads(
        by_label.stdout.splitlines()[1]
    )


def test_chat_english_and_telegram_rendering(tmp_path: Path) -> None:
    """--lang en answers in English; --channel telegram keeps options as buttons."""
    result = hotline(
        "chat", "--json", "--lang", "en", "--channel", "telegram", cwd=tmp_path, stdin="hello\n"
    )
    reply = json.loads(result.stdout)["replies"][-1]
    assert reply["options"] and "1)" not in reply["text"]
    assert "help" in result.stdout.lower() or "consulate" in result.stdout.lower()


def test_classify_reads_and_writes_json_lines(tmp_path: Path) -> None:
    """`hotline classify`: one output per input line, in order; a bad line gets an error."""
    stdin = (
        "\n".join(
            [
                json.dumps({"text": "LA MIGRA ESTA AQUI AHORITA en mi trabajo", "zip": "77036"}),
                "not json",
                json.dumps({"text": "necesito sacar el pasaporte de mi hijo"}),
            ]
        )
        + "\n"
    )
    result = hotline("classify", cwd=tmp_path, stdin=stdin)
    out = [json.loads(line) for line in result.stdout.splitlines()]
    assert len(out) == 3
    assert (out[0]["intent"], out[0]["priority"], out[0]["desk"]) == ("raid", "critical", "houston")
    assert out[0]["reasons"] and "error" in out[1]
    assert out[2]["intent"] == "documents" and out[2]["desk"] is None


def test_route_prints_the_desk_or_fails_clearly(tmp_path: Path) -> None:
    """`hotline route`: a ZIP or place gives a desk id; an unknown place exits non-zero."""
    assert hotline("route", "90012", cwd=tmp_path).stdout.strip() == "los-angeles"
    assert hotline("route", "Chicago IL", cwd=tmp_path).stdout.strip() == "chicago"
    unknown = hotline("route", "Narnia", cwd=tmp_path)
    assert unknown.returncode != 0 and "Traceback" not in unknown.stderr
