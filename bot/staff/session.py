"""Dashboard sessions: a signed cookie checked against the staff member's session epoch.

The cookie is `base64url(json).base64url(HMAC-SHA256)` under the keyring's key for this
purpose (`bot.crypto.derived_keys`): signed with the current secret's key, accepted under
any secret of the keyring, so a key rotation logs nobody out. It holds the staff id (None
before login), the staff member's session epoch at login, the CSRF token, the language, when
it was issued and when its holder last opened a page. Every visitor gets one: before login
it carries only the CSRF token for the login form; logging in issues a new one (a new CSRF
token, so a token seen before login is useless). Each form posts the session's CSRF token
back, compared in constant time.

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

from bot.config import Settings
from bot.crypto import derived_keys

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
    """HMAC-signed JSON: signed with the first key, accepted under any."""

    def __init__(self, keys: tuple[bytes, ...]) -> None:
        self._keys = keys

    def dump(self, data: dict[str, Any]) -> str:
        body = json.dumps(data, separators=(",", ":")).encode("utf-8")
        return f"{_b64(body)}.{_b64(self._sign(self._keys[0], body))}"

    def load(self, value: str | None) -> dict[str, Any] | None:
        if not value or value.count(".") != 1 or len(value) > 1024:
            return None
        body_text, signature_text = value.split(".")
        try:
            body, signature = _unb64(body_text), _unb64(signature_text)
        except (binascii.Error, ValueError):
            return None
        if not any(hmac.compare_digest(signature, self._sign(key, body)) for key in self._keys):
            return None
        try:
            data = json.loads(body)
        except ValueError:
            return None
        return data if isinstance(data, dict) else None

    @staticmethod
    def _sign(key: bytes, body: bytes) -> bytes:
        return hmac.new(key, body, hashlib.sha256).digest()


class SessionSigner:
    """Signs and checks session and device cookies with the keyring's keys for each."""

    def __init__(self, session_keys: tuple[bytes, ...], device_keys: tuple[bytes, ...]) -> None:
        self._session = _Seal(session_keys)
        self._device = _Seal(device_keys)

    @classmethod
    def from_keyring(cls) -> SessionSigner:
        """A signer under the process's keyring (`bot.crypto.install_keyring` has run)."""
        return cls(derived_keys("staff-session"), derived_keys("staff-device"))

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
