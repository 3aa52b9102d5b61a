"""The staff JSON API: tokens, desk walls, audit, queue order, actions."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

from sqlmodel import select

from bot.db import Database
from bot.models import CaseEvent, Incident, IncidentState, Staff, utcnow

from .support import (
    NOW,
    audits,
    bearer,
    client,
    get_case,
    make_app,
    new_case,
    new_contact,
    new_staff,
    outbound,
    seed_desks,
)


async def test_api_refuses_missing_and_wrong_tokens(database: Database, tmp_path: Path) -> None:
    """401 without a token and with a wrong one."""
    seed_desks(database)
    async with client(make_app(database, tmp_path)) as c:
        assert (await c.get("/api/v1/queue")).status_code == 401
        assert (await c.get("/api/v1/queue", headers=bearer("hls_wrong"))).status_code == 401
        assert (await c.post("/api/v1/queue/claim", json={})).status_code == 401


async def test_desk_walls(database: Database, tmp_path: Path) -> None:
    """Agents see their own desk only; central supervisors and admins see all; central staff
    see cases marked also_central."""
    seed_desks(database)
    houston = new_case(database, desk="houston")
    flagged = new_case(database, desk="houston", priority="critical", also_central=True)
    _, la_agent = new_staff(database, "Ana", "los-angeles")
    _, central_agent = new_staff(database, "Beto", "central")
    _, central_sup = new_staff(database, "Carla", "central", "supervisor")
    _, admin = new_staff(database, "Dora", "houston", "admin")
    async with client(make_app(database, tmp_path)) as c:
        assert (
            await c.get(f"/api/v1/cases/{houston}", headers=bearer(la_agent))
        ).status_code == 403
        assert (
            await c.get("/api/v1/queue?desk=houston", headers=bearer(la_agent))
        ).status_code == 403
        assert (
            await c.post("/api/v1/queue/claim", json={"desk": "houston"}, headers=bearer(la_agent))
        ).status_code == 403
        assert (
            await c.post(
                f"/api/v1/cases/{houston}/notes", json={"text": "x"}, headers=bearer(la_agent)
            )
        ).status_code == 403
        assert (
            await c.get(f"/api/v1/cases/{houston}", headers=bearer(central_agent))
        ).status_code == 403
        assert (
            await c.get(f"/api/v1/cases/{flagged}", headers=bearer(central_agent))
        ).status_code == 200
        central_queue = await c.get("/api/v1/queue?desk=central", headers=bearer(central_agent))
        assert [i["ref"] for i in central_queue.json()] == [flagged]
        for token in (central_sup, admin):
            assert (
                await c.get(f"/api/v1/cases/{houston}", headers=bearer(token))
            ).status_code == 200
        assert (await c.get("/api/v1/cases/HL-ZZZZZZ", headers=bearer(admin))).status_code == 404


async def test_views_and_actions_are_audited_without_personal_data(
    database: Database, tmp_path: Path
) -> None:
    """Every view and action writes an audit entry naming staff and case, not the words."""
    seed_desks(database)
    contact = new_contact(database)
    ref = new_case(database, contact_id=contact, summary="Mi vecina Rosa Pérez, A123456789")
    staff_id, token = new_staff(database, "Ana", "los-angeles")
    async with client(make_app(database, tmp_path)) as c:
        body = (
            await c.get(f"/api/v1/cases/{ref.lower().replace('-', '')}", headers=bearer(token))
        ).json()
        assert body["summary"] == "Mi vecina Rosa Pérez, A123456789"
        await c.post(
            f"/api/v1/cases/{ref}/notes", json={"text": "Llamé a Rosa Pérez"}, headers=bearer(token)
        )
        await c.post(
            f"/api/v1/cases/{ref}/reply", json={"text": "Hola Rosa"}, headers=bearer(token)
        )
    case_id = get_case(database, ref).id
    entries = audits(database)
    assert [(e.action, e.staff_id, e.case_id) for e in entries] == [
        ("view", staff_id, case_id),
        ("note", staff_id, case_id),
        ("reply", staff_id, case_id),
    ]
    dumped = json.dumps([e.detail for e in entries])
    assert "Rosa" not in dumped and "A123456789" not in dumped


async def test_queue_order_folds_linked_reports(database: Database, tmp_path: Path) -> None:
    """Priority, then SLA target, then age; linked reports fold into their parent."""
    seed_desks(database)
    low = new_case(database, priority="low")
    late_high = new_case(database, priority="high", sla_due_at=NOW + timedelta(hours=2))
    soon_high = new_case(database, priority="high", sla_due_at=NOW + timedelta(hours=1))
    critical = new_case(database, priority="critical", report_count=2)
    parent_id = get_case(database, critical).id
    new_case(database, priority="critical", parent_id=parent_id)
    new_case(database, desk="houston", priority="critical")
    _, token = new_staff(database, "Ana", "los-angeles")
    async with client(make_app(database, tmp_path)) as c:
        items = (await c.get("/api/v1/queue", headers=bearer(token))).json()
    assert [i["ref"] for i in items] == [critical, soon_high, late_high, low]
    assert items[0]["report_count"] == 2


async def test_claim_takes_the_top_case_then_204(database: Database, tmp_path: Path) -> None:
    """A claim returns the most urgent case under a lease; an empty queue answers 204."""
    seed_desks(database)
    new_case(database, priority="normal")
    top = new_case(database, priority="critical")
    staff_id, token = new_staff(database, "Ana", "los-angeles")
    async with client(make_app(database, tmp_path)) as c:
        first = await c.post(
            "/api/v1/queue/claim", json={"desk": "los-angeles"}, headers=bearer(token)
        )
        assert first.status_code == 200
        assert first.json()["ref"] == top and first.json()["status"] == "claimed"
        assert first.json()["claimed_by"] == staff_id
        assert (
            await c.post("/api/v1/queue/claim", json={}, headers=bearer(token))
        ).status_code == 200
        assert (
            await c.post("/api/v1/queue/claim", json={"desk": "los-angeles"}, headers=bearer(token))
        ).status_code == 204
    assert [e.action for e in audits(database, "claim")] == ["claim", "claim"]


async def test_transfer_moves_the_case(database: Database, tmp_path: Path) -> None:
    """A transfer puts the case unclaimed in the other desk's queue, with the reason."""
    seed_desks(database)
    ref = new_case(database)
    _, la = new_staff(database, "Ana", "los-angeles")
    _, hou = new_staff(database, "Hugo", "houston")
    async with client(make_app(database, tmp_path)) as c:
        await c.post("/api/v1/queue/claim", json={}, headers=bearer(la))
        moved = await c.post(
            f"/api/v1/cases/{ref}/transfer",
            json={"desk": "houston", "reason": "vive en Texas"},
            headers=bearer(la),
        )
        assert moved.status_code == 200 and moved.json()["desk"] == "houston"
        assert (
            await c.post(
                f"/api/v1/cases/{ref}/transfer", json={"desk": "nowhere"}, headers=bearer(hou)
            )
        ).status_code == 422
        assert (await c.get(f"/api/v1/cases/{ref}", headers=bearer(la))).status_code == 403
        queue = (await c.get("/api/v1/queue", headers=bearer(hou))).json()
    assert [(i["ref"], i["status"], i["claimed_by"]) for i in queue] == [(ref, "open", None)]
    with database.read() as session:
        event = session.exec(select(CaseEvent).where(CaseEvent.kind == "transferred")).one()
    assert event.data == {"from": "los-angeles", "to": "houston", "reason": "vive en Texas"}
    assert audits(database, "transfer")[0].detail == {"from": "los-angeles", "to": "houston"}


