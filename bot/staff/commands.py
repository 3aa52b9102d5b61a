"""What `hotline staff …` and `hotline queue` do (the CLI only parses and prints)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import datetime

from sqlmodel import Session, col, func, select

from bot.db import Database
from bot.models import Desk, Staff, StaffRole, utcnow
from bot.staff import throttle
from bot.staff.access import audit
from bot.staff.auth import (
    MIN_PASSWORD_CHARS,
    TOKEN_DAYS,
    end_sessions,
    hash_password,
    issue_token,
    revoke_token,
    staff_by_name,
)
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
    token_days: int = TOKEN_DAYS,
) -> tuple[Staff, str]:
    """Create a staff account; return it and its API token (shown once, stored hashed,
    valid `token_days`). `legal_aid` staff hold consultations and see the deportation-risk
    screening answers."""
    name = name.strip()
    if not name:
        raise Invalid("the name is empty")
    if role not in {r.value for r in StaffRole}:
        raise Invalid(f"unknown role {role!r} (agent, supervisor or admin)")
    if password is not None and len(password) < MIN_PASSWORD_CHARS:
        raise Invalid(f"the password needs at least {MIN_PASSWORD_CHARS} characters")
    now = utcnow()
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
            token_hash="",
            password_hash=hash_password(password) if password else None,
            legal_aid=legal_aid,
            created_at=now,
        )
        token = issue_token(staff, now, token_days)
        session.add(staff)
        session.flush()
    return staff, token


def set_password(db: Database, *, name: str, password: str) -> None:
    """Set (or reset) a staff member's dashboard password: every session they had ends,
    and the login throttle forgets the failures counted against their name."""
    if len(password) < MIN_PASSWORD_CHARS:
        raise Invalid(f"the password needs at least {MIN_PASSWORD_CHARS} characters")
    hashed = hash_password(password)
    with db.write() as session:
        staff = _named(session, name)
        staff.password_hash = hashed
        end_sessions(session, _id(staff))
        throttle.forgive(session, throttle.account_counter(staff.name))
        audit(session, staff, "password_set", utcnow(), desk_id=staff.desk_id)


def rotate_token(db: Database, *, name: str, days: int = TOKEN_DAYS) -> tuple[Staff, str]:
    """Give the staff member a new API token (returned once) valid `days`; the old one
    stops working at once."""
    now = utcnow()
    with db.write() as session:
        staff = _named(session, name)
        if not staff.active:
            raise Invalid(f"{staff.name!r} is deactivated")
        token = issue_token(staff, now, days)
        audit(session, staff, "token_rotated", now, desk_id=staff.desk_id)
    return staff, token


def token_expiry(db: Database, *, name: str) -> datetime | None:
    """When the staff member's API token stops working (None: they have none)."""
    with db.read() as session:
        staff = _named(session, name)
        return staff.token_expires_at if staff.active else None


def deactivate_staff(db: Database, *, name: str) -> Staff:
    """Deactivate a staff account: its sessions end and its API token is destroyed at once;
    it can no longer log in. Cases it held go back to the queue when their claim runs out."""
    with db.write() as session:
        staff = _named(session, name)
        staff.active = False
        revoke_token(staff)
        end_sessions(session, _id(staff))
        audit(session, staff, "deactivated", utcnow(), desk_id=staff.desk_id)
    return staff


def _named(session: Session, name: str) -> Staff:
    staff = staff_by_name(session, name)
    if staff is None:
        raise Invalid(f"no staff member named {name!r}")
    return staff


def _id(staff: Staff) -> int:
    assert staff.id is not None
    return staff.id


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
