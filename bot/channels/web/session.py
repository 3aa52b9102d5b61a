"""Web-chat sessions: ids the server issues and signs, carried in an HttpOnly cookie.

A session value is `<id>.<issued>.<mac>`: 16 random bytes (base64url), the Unix second it
was issued, and an HMAC-SHA256 over both under the keyring's key for this purpose
(`bot.crypto.derived_keys`: signed under the current secret, accepted under any secret of
the keyring, so a key rotation ends no conversation). Issuing stores nothing: the id becomes
the web contact's address when its first message is stored. A value the server did not sign,
or one older than `HOTLINE_WEB_SESSION_DAYS`, is no session. The page's script never sees
the value.

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

from starlette.requests import HTTPConnection
from starlette.responses import Response

from bot.config import Settings
from bot.crypto import derived_keys

COOKIE: Final = "hotline-chat"
_VALUE = re.compile(r"^([A-Za-z0-9_-]{22})\.(\d{1,12})\.([A-Za-z0-9_-]{43})$")


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


class Sessions:
    """Issue, check and set the web chat's session cookie."""

    def __init__(self, keys: tuple[bytes, ...], *, days: int, secure: bool) -> None:
        self._keys = keys  # sign with the first, accept any
        self.max_age = days * 86400
        self.secure = secure
        self.cookie = f"__Host-{COOKIE}" if secure else COOKIE

    @classmethod
    def from_settings(cls, settings: Settings) -> Sessions:
        """Sessions under the process's keyring; Secure unless in local mode."""
        keys = derived_keys("web-chat-session")
        return cls(keys, days=settings.web_session_days, secure=not settings.is_local)

    def issue(self, now: float) -> tuple[str, str]:
        """A new session: its id (the contact's address) and the signed cookie value."""
        session_id = _b64(secrets.token_bytes(16))
        issued = str(int(now))
        return session_id, f"{session_id}.{issued}.{self._mac(self._keys[0], session_id, issued)}"

    def verify(self, value: str | None, now: float) -> str | None:
        """The session id in a cookie value this server signed and that has not expired."""
        match = _VALUE.match(value or "")
        if match is None:
            return None
        session_id, issued, mac = match.groups()
        if not any(hmac.compare_digest(mac, self._mac(k, session_id, issued)) for k in self._keys):
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

    @staticmethod
    def _mac(key: bytes, session_id: str, issued: str) -> str:
        message = f"{session_id}.{issued}".encode("ascii")
        return _b64(hmac.new(key, message, hashlib.sha256).digest())