async def test_reply_goes_to_the_outbox_on_the_persons_channel(
    database: Database, tmp_path: Path
) -> None:
    """A reply is an outbox row on the contact's channel; the case waits for the person."""
    seed_desks(database)
    contact = new_contact(database, channel="telegram", address="777", lang="en")
    ref = new_case(database, contact_id=contact, channel="telegram", lang="en")
    _, token = new_staff(database, "Ana", "los-angeles")
    async with client(make_app(database, tmp_path)) as c:
        sent = await c.post(
            f"/api/v1/cases/{ref}/reply", json={"text": "We are on it."}, headers=bearer(token)
        )
        assert sent.status_code == 200 and sent.json()["status"] == "waiting"
        canned = await c.post(
            f"/api/v1/cases/{ref}/reply", json={"canned": "received"}, headers=bearer(token)
        )
        assert canned.status_code == 200
        assert (
            await c.post(f"/api/v1/cases/{ref}/reply", json={}, headers=bearer(token))
        ).status_code == 422
    rows = outbound(database)
    assert (rows[0].contact_id, rows[0].channel, rows[0].text) == (
        contact,
        "telegram",
        "We are on it.",
    )
    assert ref in rows[1].text and "We received" in rows[1].text
    assert get_case(database, ref).first_response_at is not None


async def test_an_agent_cannot_act_on_a_case_another_holds(
    database: Database, tmp_path: Path
) -> None:
    """A live claim by someone else refuses an agent's reply (409), not a supervisor's."""
    seed_desks(database)
    contact = new_contact(database)
    ref = new_case(database, contact_id=contact)
    _, ana = new_staff(database, "Ana", "los-angeles")
    _, bea = new_staff(database, "Bea", "los-angeles")
    _, sup = new_staff(database, "Sara", "los-angeles", "supervisor")
    async with client(make_app(database, tmp_path)) as c:
        await c.post("/api/v1/queue/claim", json={}, headers=bearer(ana))
        assert (
            await c.post(f"/api/v1/cases/{ref}/reply", json={"text": "hola"}, headers=bearer(bea))
        ).status_code == 409
        assert (
            await c.post(f"/api/v1/cases/{ref}/reply", json={"text": "hola"}, headers=bearer(sup))
        ).status_code == 200


