"""Cases in intake and cases triage flagged for review, as staff see them: in the queue (API,
`hotline queue --json`, dashboard) from the first message, claimable, ordered, labelled."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

from markupsafe import escape
from sqlmodel import select

from bot import i18n
from bot.db import Database
from bot.models import Case, CaseEvent, CaseStatus, Staff, utcnow
from bot.staff.commands import queue_lines
from bot.staff.queue import INTAKE_QUIET, claim_next, intake_state
from bot.staff.sweeps import escalate_breached

from .support import (
    NOW,
    bearer,
    client,
    csrf_from,
    get_case,
    log_in,
    make_app,
    new_case,
    new_contact,
    new_staff,
    seed_desks,
)


def _staff(db: Database, staff_id: int) -> Staff:
    with db.read() as session:
        staff = session.get(Staff, staff_id)
        assert staff is not None
        return staff


def _intake_cases(db: Database) -> tuple[str, str, str]:
    """A person answering now (high), one who stopped (normal), a finished report (normal)."""
    now = utcnow()
    answering = new_case(
        db,
        priority="high",
        status="intake",
        intake_step="ask_where",
        created_at=now - timedelta(minutes=4),
        updated_at=now - timedelta(minutes=2),
    )
    stalled = new_case(
        db,
        status="intake",
        intake_step="ask_when",
        created_at=now - timedelta(hours=1),
        updated_at=now - timedelta(minutes=30),
    )
    finished = new_case(db, created_at=now - timedelta(minutes=20))
    return answering, stalled, finished


def test_intake_state_is_derived_from_the_step_and_the_last_answer() -> None:
    """In progress within INTAKE_QUIET of the last update, not finished after, None once over."""
    case = Case(
        ref="HL-0000AA",
        channel="sms",
        lang="es",
        desk_id="los-angeles",
        flow="raid",
        intent="raid",
        priority="high",
        priority_rank=1,
        status=CaseStatus.intake,
        intake_step="ask_where",
        created_at=NOW,
        updated_at=NOW,
    )
    assert intake_state(case, NOW + INTAKE_QUIET) == "in_progress"
    assert intake_state(case, NOW + INTAKE_QUIET + timedelta(seconds=1)) == "not_finished"
    case.intake_step = None
    assert intake_state(case, NOW) is None


def test_queue_json_lists_intake_cases_with_their_progress(database: Database) -> None:
    """`hotline queue --json` shows a case from its first message, saying how far intake got."""
    seed_desks(database)
    answering, stalled, finished = _intake_cases(database)
    lines = [json.loads(line) for line in queue_lines(database, "los-angeles", True)]
    got = {
        line["ref"]: (
            line["status"],
            line["intake"],
            line["intake_step"],
            line["intake_finished"],
            line["needs_review"],
        )
        for line in lines
    }
    assert [line["ref"] for line in lines] == [answering, stalled, finished]
    assert got == {
        answering: ("intake", "in_progress", "ask_where", False, False),
        stalled: ("intake", "not_finished", "ask_when", False, False),
        finished: ("open", None, None, True, False),
    }
    text = list(queue_lines(database, "los-angeles", False))
    assert text[0].endswith("intake in_progress  step ask_where")
    assert text[1].endswith("intake not_finished  step ask_when")


async def test_intake_cases_are_in_the_api_queue_and_claimable(
    database: Database, tmp_path: Path
) -> None:
    """The API queue shows intake cases; a claim takes one, and intake stays unfinished."""
    seed_desks(database)
    answering, stalled, finished = _intake_cases(database)
    staff_id, token = new_staff(database, "Ana", "los-angeles")
    async with client(make_app(database, tmp_path)) as c:
        queue = (await c.get("/api/v1/queue", headers=bearer(token))).json()
        claimed = await c.post("/api/v1/queue/claim", json={}, headers=bearer(token))
    assert [(i["ref"], i["intake"]) for i in queue] == [
        (answering, "in_progress"),
        (stalled, "not_finished"),
        (finished, None),
    ]
    assert claimed.status_code == 200
    body = claimed.json()
    assert (body["ref"], body["status"], body["claimed_by"]) == (answering, "claimed", staff_id)
    assert (body["intake"], body["intake_step"]) == ("in_progress", "ask_where")
    with database.read() as session:
        event = session.exec(
            select(CaseEvent).where(
                CaseEvent.case_id == get_case(database, answering).id, CaseEvent.kind == "claimed"
            )
        ).one()
    assert event.data == {"intake_step": "ask_where"}


def test_a_lapsed_claim_on_an_intake_case_goes_back_and_is_claimed_again(
    database: Database,
) -> None:
    """claim_next offers intake cases; a lapsed lease is released (an event) before the
    next claim, and the case keeps its unfinished intake."""
    seed_desks(database)
    ref = new_case(database, status="intake", intake_step="ask_where", updated_at=NOW)
    ana = _staff(database, new_staff(database, "Ana", "los-angeles")[0])
    bea = _staff(database, new_staff(database, "Bea", "los-angeles")[0])
    first = claim_next(database, ana, "los-angeles", NOW)
    assert first is not None and first.ref == ref and first.intake_step == "ask_where"
    again = claim_next(database, bea, "los-angeles", NOW + timedelta(minutes=20))
    assert again is not None and again.ref == ref and again.claimed_by == bea.id
    assert again.intake_step == "ask_where"
    with database.read() as session:
        kinds = session.exec(
            select(CaseEvent.kind).where(CaseEvent.case_id == again.id).order_by(CaseEvent.id)  # type: ignore[arg-type]
        ).all()
    assert list(kinds) == ["claimed", "lease_expired", "claimed"]


async def test_needs_review_sorts_first_within_its_priority(
    database: Database, tmp_path: Path
) -> None:
    """Priority first; within a priority, cases to review before the SLA order."""
    seed_desks(database)
    low_review = new_case(database, priority="low", needs_review=True)
    normal_soon = new_case(database, sla_due_at=NOW + timedelta(hours=1))
    normal_review = new_case(database, needs_review=True, sla_due_at=NOW + timedelta(hours=3))
    normal_late = new_case(database, sla_due_at=NOW + timedelta(hours=2))
    critical = new_case(database, priority="critical")
    order = [critical, normal_review, normal_soon, normal_late, low_review]
    staff_id, token = new_staff(database, "Ana", "los-angeles")
    async with client(make_app(database, tmp_path)) as c:
        queue = (await c.get("/api/v1/queue", headers=bearer(token))).json()
    assert [i["ref"] for i in queue] == order
    assert [i["needs_review"] for i in queue] == [False, True, False, False, True]
    lines = [json.loads(line) for line in queue_lines(database, "los-angeles", True)]
    assert [(line["ref"], line["needs_review"]) for line in lines] == [
        (i["ref"], i["needs_review"]) for i in queue
    ]
    ana = _staff(database, staff_id)
    claimed = [claim_next(database, ana, "los-angeles", NOW) for _ in order]
    assert [c.ref for c in claimed if c is not None] == order


async def test_the_dashboard_shows_intake_and_review_in_both_languages(
    database: Database, tmp_path: Path
) -> None:
    """Queue and case page say "intake in progress" (with the step), "intake not finished"
    and flag cases to review, in Spanish and in English."""
    seed_desks(database)
    answering, stalled, _ = _intake_cases(database)
    review = new_case(database, needs_review=True)
    new_staff(database, "Ana", "los-angeles")
    async with client(make_app(database, tmp_path)) as c:
        await log_in(c, "Ana")
        pages = {"es": await c.get("/staff/")}
        case_pages = {"es": await c.get(f"/staff/cases/{answering}")}
        await c.post(
            "/staff/lang",
            data={"lang": "en", "back": "/staff/", "csrf": csrf_from(pages["es"].text)},
        )
        pages["en"] = await c.get("/staff/")
        case_pages["en"] = await c.get(f"/staff/cases/{answering}")
        review_page = await c.get(f"/staff/cases/{review}")
    for lang in ("es", "en"):
        page, case_page = pages[lang].text, case_pages[lang].text
        assert pages[lang].status_code == case_pages[lang].status_code == 200
        in_progress = str(escape(i18n.t("staff.intake.in_progress", lang, step="ask_where")))
        assert in_progress in page and in_progress in case_page
        assert str(escape(i18n.t("staff.intake.not_finished", lang))) in page
        assert page.count(str(escape(i18n.t("staff.case.needs_review", lang)))) == 1
    assert str(escape(i18n.t("staff.case.needs_review", "en"))) in review_page.text
    assert stalled in pages["en"].text


async def test_a_case_in_intake_can_be_transferred_and_answered(
    database: Database, tmp_path: Path
) -> None:
    """Staff may act while the person is still answering: a transfer keeps the case in
    intake at the new desk; a reply makes it wait; a second reply keeps it waiting."""
    seed_desks(database)
    contact = new_contact(database)
    ref = new_case(
        database, contact_id=contact, status="intake", intake_step="ask_where", updated_at=NOW
    )
    _, token = new_staff(database, "Sara", "central", "supervisor")
    async with client(make_app(database, tmp_path)) as c:
        moved = await c.post(
            f"/api/v1/cases/{ref}/transfer", json={"desk": "houston"}, headers=bearer(token)
        )
        assert (moved.status_code, moved.json()["status"]) == (200, "intake")
        for text in ("Hola", "¿Sigue ahí?"):
            answered = await c.post(
                f"/api/v1/cases/{ref}/reply", json={"text": text}, headers=bearer(token)
            )
            assert (answered.status_code, answered.json()["status"]) == (200, "waiting")
    case = get_case(database, ref)
    assert (case.desk_id, case.status) == ("houston", "waiting")
    with database.read() as session:
        kinds = session.exec(select(CaseEvent.kind).where(CaseEvent.case_id == case.id)).all()
    assert sorted(kinds) == ["reply", "reply", "transferred"]


def test_an_intake_case_past_its_target_is_escalated(database: Database) -> None:
    """The first-response target runs from the first message: intake does not pause it."""
    seed_desks(database)
    ref = new_case(
        database, status="intake", intake_step="ask_where", sla_due_at=NOW - timedelta(minutes=1)
    )
    assert escalate_breached(database, now=NOW) == 1
    case = get_case(database, ref)
    assert (case.priority, case.also_central, case.status) == ("high", True, "intake")
