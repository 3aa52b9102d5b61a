"""`mount_staff`: add the staff API, the dashboard and its static files to an app."""

from __future__ import annotations

from pathlib import Path
from typing import Final

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from bot.config import Settings
from bot.db import Database
from bot.staff import api, consultations_api, consultations_web, web
from bot.staff.deps import StaffServices
from bot.staff.session import SessionSigner

STATIC_DIR: Final = Path(__file__).resolve().parent / "static"


def mount_staff(app: FastAPI, db: Database, settings: Settings) -> None:
    """Serve `/api/v1` (bearer tokens) and `/staff/` (the dashboard) from `app`."""
    app.state.staff = StaffServices(db=db, settings=settings, signer=SessionSigner.from_keyring())
    app.include_router(api.router)
    app.include_router(consultations_api.router)
    app.include_router(web.router)
    app.include_router(consultations_web.router)
    app.mount("/staff/static", StaticFiles(directory=STATIC_DIR), name="staff-static")
