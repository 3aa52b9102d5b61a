"""FastAPI dependencies for the staff routes: services, the caller, and error translation.

The API authenticates `Authorization: Bearer <token>` (401 without, with a wrong, an expired
or a deactivated staff member's one); the dashboard reads its signed session cookie and
checks it against the staff member's session epoch. Core errors become HTTP statuses here:
NotFound → 404, Forbidden → 403, IllegalTransition → 409, Invalid → 422.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, HTTPException, Path, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from bot.config import Settings
from bot.db import Database
from bot.errors import Forbidden, IllegalTransition, NotFound
from bot.models import Staff, utcnow
from bot.staff.auth import staff_for_token
from bot.staff.errors import Invalid
from bot.staff.session import CookiePolicy, SessionLimits, SessionSigner, StaffSession


@dataclass(frozen=True, slots=True)
class StaffServices:
    """What the staff routes share: the database, settings and the session signer."""

    db: Database
    settings: Settings
    signer: SessionSigner

    @property
    def cookies(self) -> CookiePolicy:
        """The dashboard cookies' names and attributes (Secure and `__Host-` but locally)."""
        return CookiePolicy.from_settings(self.settings)

    @property
    def limits(self) -> SessionLimits:
        """The sessions' absolute and idle timeouts."""
        return SessionLimits.from_settings(self.settings)


def get_services(request: Request) -> StaffServices:
    """The staff services `mount_staff` put on the app."""
    services: StaffServices = request.app.state.staff
    return services


ServicesDep = Annotated[StaffServices, Depends(get_services)]
# A row id in a path: a number the database's integer columns can hold (422 otherwise).
RowId = Annotated[int, Path(ge=1, le=2**31 - 1)]
_bearer = HTTPBearer(auto_error=False)


def api_staff(
    services: ServicesDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Staff:
    """The staff member behind the bearer token (401 otherwise)."""
    unauthorised = HTTPException(
        status_code=401,
        detail="missing or invalid token",
        headers={"WWW-Authenticate": "Bearer"},
    )
    if credentials is None or credentials.scheme.lower() != "bearer":
        raise unauthorised
    with services.db.read() as session:
        staff = staff_for_token(session, credentials.credentials, utcnow())
    if staff is None:
        raise unauthorised
    return staff


ApiStaff = Annotated[Staff, Depends(api_staff)]


def read_session(request: Request, services: StaffServices) -> StaffSession | None:
    """The dashboard session in the request's cookie, if signed and within its timeouts."""
    cookie = request.cookies.get(services.cookies.session_name)
    return services.signer.load(cookie, utcnow(), services.limits)


def session_staff(services: StaffServices, session: StaffSession | None) -> Staff | None:
    """The active staff member a dashboard session belongs to, if no logout, password
    change or deactivation ended it (the session's epoch is still theirs)."""
    if session is None or session.staff_id is None:
        return None
    with services.db.read() as db_session:
        staff = db_session.get(Staff, session.staff_id)
    if staff is None or not staff.active or staff.session_epoch != session.epoch:
        return None
    return staff


@contextmanager
def http_errors() -> Iterator[None]:
    """Translate the core's errors into HTTP statuses."""
    try:
        yield
    except NotFound as exc:
        raise HTTPException(status_code=404, detail=str(exc)) from None
    except Forbidden as exc:
        raise HTTPException(status_code=403, detail=str(exc)) from None
    except IllegalTransition as exc:
        raise HTTPException(status_code=409, detail=str(exc)) from None
    except Invalid as exc:
        raise HTTPException(status_code=422, detail=str(exc)) from None
