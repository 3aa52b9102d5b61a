"""Case first: a report is in the queue from the message that tells it.

A critical first message opens an anonymous case at once (reference in the first reply,
listed by `hotline queue --json` at its desk, intake in progress, no words before the
privacy notice is accepted). A person who stops half-way stays in the queue with what they
said; one who declines the notice still leaves an anonymous critical case.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from sqlmodel import select
from typer.testing import CliRunner

from bot.cli import app
from bot.db import Database
from bot.models import Case

from ..conftest import TEST_SECRET
from . import sayings
from .conftest import MakePerson
from .simulator import REF, Said, transcript

CRITICAL_OPENINGS = [
    pytest.param(
        "es",
        "sms",
        "detention",
        "la migra se llevó a mi hermano ahorita en el trabajo en Dallas",
        "dallas",
        id="es-sms-detention-dallas",
    ),
    pytest.param(
        "en",
        "telegram",
        "raid",
        "ICE is at my job right now in Houston",
        "houston",
        id="en-telegram-raid-houston",
    ),
    pytest.param(
        "es",
        "telegram",
        "raid",
        "hay una redada de ICE ahorita en la fabrica en Houston",
        "houston",
        id="es-telegram-raid-houston",
    ),
    pytest.param(
        "en",
        "sms",
        "detention",
        "ICE arrested my brother this morning in Dallas",
        "dallas",
        id="en-sms-detention-dallas",
    ),
]
# Words-style answers that say "nothing" to a free question: sent, but not counted.
NOT_AN_ANSWER = frozenset({"no", "nada", "no tengo", "none", "nothing", "no se", "dont know"})


def queue(
    database: Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> list[dict[str, Any]]:
    """`hotline queue --json`, run in-process against the test database."""
    monkeypatch.chdir(tmp_path)  # no developer .env
    env = {
        "HOTLINE_DATABASE_URL": database.url,
        "HOTLINE_SECRET_KEY": TEST_SECRET,
        "HOTLINE_DATA_DIR": str(tmp_path / "var"),
    }
    result = CliRunner().invoke(app, ["queue", "--json"], env=env)
    assert result.exit_code == 0, f"{result.output}\n{result.exception!r}"
    return [json.loads(line) for line in result.output.splitlines() if line.strip()]


def stored(database: Database, ref: str) -> Case:
    with database.read() as session:
        case = session.exec(select(Case).where(Case.ref == ref)).first()
    assert case is not None, f"no case {ref} in the database"
    return case


def only_ref(texts: list[str]) -> str:
    refs: list[str] = sorted({ref for text in texts for ref in REF.findall(text)})
    assert len(refs) == 1, f"expected one case reference (HL-XXXXXX) in {texts!r}"
    return refs[0]


@pytest.mark.parametrize(("lang", "channel", "flow", "first", "desk"), CRITICAL_OPENINGS)
def test_a_critical_first_message_is_in_the_queue_at_once(
    person: MakePerson,
    database: Database,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    lang: str,
    channel: str,
    flow: str,
    first: str,
    desk: str,
) -> None:
    """After the first message alone: its reference in the reply, the case in the queue at
    the right desk with intake in progress, and no words on it (privacy not yet accepted)."""
    someone = person(flow, "words", lang=lang, channel=channel)
    turn = someone.send(Said(first, free=True))
    assert any(REF.search(t) for t in turn.texts), (
        "the first reply does not give the case reference\n" + transcript(someone.exchanges)
    )
    ref = only_ref(turn.texts)
    listed = {item["ref"]: item for item in queue(database, tmp_path, monkeypatch)}
    assert ref in listed, f"{ref} is not in `hotline queue --json`: {sorted(listed)}"
    item = listed[ref]
    assert (item["desk"], item["priority"], item["intent"]) == (desk, "critical", flow), item
    assert item["status"] == "intake" and item.get("intake") == "in_progress", item
    case = stored(database, ref)
    assert not case.summary and not case.answers and case.contact_id is None, (
        f"words or contact kept before the privacy notice: summary={case.summary!r} "
        f"answers={case.answers!r} contact_id={case.contact_id!r}"
    )


@pytest.mark.parametrize(
    ("lang", "channel", "flow", "opening"),
    [
        pytest.param(
            "es", "sms", "detention", CRITICAL_OPENINGS[0].values[3], id="es-sms-critical"
        ),
        pytest.param("en", "telegram", "raid", CRITICAL_OPENINGS[1].values[3], id="en-tg-critical"),
        pytest.param("es", "telegram", "harassment", None, id="es-tg-menu-harassment"),
        pytest.param("en", "sms", "detention", None, id="en-sms-menu-detention"),
    ],
)
def test_a_person_who_stops_after_two_answers_stays_in_the_queue(
    person: MakePerson,
    database: Database,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    lang: str,
    channel: str,
    flow: str,
    opening: str | None,
) -> None:
    """Accept the notice, answer two questions, stop: the case is in the queue, intake not
    finished, holding both answers and the person's contact."""
    someone = person(flow, "words", lang=lang, channel=channel, seed=3)
    first = [Said(opening, free=True)] if opening else someone.first_message("menu")
    for said in first:
        someone.send(said)
    answered: list[tuple[str, str]] = []  # (saved as, what the person wrote)
    for _ in range(12):
        if len(answered) == 2:
            break
        question = someone.question()
        said = someone.answer(question)
        before = someone.exchanges[-1]
        turn = someone.send(said)
        taken = turn.place != before.place  # the bot took the answer and moved on
        real = question.kind not in ("text", "media") or said.text.lower() not in NOT_AN_ANSWER
        accepted = before.state.get("privacy_accepted")
        if accepted and taken and real and question.step and not question.pending:
            answered.append((question.step.save_as or question.step.id, said.text))
    assert len(answered) == 2, "could not answer two questions\n" + transcript(someone.exchanges)
    case = someone.case()
    assert case is not None, "no case after two answers\n" + transcript(someone.exchanges)
    listed = {item["ref"]: item for item in queue(database, tmp_path, monkeypatch)}
    assert case.ref in listed, f"{case.ref} is not in `hotline queue --json`: {sorted(listed)}"
    assert listed[case.ref]["status"] == "intake", listed[case.ref]
    assert case.intake_step is not None and case.contact_id is not None
    kept = case.answers or {}
    missing = [(key, text) for key, text in answered if kept.get(key) in (None, "", [])]
    assert not missing, (
        f"answers not on the case {case.ref}: {missing}; case answers: {kept!r}\n"
        + transcript(someone.exchanges)
    )


