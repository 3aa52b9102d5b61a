"""Erased cases: erasure moves a case to `erased` through the lifecycle, hands its linked
reports over, and staff actions on it are illegal moves (409 through the API)."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from sqlmodel import select

from bot.db import Database
from bot.erasure import ERASED_OUTCOME, erase_case
from bot.models import Case, CaseEvent

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
    outbound,
    seed_desks,
)


def _erase(db: Database, ref: str) -> None:
    with db.write() as session:
        case = session.exec(select(Case).where(Case.ref == ref)).one()
        erase_case(session, case, NOW)


def _kinds(db: Database, ref: str) -> list[str]:
    case_id = get_case(db, ref).id
    with db.read() as session:
        query = select(CaseEvent.kind).where(CaseEvent.case_id == case_id)
        return list(session.exec(query.order_by(CaseEvent.id)).all())  # type: ignore[arg-type]


def test_erasing_moves_the_case_to_erased_once(database: Database) -> None:
    """Status `erased`, `erased_at` set, the open case's outcome, one `erased` event; an
    erased case erased again stays as it is; a resolved case keeps its outcome."""
    seed_desks(database)
    contact = new_contact(database)
    ref = new_case(database, contact_id=contact, status="claimed", claimed_by=None)
    done = new_case(database, status="resolved", resolved_at=NOW, outcome="helped")
    _erase(database, ref)
    _erase(database, ref)
    _erase(database, done)
    case = get_case(database, ref)
    assert (case.status, case.erased_at, case.outcome) == ("erased", NOW, ERASED_OUTCOME)
    assert (case.summary, case.claimed_by, case.lease_expires_at) == (None, None, None)
    assert _kinds(database, ref) == ["erased"]
    closed = get_case(database, done)
    assert (closed.status, closed.outcome, closed.resolved_at) == ("erased", "helped", NOW)


def test_erasing_hands_linked_reports_to_the_oldest_with_the_top_priority(
    database: Database,
) -> None:
    """The oldest active linked report becomes the head of the others and takes the most
    urgent priority among them (with its earlier target)."""
    seed_desks(database)
    parent = new_case(database, report_count=4)
    parent_id = get_case(database, parent).id
    oldest = new_case(
        database, parent_id=parent_id, created_at=NOW - timedelta(minutes=50), priority="normal"
    )
    urgent_due = NOW + timedelta(minutes=10)
    urgent = new_case(
        database,
        parent_id=parent_id,
        priority="critical",
        sla_due_at=urgent_due,
        also_central=True,
        created_at=NOW - timedelta(minutes=40),
    )
    closed = new_case(database, parent_id=parent_id, status="resolved", outcome="duplicate")
    _erase(database, parent)
    head = get_case(database, oldest)
    assert (head.parent_id, head.report_count, head.priority, head.sla_due_at) == (
        None,
        2,
        "critical",
        urgent_due,
    )
    assert head.also_central and head.status == "open"
    assert get_case(database, urgent).parent_id == head.id
    assert get_case(database, closed).parent_id == parent_id
    assert _kinds(database, oldest) == ["unlinked"]


async def test_staff_actions_on_an_erased_case_are_refused_with_409(
    database: Database, tmp_path: Path
) -> None:
    """Reply, resolve, transfer and escalate on an erased case: 409, nothing changes, nothing
    is sent; the dashboard's forms answer with the error flash."""
    seed_desks(database)
    contact = new_contact(database)
    ref = new_case(database, contact_id=contact)
    _erase(database, ref)
    new_staff(database, "Sara", "los-angeles", "supervisor")
    _, token = new_staff(database, "Ana", "los-angeles")
    attempts = {
        "reply": {"text": "hola"},
        "resolve": {"outcome": "helped"},
        "transfer": {"desk": "houston"},
        "escalate": {},
    }
    async with client(make_app(database, tmp_path)) as c:
        for action, body in attempts.items():
            answer = await c.post(f"/api/v1/cases/{ref}/{action}", json=body, headers=bearer(token))
            assert answer.status_code == 409, (action, answer.text)
        await log_in(c, "Sara")
        csrf = csrf_from((await c.get("/staff/")).text)
        form = await c.post(f"/staff/cases/{ref}/resolve", data={"outcome": "helped", "csrf": csrf})
        assert form.headers["location"] == f"/staff/cases/{ref}?m=error"
    case = get_case(database, ref)
    assert (case.status, case.desk_id, case.priority) == ("erased", "los-angeles", "normal")
    assert outbound(database) == []
    assert _kinds(database, ref) == ["erased"]


async def test_replying_to_a_resolved_case_is_an_illegal_move(
    database: Database, tmp_path: Path
) -> None:
    """A resolved case can be reopened by the person, not answered by staff: 409."""
    seed_desks(database)
    contact = new_contact(database)
    ref = new_case(database, contact_id=contact, status="resolved", resolved_at=NOW)
    _, token = new_staff(database, "Ana", "los-angeles")
    async with client(make_app(database, tmp_path)) as c:
        answer = await c.post(
            f"/api/v1/cases/{ref}/reply", json={"text": "hola"}, headers=bearer(token)
        )
    assert answer.status_code == 409 and "resolved" in answer.json()["detail"]
    assert get_case(database, ref).status == "resolved" and outbound(database) == []
