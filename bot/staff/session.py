"""Dashboard sessions: a signed cookie holding the staff id, a CSRF token and the language.

The cookie is `base64url(json).base64url(HMAC-SHA256)` under a key derived (HKDF) from the
secret key for this purpose only, HttpOnly, SameSite=Lax and Secure when the public URL is
https. Every visitor gets one: before login it carries only the CSRF token for the login
form; logging in issues a new one (a new CSRF token, so a token seen before login is useless).
Each form posts the session's CSRF token back, compared in constant time.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import secrets
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any, Final

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

COOKIE_NAME: Final = "hotline_staff"
MAX_AGE: Final = timedelta(hours=12)


@dataclass(frozen=True, slots=True)
class StaffSession:
    """What the cookie says: who (None before login), the CSRF token, the language."""

    staff_id: int | None
    csrf: str
    lang: str
    issued: int  # Unix seconds

    def with_lang(self, lang: str) -> StaffSession:
        """The same session in another language."""
        return replace(self, lang=lang)


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class SessionSigner:
    """Signs and checks session cookies with a key derived from the secret key."""

    def __init__(self, secret: str) -> None:
        self._key = HKDF(
            algorithm=hashes.SHA256(), length=32, salt=b"hotline/v1", info=b"staff-session"
        ).derive(secret.encode("utf-8"))

    def new(self, staff_id: int | None, lang: str, now: datetime) -> StaffSession:
        """A fresh session with a new CSRF token."""
        return StaffSession(staff_id, secrets.token_urlsafe(24), lang, int(now.timestamp()))

    def dump(self, session: StaffSession) -> str:
        """The cookie value for the session."""
        body = json.dumps(
            {"s": session.staff_id, "c": session.csrf, "l": session.lang, "t": session.issued},
            separators=(",", ":"),
        ).encode("utf-8")
        return f"{_b64(body)}.{_b64(self._sign(body))}"

    def load(self, value: str | None, now: datetime) -> StaffSession | None:
        """The session in a cookie value, or None when unsigned, tampered with or expired."""
        if not value or value.count(".") != 1:
            return None
        body_text, signature_text = value.split(".")
        try:
            body, signature = _unb64(body_text), _unb64(signature_text)
        except (binascii.Error, ValueError):
            return None
        if not hmac.compare_digest(signature, self._sign(body)):
            return None
        try:
            data: dict[str, Any] = json.loads(body)
            session = StaffSession(
                staff_id=None if data["s"] is None else int(data["s"]),
                csrf=str(data["c"]),
                lang=str(data["l"]),
                issued=int(data["t"]),
            )
        except (ValueError, KeyError, TypeError):
            return None
        if now.timestamp() - session.issued > MAX_AGE.total_seconds():
            return None
        return session

    def _sign(self, body: bytes) -> bytes:
        return hmac.new(self._key, body, hashlib.sha256).digest()


def csrf_ok(session: StaffSession | None, submitted: str | None) -> bool:
    """True when the form's CSRF token is the session's."""
    if session is None or not submitted:
        return False
    return hmac.compare_digest(session.csrf.encode("utf-8"), submitted.encode("utf-8"))
