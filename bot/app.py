"""The ASGI application: the composition root that wires settings, database and routes."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from bot.config import Settings, load_secret_key
from bot.crypto import install_keyring
from bot.db import Database

logger = logging.getLogger(__name__)


def create_app(settings: Settings, database: Database | None = None) -> FastAPI:
    """Build the hotline's ASGI app; the database is migrated by the caller."""
    install_keyring(load_secret_key(settings))
    db = database or Database(settings.resolved_database_url)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        logger.info("hotline starting (database: %s)", db.engine.dialect.name)
        yield
        if database is None:
            db.dispose()
        logger.info("hotline stopped")

    app = FastAPI(
        title="Consular hotline",
        version="0.1.0",
        lifespan=lifespan,
        docs_url=None,
        redoc_url=None,
    )
    app.state.settings = settings
    app.state.db = db

    @app.get("/healthz", include_in_schema=False)
    async def healthz() -> JSONResponse:
        """Answer 200 when the database answers, 503 otherwise."""
        try:
            await run_in_threadpool(db.ping)
        except Exception:
            logger.exception("health check: database unavailable")
            return JSONResponse({"status": "unavailable", "database": "down"}, status_code=503)
        return JSONResponse({"status": "ok", "database": db.engine.dialect.name})

    return app
