"""Staff credentials: API tokens (stored as SHA-256, with an expiry), passwords (argon2id),
the login check behind the throttle, and ending a staff member's sessions.

API tokens are 256 random bits, shown once; only their SHA-256 is stored, so a stolen
database does not yield usable tokens (a keyed hash adds nothing for random tokens, and a
plain hash keeps tokens valid if the secret key is rotated). Each token stops working at
`Staff.token_expires_at` (HOTLINE_STAFF_TOKEN_DAYS after it was issued); a rotation
replaces it, a deactivation destroys it. Passwords are hashed with argon2id. Failed logins
slow down the address, the account name or the trusted browser they come from
(`bot.staff.throttle`); no number of failures locks the real person out.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Final

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import update
from sqlmodel import Session, col, func, select

from bot.db import Database
from bot.models import Staff
from bot.staff import throttle
from bot.staff.access import audit
from bot.staff.session import Device

TOKEN_PREFIX: Final = "hls_"
TOKEN_DAYS: Final = 90  # the default of HOTLINE_STAFF_TOKEN_DAYS
MIN_PASSWORD_CHARS: Final = 10

_HASHER = PasswordHasher()
# Verified against when the name is unknown, so a wrong name costs as much time as a wrong
# password and the response time does not tell which names exist.
_DUMMY_HASH: Final = _HASHER.hash("not-a-real-password")
_WRONG: Final = {"reason": "password"}


def new_token() -> str:
    """A fresh API token (shown once, never stored)."""
    return TOKEN_PREFIX + secrets.token_urlsafe(32)


def hash_token(token: str) -> str:
    """The stored form of an API token (hex SHA-256)."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def issue_token(staff: Staff, now: datetime, days: int = TOKEN_DAYS) -> str:
    """Give the staff member a new API token valid for `days` (the old one stops working)."""
    token = new_token()
    staff.token_hash, staff.token_expires_at = hash_token(token), now + timedelta(days=days)
    return token


def revoke_token(staff: Staff) -> None:
    """Destroy the staff member's API token (the stored hash is of a token nobody saw)."""
    staff.token_hash, staff.token_expires_at = hash_token(new_token()), None


def hash_password(password: str) -> str:
    """An argon2id hash of the password."""
    return _HASHER.hash(password)


def verify_password(stored: str | None, password: str) -> bool:
    """True when the password matches the stored hash."""
    try:
        return _HASHER.verify(stored or _DUMMY_HASH, password) and stored is not None
    except (VerificationError, InvalidHashError):
        return False


def staff_for_token(session: Session, token: str, now: datetime) -> Staff | None:
    """The active staff member holding this API token, if it has not expired."""
    if not token.startswith(TOKEN_PREFIX) or len(token) > 100:
        return None
    staff = session.exec(select(Staff).where(Staff.token_hash == hash_token(token))).first()
    if staff is None or not staff.active or staff.token_expires_at is None:
        return None
    return staff if staff.token_expires_at > now else None


def staff_by_name(session: Session, name: str) -> Staff | None:
    """The staff member with this name (compared without case or outer spaces)."""
    wanted = name.strip().lower()
    if not wanted:
        return None
    return session.exec(
        select(Staff).where(func.lower(col(Staff.name)) == wanted).order_by(col(Staff.id))
    ).first()


def end_sessions(session: Session, staff_id: int) -> None:
    """End every dashboard session of the staff member (their session epoch moves on)."""
    session.execute(
        update(Staff)
        .where(col(Staff.id) == staff_id)
        .values(session_epoch=col(Staff.session_epoch) + 1)
    )


@dataclass(frozen=True, slots=True)
class LoginResult:
    """The staff member who logged in, or None; `retry_after` > 0 when the attempt was
    refused by the throttle without looking at the password."""

    staff: Staff | None
    retry_after: int = 0


def check_login(
    db: Database,
    name: str,
    password: str,
    now: datetime,
    *,
    address: str,
    device: Device | None = None,
) -> LoginResult:
    """Check a login behind the throttle and write the attempt to the audit trail.

    The attempt is counted first (a short write), the slow password check runs outside any
    transaction (on SQLite a write transaction would hold every other writer while argon2
    works) and always runs once counted, so the time taken does not tell whether a name
    exists; a right password then takes its count back."""
    with db.read() as session:
        found = staff_by_name(session, name)
        staff_id = found.id if found is not None and found.active else None
        stored_hash = found.password_hash if staff_id is not None and found else None
    trusted = device.nonce if device and found and device.staff_id == found.id else None
    keys = throttle.counters(address=address, name=name, device=trusted)
    with db.write() as session:
        wait, refusing = throttle.take(session, keys, now)
        if wait:
            audit(
                session,
                found,
                "login_throttled",
                now,
                desk_id=_desk(found),
                detail={"by": refusing},
            )
            return LoginResult(None, retry_after=wait)
    right = verify_password(stored_hash, password)
    with db.write() as session:
        staff = session.get(Staff, staff_id) if staff_id is not None else None
        if staff is None or not staff.active:
            audit(session, None, "login_failed", now, detail={"reason": "unknown"})
            return LoginResult(None)
        if not right:
            audit(session, staff, "login_failed", now, desk_id=staff.desk_id, detail=_WRONG)
            return LoginResult(None)
        throttle.give_back(session, keys, now)
        audit(session, staff, "login", now, desk_id=staff.desk_id)
        return LoginResult(staff)


def _desk(staff: Staff | None) -> str | None:
    return staff.desk_id if staff is not None else None