async def test_resolve_closes_linked_reports(database: Database, tmp_path: Path) -> None:
    """Resolving a case resolves the reports folded into it; an unknown outcome is refused."""
    seed_desks(database)
    parent = new_case(database, report_count=2)
    child = new_case(database, parent_id=get_case(database, parent).id)
    _, token = new_staff(database, "Ana", "los-angeles")
    async with client(make_app(database, tmp_path)) as c:
        assert (
            await c.post(
                f"/api/v1/cases/{parent}/resolve", json={"outcome": "magic"}, headers=bearer(token)
            )
        ).status_code == 422
        done = await c.post(
            f"/api/v1/cases/{parent}/resolve",
            json={"outcome": "helped", "note": "ok"},
            headers=bearer(token),
        )
        assert done.json()["status"] == "resolved"
        assert (
            await c.post(
                f"/api/v1/cases/{parent}/resolve", json={"outcome": "helped"}, headers=bearer(token)
            )
        ).status_code == 409
    assert get_case(database, child).status == "resolved"
    assert get_case(database, child).outcome == "helped"


async def test_incidents_are_listed_and_verified(database: Database, tmp_path: Path) -> None:
    """Staff list a desk's incidents and mark one confirmed; other desks may not."""
    seed_desks(database)
    with database.write() as session:
        incident = Incident(
            desk_id="los-angeles",
            zip="90011",
            first_report_at=NOW,
            last_report_at=NOW,
            report_count=3,
            reporter_count=3,
            state=IncidentState.corroborated,
        )
        session.add(incident)
        session.flush()
        incident_id = incident.id
    ref = new_case(database, intent="raid", incident_id=incident_id, report_count=3)
    _, la = new_staff(database, "Ana", "los-angeles")
    _, hou = new_staff(database, "Hugo", "houston")
    async with client(make_app(database, tmp_path)) as c:
        listed = (await c.get("/api/v1/incidents", headers=bearer(la))).json()
        queue = (await c.get("/api/v1/queue", headers=bearer(la))).json()
        refused = await c.post(
            f"/api/v1/incidents/{incident_id}/verify", json={"state": "false"}, headers=bearer(hou)
        )
        verified = await c.post(
            f"/api/v1/incidents/{incident_id}/verify",
            json={"state": "confirmed", "note": "visto"},
            headers=bearer(la),
        )
    assert listed[0]["report_count"] == 3 and listed[0]["primary_ref"] == ref
    assert queue[0]["incident_reports"] == 3 and queue[0]["incident_state"] == "corroborated"
    assert refused.status_code == 403
    assert verified.json()["state"] == "confirmed" and verified.json()["note"] == "visto"
    assert audits(database, "verify_incident")[0].incident_id == incident_id


async def test_openapi_describes_the_staff_api(database: Database, tmp_path: Path) -> None:
    """The routes and their response models appear in /openapi.json."""
    async with client(make_app(database, tmp_path)) as c:
        spec = (await c.get("/openapi.json")).json()
    for path in (
        "/api/v1/queue",
        "/api/v1/queue/claim",
        "/api/v1/cases/{ref}",
        "/api/v1/cases/{ref}/reply",
        "/api/v1/cases/{ref}/resolve",
    ):
        assert path in spec["paths"]
    assert "CaseDetail" in spec["components"]["schemas"]
    assert not any(p.startswith("/staff") for p in spec["paths"])


async def test_an_agent_cannot_release_a_colleagues_case(
    database: Database, tmp_path: Path
) -> None:
    """Only the holder (or a supervisor) gives a claimed case back; a colleague gets 409."""
    seed_desks(database)
    ref = new_case(database, priority="critical")
    _, ana = new_staff(database, "Ana", "los-angeles")
    _, bea = new_staff(database, "Bea", "los-angeles")
    _, sup = new_staff(database, "Sol", "los-angeles", role="supervisor")
    async with client(make_app(database, tmp_path)) as c:
        claimed = await c.post(
            "/api/v1/queue/claim", json={"desk": "los-angeles"}, headers=bearer(ana)
        )
        assert claimed.json()["ref"] == ref
        taken = await c.post(f"/api/v1/cases/{ref}/release", headers=bearer(bea))
        assert taken.status_code == 409
        assert (
            await c.post("/api/v1/queue/claim", json={"desk": "los-angeles"}, headers=bearer(bea))
        ).status_code == 204
        released = await c.post(f"/api/v1/cases/{ref}/release", headers=bearer(sup))
        assert released.status_code == 200


def test_an_action_sees_a_claim_committed_after_it_started(database: Database) -> None:
    """A reply checks the case as it is now: a colleague's fresh claim is respected (409)."""
    import pytest

    from bot.errors import IllegalTransition
    from bot.staff import actions
    from bot.staff.queue import claim_next

    seed_desks(database)
    ref = new_case(database, priority="critical")
    _, _ = new_staff(database, "Ana", "los-angeles")
    _, _ = new_staff(database, "Bea", "los-angeles")
    with database.read() as session:
        ana = session.exec(select(Staff).where(Staff.name == "Ana")).one()
        bea = session.exec(select(Staff).where(Staff.name == "Bea")).one()
    now = utcnow()
    assert claim_next(database, ana, "los-angeles", now) is not None
    with pytest.raises(IllegalTransition), database.write() as session:
        case = actions.case_for(session, bea, ref)
        actions.reply(session, bea, case, now, text="hola")
