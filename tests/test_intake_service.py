"""Case first through the service: what staff find in the queue when a person stops, cancels,
alerts or asks for their case half-way through a report (SQLite and PostgreSQL)."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlmodel import col, select

from bot.conversations import Hotline
from bot.db import Database
from bot.engine.refs import find_ref
from bot.i18n import t
from bot.models import Case, CaseEvent, CaseStatus
from bot.render import fold_for_sms
from bot.terminal import TerminalChat

from .conftest import make_settings


@pytest.fixture
def hotline(tmp_path: Path) -> Hotline:
    return Hotline.load(make_settings(tmp_path, flood_per_sender_per_minute=50))


def person(hotline: Hotline, database: Database, sender: str) -> TerminalChat:
    hotline.prepare(database)
    return TerminalChat(hotline, database, sender=sender, render_as="sms", lang="es")


def cases(database: Database) -> list[Case]:
    with database.read() as session:
        return list(session.exec(select(Case).order_by(col(Case.id))).all())


def said(replies: list[dict[str, object]]) -> str:
    return "\n".join(str(r["text"]) for r in replies)


def test_status_during_intake_says_the_report_is_with_the_consulate(
    hotline: Hotline, database: Database
) -> None:
    maria = person(hotline, database, "maria")
    first = said(maria.send("la migra está en mi trabajo ahorita en Houston"))
    ref = find_ref(first)
    assert ref is not None
    answer = said(maria.send(f"estado {ref}"))
    assert fold_for_sms(t("status.intake", "es", ref=ref)) in answer  # SMS writes a, not á


def test_cancelling_an_empty_report_withdraws_it_and_a_told_one_stays(
    hotline: Hotline, database: Database
) -> None:
    empty = person(hotline, database, "empty")
    for text in ("hola", "1", "si", "si", "cancelar"):
        empty.send(text)
    told = person(hotline, database, "told")
    for text in ("hola", "1", "si", "si", "77036", "cancelar"):
        told.send(text)
    withdrawn, kept = cases(database)
    assert (withdrawn.status, withdrawn.outcome) == (CaseStatus.resolved, "withdrawn")
    assert kept.status == CaseStatus.open and kept.intake_step is None
    assert kept.desk_id == "houston" and kept.answers and kept.answers["location"]["zip"] == "77036"


def test_what_follows_an_alert_lands_on_the_alert_case(
    hotline: Hotline, database: Database
) -> None:
    ana = person(hotline, database, "ana")
    alert = said(ana.send("SOS ayuda"))
    ref = find_ref(alert)
    assert ref is not None and alert.index("911") < alert.index(ref)
    ana.send("la migra está afuera de mi casa en el 77036 ahorita")
    (case,) = cases(database)
    assert case.ref == ref and case.priority == "critical" and case.desk_id == "houston"


def test_saying_one_is_not_in_danger_does_not_make_a_report_critical(
    hotline: Hotline, database: Database
) -> None:
    luis = person(hotline, database, "luis")
    for text in ("hola", "3", "no", "si", "1"):  # harassment: in danger now? no
        luis.send(text)
    (case,) = cases(database)
    assert case.priority != "critical"


def test_a_staff_transfer_is_not_undone_by_the_next_answer(
    hotline: Hotline, database: Database
) -> None:
    rosa = person(hotline, database, "rosa")
    for text in ("hola", "1", "si", "si"):
        rosa.send(text)
    with database.write() as session:
        case = session.exec(select(Case)).one()
        case.desk_id = "chicago"
        session.add(CaseEvent(case_id=case.id or 0, kind="transferred", actor="staff:1"))
    rosa.send("77036")  # Houston, but staff moved the report on purpose
    (case,) = cases(database)
    assert case.desk_id == "chicago"
