"""The ASGI app: health check."""

from __future__ import annotations

from pathlib import Path

import httpx
from asgi_lifespan import LifespanManager

from bot.app import create_app
from bot.db import Database

from .conftest import make_settings


async def test_healthz_reports_database(database: Database, tmp_path: Path) -> None:
    """GET /healthz answers 200 with the database's name when it is reachable."""
    app = create_app(make_settings(tmp_path), database)
    async with LifespanManager(app) as manager:
        transport = httpx.ASGITransport(app=manager.app)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
            response = await client.get("/healthz")
    assert response.status_code == 200
    assert response.json()["status"] == "ok"


async def test_healthz_is_503_when_the_database_is_gone(tmp_path: Path) -> None:
    """GET /healthz answers 503 (not a traceback) when the database cannot be reached."""
    unreachable = Database("postgresql+psycopg://nobody@127.0.0.1:1/none?connect_timeout=1")
    app = create_app(make_settings(tmp_path), unreachable)
    async with LifespanManager(app) as manager:
        transport = httpx.ASGITransport(app=manager.app)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
            response = await client.get("/healthz")
    assert response.status_code == 503
    assert response.json()["status"] == "unavailable"
