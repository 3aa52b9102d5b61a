"""Web-chat sessions: ids the server issues and signs, carried in an HttpOnly cookie.

A session value is `<id>.<issued>.<mac>`: 16 random bytes (base64url), the Unix second it
was issued, and an HMAC-SHA256 over both under a key derived (HKDF) from the service's secret
for this purpose only. Issuing stores nothing: the id becomes the web contact's address when
its first message is stored. A value the server did not sign, or one older than
`HOTLINE_WEB_SESSION_DAYS`, is no session. The page's script never sees the value.

The cookie is HttpOnly, SameSite=Strict, Path=/, and Secure with the `__Host-` prefix (no
Domain, so no sibling host can set or read it) — except in local mode (`Settings.is_local`:
a trial on http://127.0.0.1), where the browser would refuse a Secure cookie over http.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import secrets
from typing import Final

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from starlette.requests import HTTPConnection
from starlette.responses import Response

from bot.config import Settings, load_secret_key

COOKIE: Final = "hotline-chat"
_VALUE = re.compile(r"^([A-Za-z0-9_-]{22})\.(\d{1,12})\.([A-Za-z0-9_-]{43})$")


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


class Sessions:
    """Issue, check and set the web chat's session cookie."""

    def __init__(self, secret: str, *, days: int, secure: bool) -> None:
        self._key = HKDF(
            algorithm=hashes.SHA256(), length=32, salt=b"hotline/v1", info=b"web-chat-session"
        ).derive(secret.encode("utf-8"))
        self.max_age = days * 86400
        self.secure = secure
        self.cookie = f"__Host-{COOKIE}" if secure else COOKIE

    @classmethod
    def from_settings(cls, settings: Settings) -> Sessions:
        """Sessions under the service's secret; Secure unless in local mode."""
        secure = not settings.is_local
        return cls(load_secret_key(settings), days=settings.web_session_days, secure=secure)

    def issue(self, now: float) -> tuple[str, str]:
        """A new session: its id (the contact's address) and the signed cookie value."""
        session_id = _b64(secrets.token_bytes(16))
        issued = str(int(now))
        return session_id, f"{session_id}.{issued}.{self._mac(session_id, issued)}"

    def verify(self, value: str | None, now: float) -> str | None:
        """The session id in a cookie value this server signed and that has not expired."""
        match = _VALUE.match(value or "")
        if match is None:
            return None
        session_id, issued, mac = match.groups()
        if not hmac.compare_digest(mac, self._mac(session_id, issued)):
            return None
        if not 0 <= now - int(issued) < self.max_age:
            return None
        return session_id

    def presented(self, connection: HTTPConnection) -> str | None:
        """The raw cookie value the browser sent, if any."""
        return connection.cookies.get(self.cookie)

    def set(self, response: Response, value: str) -> None:
        """Give the browser its session cookie."""
        response.set_cookie(
            self.cookie,
            value,
            max_age=self.max_age,
            path="/",
            secure=self.secure,
            httponly=True,
            samesite="strict",
        )

    def clear(self, response: Response) -> None:
        """Make the browser forget its session cookie."""
        response.delete_cookie(
            self.cookie, path="/", secure=self.secure, httponly=True, samesite="strict"
        )

    def _mac(self, session_id: str, issued: str) -> str:
        message = f"{session_id}.{issued}".encode("ascii")
        return _b64(hmac.new(self._key, message, hashlib.sha256).digest())
