"""Dashboard sessions: a signed cookie checked against the staff member's session epoch.

The cookie is `base64url(json).base64url(HMAC-SHA256)` under a key derived (HKDF) from the
secret key for this purpose only. It holds the staff id (None before login), the staff
member's session epoch at login, the CSRF token, the language, when it was issued and when
its holder last opened a page. Every visitor gets one: before login it carries only the
CSRF token for the login form; logging in issues a new one (a new CSRF token, so a token
seen before login is useless). Each form posts the session's CSRF token back, compared in
constant time.

A session ends when any of these holds:
- the staff member's `session_epoch` moved on: logout, a password change and deactivation
  bump it, so every cookie issued before is refused at once, in every process;
- it was issued more than HOTLINE_STAFF_SESSION_HOURS ago (absolute timeout);
- its holder opened no page for HOTLINE_STAFF_IDLE_MINUTES (idle timeout; the queue's own
  auto-refresh does not count as opening a page).

Why an epoch and not a table of sessions: every request already reads the staff row to know
who is asking and whether they are active, so comparing one integer costs nothing more; a
session table would add a write on every page (to track idleness), a sweep to purge it, and
one more place holding who worked when. What the epoch cannot do is end one device and keep
another: logging out ends every session of that person. For staff whose laptop or phone may
be lost or seized that is the safer default, and it is what "log out" means here.

Cookies are HttpOnly and SameSite=Lax. Outside local mode (`Settings.is_local`) they are
also Secure and named with the `__Host-` prefix (so no other host or path can set them) and
scoped to `/`; in local mode (plain http on 127.0.0.1) they are plain and scoped to `/staff`.

A second, long-lived cookie marks a browser where a staff member logged in before (a
"trusted device", OWASP's device cookie): it grants nothing by itself, but the login
throttle (`bot.staff.throttle`) judges such a browser by its own failures only.
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

from bot.config import Settings

DEVICE_LIFETIME: Final = timedelta(days=180)


@dataclass(frozen=True, slots=True)
class CookiePolicy:
    """Names and attributes of the dashboard's cookies, from the settings."""

    secure: bool

    @classmethod
    def from_settings(cls, settings: Settings) -> CookiePolicy:
        """Secure, `__Host-` cookies everywhere but local mode."""
        return cls(secure=not settings.is_local)

    @property
    def session_name(self) -> str:
        return "__Host-hotline_staff" if self.secure else "hotline_staff"

    @property
    def device_name(self) -> str:
        return "__Host-hotline_device" if self.secure else "hotline_device"

    @property
    def path(self) -> str:
        return "/" if self.secure else "/staff"  # `__Host-` requires Path=/


@dataclass(frozen=True, slots=True)
class SessionLimits:
    """How long a dashboard session may last in all, and without a page being opened."""

    absolute: timedelta
    idle: timedelta

    @classmethod
    def from_settings(cls, settings: Settings) -> SessionLimits:
        return cls(
            absolute=timedelta(hours=settings.staff_session_hours),
            idle=timedelta(minutes=settings.staff_idle_minutes),
        )


@dataclass(frozen=True, slots=True)
class StaffSession:
    """What the cookie says: who (None before login) at which epoch, the CSRF token, the
    language, when it was issued and when a page was last opened (Unix seconds)."""

    staff_id: int | None
    epoch: int
    csrf: str
    lang: str
    issued: int
    seen: int

    def with_lang(self, lang: str) -> StaffSession:
        """The same session in another language."""
        return replace(self, lang=lang)

    def touched(self, now: datetime) -> StaffSession:
        """The same session, with a page opened now."""
        return replace(self, seen=int(now.timestamp()))


@dataclass(frozen=True, slots=True)
class Device:
    """A browser where this staff member logged in: `nonce` names it to the throttle."""

    staff_id: int
    nonce: str


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class _Seal:
    """HMAC-signed JSON under a key derived for one purpose."""

    def __init__(self, secret: str, purpose: bytes) -> None:
        self._key = HKDF(
            algorithm=hashes.SHA256(), length=32, salt=b"hotline/v1", info=purpose
        ).derive(secret.encode("utf-8"))

    def dump(self, data: dict[str, Any]) -> str:
        body = json.dumps(data, separators=(",", ":")).encode("utf-8")
        return f"{_b64(body)}.{_b64(self._sign(body))}"

    def load(self, value: str | None) -> dict[str, Any] | None:
        if not value or value.count(".") != 1 or len(value) > 1024:
            return None
        body_text, signature_text = value.split(".")
        try:
            body, signature = _unb64(body_text), _unb64(signature_text)
        except (binascii.Error, ValueError):
            return None
        if not hmac.compare_digest(signature, self._sign(body)):
            return None
        try:
            data = json.loads(body)
        except ValueError:
            return None
        return data if isinstance(data, dict) else None

    def _sign(self, body: bytes) -> bytes:
        return hmac.new(self._key, body, hashlib.sha256).digest()


class SessionSigner:
    """Signs and checks session and device cookies with keys derived from the secret key."""

    def __init__(self, secret: str) -> None:
        self._session = _Seal(secret, b"staff-session")
        self._device = _Seal(secret, b"staff-device")

    def new(self, staff_id: int | None, lang: str, now: datetime, epoch: int = 0) -> StaffSession:
        """A fresh session with a new CSRF token."""
        at = int(now.timestamp())
        return StaffSession(staff_id, epoch, secrets.token_urlsafe(24), lang, at, at)

    def dump(self, session: StaffSession) -> str:
        """The cookie value for the session."""
        return self._session.dump(
            {
                "s": session.staff_id,
                "e": session.epoch,
                "c": session.csrf,
                "l": session.lang,
                "t": session.issued,
                "v": session.seen,
            }
        )

    def load(self, value: str | None, now: datetime, limits: SessionLimits) -> StaffSession | None:
        """The session in a cookie value, or None when unsigned, tampered with, or past its
        absolute or (once logged in) idle timeout. The epoch is checked by the caller."""
        data = self._session.load(value)
        if data is None:
            return None
        try:
            session = StaffSession(
                staff_id=None if data["s"] is None else int(data["s"]),
                epoch=int(data["e"]),
                csrf=str(data["c"]),
                lang=str(data["l"]),
                issued=int(data["t"]),
                seen=int(data["v"]),
            )
        except (ValueError, KeyError, TypeError):
            return None
        at = now.timestamp()
        if at - session.issued > limits.absolute.total_seconds():
            return None
        if session.staff_id is not None and at - session.seen > limits.idle.total_seconds():
            return None
        return session

    def new_device(self, staff_id: int, now: datetime) -> str:
        """A device cookie value for a browser that just logged in."""
        return self._device.dump(
            {"d": staff_id, "n": secrets.token_urlsafe(18), "t": int(now.timestamp())}
        )

    def load_device(self, value: str | None, now: datetime) -> Device | None:
        """The device a cookie names, or None when forged or older than its lifetime."""
        data = self._device.load(value)
        if data is None:
            return None
        try:
            device = Device(staff_id=int(data["d"]), nonce=str(data["n"]))
            issued = int(data["t"])
        except (ValueError, KeyError, TypeError):
            return None
        if now.timestamp() - issued > DEVICE_LIFETIME.total_seconds():
            return None
        return device


def csrf_ok(session: StaffSession | None, submitted: str | None) -> bool:
    """True when the form's CSRF token is the session's."""
    if session is None or not submitted:
        return False
    return hmac.compare_digest(session.csrf.encode("utf-8"), submitted.encode("utf-8"))
