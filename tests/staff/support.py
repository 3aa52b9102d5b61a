"""Helpers for the staff tests: the app with `mount_staff`, desks, contacts, cases, staff."""

from __future__ import annotations

import itertools
import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
from fastapi import FastAPI
from sqlmodel import select

from bot.db import Database
from bot.engine.refs import ref_from_int
from bot.models import AuditEntry, Case, Contact, Desk, OutboundMessage
from bot.staff import mount_staff
from bot.staff.commands import add_staff
from bot.types import PRIORITY_RANK
from tests.conftest import make_settings

NOW = datetime.now(UTC).replace(second=0, microsecond=0)  # the routes read the real clock
PASSWORD = "correct horse battery"
DESKS = {
    "los-angeles": "America/Los_Angeles",
    "houston": "America/Chicago",
    "central": "America/Mexico_City",
}
_refs = itertools.count(1000)


def make_app(database: Database, tmp_path: Path, **settings: Any) -> FastAPI:
    """A FastAPI app with only the staff routes, on the test database."""
    app = FastAPI()
    mount_staff(app, database, make_settings(tmp_path, **settings))
    return app


@asynccontextmanager
async def client(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    """An in-process client for the app."""
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
        yield c


def seed_desks(db: Database) -> None:
    """Three desks: Los Angeles, Houston and central."""
    with db.write() as session:
        for desk_id, tz in DESKS.items():
            session.add(
                Desk(
                    id=desk_id,
                    name_es=desk_id,
                    name_en=desk_id,
                    city=desk_id,
                    state="CA",
                    timezone=tz,
                    is_central=desk_id == "central",
                )
            )


def new_staff(
    db: Database, name: str, desk: str, role: str = "agent", password: str | None = PASSWORD
) -> tuple[int, str]:
    """A staff account; returns its id and API token."""
    staff, token = add_staff(db, name=name, desk=desk, role=role, password=password)
    assert staff.id is not None
    return staff.id, token


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def new_contact(
    db: Database, channel: str = "sms", address: str = "+13105550123", lang: str = "es"
) -> int:
    """A contact on a channel."""
    with db.write() as session:
        contact = Contact(
            channel=channel,
            address_hash=f"h-{channel}-{address}",
            address=address,
            lang=lang,
            created_at=NOW - timedelta(hours=1),
        )
        session.add(contact)
        session.flush()
        assert contact.id is not None
        return contact.id


def new_case(
    db: Database,
    *,
    desk: str = "los-angeles",
    priority: str = "normal",
    contact_id: int | None = None,
    created_at: datetime | None = None,
    sla_due_at: datetime | None = None,
    **more: Any,
) -> str:
    """A case in the desk's queue; returns its reference."""
    created = created_at or NOW - timedelta(minutes=30)
    values: dict[str, Any] = {
        "ref": ref_from_int(next(_refs)),
        "contact_id": contact_id,
        "channel": "sms",
        "lang": "es",
        "desk_id": desk,
        "flow": "raid",
        "intent": "other",
        "priority": priority,
        "priority_rank": PRIORITY_RANK[priority],
        "reasons": ["test"],
        "summary": "Se llevaron a mi esposo",
        "created_at": created,
        "updated_at": created,
        "sla_due_at": sla_due_at or created + timedelta(hours=4),
    }
    values.update(more)
    with db.write() as session:
        session.add(Case(**values))
    return str(values["ref"])


def get_case(db: Database, ref: str) -> Case:
    with db.read() as session:
        case = session.exec(select(Case).where(Case.ref == ref)).first()
        assert case is not None
        return case


def audits(db: Database, action: str | None = None) -> list[AuditEntry]:
    with db.read() as session:
        query = select(AuditEntry).order_by(AuditEntry.id)  # type: ignore[arg-type]
        if action:
            query = query.where(AuditEntry.action == action)
        return list(session.exec(query).all())


def outbound(db: Database) -> list[OutboundMessage]:
    with db.read() as session:
        return list(session.exec(select(OutboundMessage).order_by(OutboundMessage.id)).all())  # type: ignore[arg-type]


def csrf_from(html: str) -> str:
    """The CSRF token in a page's first form."""
    match = re.search(r'name="csrf" value="([^"]+)"', html)
    assert match, "no CSRF field in the page"
    return match.group(1)


async def log_in(c: httpx.AsyncClient, name: str, password: str = PASSWORD) -> httpx.Response:
    """Open the login page and post the form with its CSRF token."""
    page = await c.get("/staff/login")
    return await c.post(
        "/staff/login", data={"name": name, "password": password, "csrf": csrf_from(page.text)}
    )
