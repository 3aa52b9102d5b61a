"""What `hotline staff add` and `hotline queue` do (the CLI only parses and prints)."""

from __future__ import annotations

import json
from collections.abc import Iterator

from sqlmodel import col, func, select

from bot.db import Database
from bot.models import Desk, Staff, StaffRole, utcnow
from bot.staff.auth import MIN_PASSWORD_CHARS, hash_password, hash_token, new_token
from bot.staff.errors import Invalid
from bot.staff.queue import queue_items

QUEUE_FIELDS = (
    "ref",
    "intent",
    "priority",
    "desk",
    "status",
    "channel",
    "created_at",
    "sla_due_at",
    "report_count",
    "lang",
    "needs_review",
    "intake",
    "intake_step",
    "intake_finished",
)


def add_staff(
    db: Database,
    *,
    name: str,
    desk: str,
    role: str,
    password: str | None = None,
    legal_aid: bool = False,
) -> tuple[Staff, str]:
    """Create a staff account; return it and its API token (shown once, stored hashed).
    `legal_aid` staff hold consultations and see the deportation-risk screening answers."""
    name = name.strip()
    if not name:
        raise Invalid("the name is empty")
    if role not in {r.value for r in StaffRole}:
        raise Invalid(f"unknown role {role!r} (agent, supervisor or admin)")
    if password is not None and len(password) < MIN_PASSWORD_CHARS:
        raise Invalid(f"the password needs at least {MIN_PASSWORD_CHARS} characters")
    token = new_token()
    with db.write() as session:
        if session.get(Desk, desk) is None:
            raise Invalid(f"unknown desk {desk!r} (run `hotline db upgrade` to load the desks)")
        taken = session.exec(
            select(Staff.id).where(func.lower(col(Staff.name)) == name.lower())
        ).first()
        if taken is not None:
            raise Invalid(f"a staff member named {name!r} exists already (names are logins)")
        staff = Staff(
            name=name,
            desk_id=desk,
            role=StaffRole(role),
            token_hash=hash_token(token),
            password_hash=hash_password(password) if password else None,
            legal_aid=legal_aid,
            created_at=utcnow(),
        )
        session.add(staff)
        session.flush()
    return staff, token


def set_password(db: Database, *, name: str, password: str) -> None:
    """Set (or reset) a staff member's dashboard password and lift any lockout."""
    if len(password) < MIN_PASSWORD_CHARS:
        raise Invalid(f"the password needs at least {MIN_PASSWORD_CHARS} characters")
    with db.write() as session:
        staff = session.exec(
            select(Staff).where(func.lower(col(Staff.name)) == name.strip().lower())
        ).first()
        if staff is None:
            raise Invalid(f"no staff member named {name!r}")
        staff.password_hash = hash_password(password)
        staff.failed_logins, staff.locked_until = 0, None


def queue_lines(db: Database, desk: str | None, as_json: bool) -> Iterator[str]:
    """The open queue (one desk, or all) in queue order, intake unfinished included: JSON
    objects or aligned text lines (ending with the intake state and the review flag)."""
    with db.read() as session:
        items = queue_items(session, desk, now=utcnow(), limit=100_000)
    for item in items:
        values = item.model_dump(mode="json", include=set(QUEUE_FIELDS))
        if as_json:
            yield json.dumps({k: values[k] for k in QUEUE_FIELDS}, ensure_ascii=False)
        else:
            flags = [f"intake {item.intake}"] if item.intake else []
            flags += [f"step {item.intake_step}"] if item.intake and item.intake_step else []
            flags += ["needs review"] if item.needs_review else []
            yield (
                f"{item.ref}  {item.priority:<8}  {item.intent:<10}  {item.desk:<16}  "
                f"{item.status:<8}  {item.channel:<8}  {item.created_at:%Y-%m-%d %H:%M}"
                + "".join(f"  {flag}" for flag in flags)
            )
