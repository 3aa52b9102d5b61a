"""Staff credentials: API tokens (stored as SHA-256), passwords (argon2id) and login lockout.

API tokens are 256 random bits, shown once; only their SHA-256 is stored, so a stolen
database does not yield usable tokens (a keyed hash adds nothing for random tokens, and a
plain hash keeps tokens valid if the secret key is rotated). Passwords are hashed with
argon2id. Five wrong passwords in a row lock the account for 15 minutes.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta
from typing import Final

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlmodel import Session, col, func, select

from bot.db import Database
from bot.models import AuditEntry, Staff

TOKEN_PREFIX: Final = "hls_"
MAX_FAILED_LOGINS: Final = 5
LOCKOUT: Final = timedelta(minutes=15)
MIN_PASSWORD_CHARS: Final = 10

_HASHER = PasswordHasher()
# Verified against when the name is unknown, so a wrong name costs as much time as a wrong
# password and the response time does not tell which names exist.
_DUMMY_HASH: Final = _HASHER.hash("not-a-real-password")


def new_token() -> str:
    """A fresh API token (shown once, never stored)."""
    return TOKEN_PREFIX + secrets.token_urlsafe(32)


def hash_token(token: str) -> str:
    """The stored form of an API token (hex SHA-256)."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def hash_password(password: str) -> str:
    """An argon2id hash of the password."""
    return _HASHER.hash(password)


def verify_password(stored: str | None, password: str) -> bool:
    """True when the password matches the stored hash."""
    try:
        return _HASHER.verify(stored or _DUMMY_HASH, password) and stored is not None
    except (VerificationError, InvalidHashError):
        return False


def staff_for_token(session: Session, token: str) -> Staff | None:
    """The active staff member holding this API token."""
    if not token.startswith(TOKEN_PREFIX):
        return None
    staff = session.exec(select(Staff).where(Staff.token_hash == hash_token(token))).first()
    return staff if staff is not None and staff.active else None


def staff_by_name(session: Session, name: str) -> Staff | None:
    """The staff member with this name (compared without case or outer spaces)."""
    wanted = name.strip().lower()
    if not wanted:
        return None
    return session.exec(
        select(Staff).where(func.lower(col(Staff.name)) == wanted).order_by(col(Staff.id))
    ).first()


def check_login(db: Database, name: str, password: str, now: datetime) -> Staff | None:
    """The staff member if the password is right and the account is not locked; counts
    failures, locks after five, and writes the attempt to the audit trail.

    The slow password check runs outside any transaction (on SQLite a write transaction
    would hold every other writer while argon2 works), and always runs, so the time taken
    does not tell whether a name exists or is locked. The outcome is then recorded on the
    locked staff row, so parallel wrong guesses all count."""
    with db.read() as session:
        found = staff_by_name(session, name)
        stored_hash = found.password_hash if found is not None and found.active else None
        staff_id = found.id if found is not None and found.active else None
    right = verify_password(stored_hash, password)
    with db.write() as session:
        staff = (
            session.exec(select(Staff).where(Staff.id == staff_id).with_for_update()).first()
            if staff_id is not None
            else None
        )
        if staff is None:
            session.add(AuditEntry(at=now, action="login_failed", detail={"reason": "unknown"}))
            return None
        if staff.locked_until is not None and staff.locked_until > now:
            _audit_failure(session, staff, now, {"reason": "locked"})
            return None
        if not right:
            staff.failed_logins += 1
            detail: dict[str, object] = {"reason": "password", "failures": staff.failed_logins}
            if staff.failed_logins >= MAX_FAILED_LOGINS:
                staff.locked_until, staff.failed_logins = now + LOCKOUT, 0
                detail["locked"] = True
            _audit_failure(session, staff, now, detail)
            return None
        staff.failed_logins, staff.locked_until = 0, None
        session.add(AuditEntry(at=now, staff_id=staff.id, action="login", desk_id=staff.desk_id))
        return staff


def _audit_failure(
    session: Session, staff: Staff, now: datetime, detail: dict[str, object]
) -> None:
    session.add(
        AuditEntry(
            at=now, staff_id=staff.id, action="login_failed", desk_id=staff.desk_id, detail=detail
        )
    )