@pytest.mark.parametrize(("lang", "channel", "flow", "first", "desk"), CRITICAL_OPENINGS[:2])
def test_declining_the_notice_leaves_an_anonymous_critical_case(
    person: MakePerson,
    database: Database,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    lang: str,
    channel: str,
    flow: str,
    first: str,
    desk: str,
) -> None:
    """A critical report whose writer says no to the privacy notice stays in the queue as
    intent, priority and desk only: no words, no contact."""
    someone = person(flow, "words", lang=lang, channel=channel)
    someone.send(Said(first, free=True))
    for _ in range(4):  # answer until the notice comes (raid asks "are you safe?" first)
        question = someone.question()
        if question.pending and question.pending.startswith("privacy"):
            break
        someone.send(someone.answer(question))
    else:
        raise AssertionError("no privacy notice\n" + transcript(someone.exchanges))
    someone.send(sayings.DECLINE[lang][1])
    refs = {r for e in someone.exchanges for t in e.texts for r in REF.findall(t)}
    assert refs, "no case reference given\n" + transcript(someone.exchanges)
    listed = {item["ref"] for item in queue(database, tmp_path, monkeypatch)}
    assert refs <= listed, f"{sorted(refs - listed)} not in `hotline queue --json`"
    for ref in refs:
        case = stored(database, ref)
        assert (case.intent, case.priority, case.desk_id) == (flow, "critical", desk), (
            case.intent,
            case.priority,
            case.desk_id,
        )
        assert not case.summary and not case.answers and case.contact_id is None, (
            f"{ref} keeps words after the notice was declined: summary={case.summary!r} "
            f"answers={case.answers!r} contact_id={case.contact_id!r}\n"
            + transcript(someone.exchanges)
        )
