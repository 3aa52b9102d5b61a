"""HTTP hardening through the real app: security headers on staff and web-chat pages, no
inline script or style, the body limit before any route or authentication, and the
operator pages (/metrics, /openapi.json) behind a token."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
from sqlmodel import select

from bot.db import Database
from bot.models import AuditEntry, InboundMessage
from tests.staff.support import bearer, log_in, new_case, new_staff, seed_desks

from .test_staff_sessions import browser, full_app

OPS_TOKEN = "ops-token-for-the-tests-0123456789abcdef"
INLINE = (
    re.compile(r"<script(?![^>]*\bsrc=)[^>]*>", re.I),  # a script element without src
    re.compile(r"<style", re.I),
    re.compile(r"\sstyle\s*=", re.I),
    re.compile(r"\son[a-z]+\s*=", re.I),  # onclick=, onload=, …
    re.compile(r"javascript:", re.I),
)


def assert_hardened(response: httpx.Response, *, cached: bool = False) -> None:
    """The headers every staff and chat response carries."""
    csp = response.headers["content-security-policy"]
    assert "frame-ancestors 'none'" in csp and "script-src 'self'" in csp
    assert "unsafe-inline" not in csp and "unsafe-eval" not in csp
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["referrer-policy"] == "no-referrer"
    assert response.headers["x-frame-options"] == "DENY"
    assert ("no-store" in response.headers.get("cache-control", "")) is not cached


async def test_staff_and_chat_pages_carry_the_security_headers(
    database: Database, tmp_path: Path
) -> None:
    """Every staff page, the API, and the web chat's page and messages: CSP without inline
    script, no framing, nosniff, no referrer, not stored in the browser's cache. Static
    files may be cached. No HSTS in local mode."""
    seed_desks(database)
    ref = new_case(database)
    _, token = new_staff(database, "Ana", "los-angeles")
    async with browser(full_app(database, tmp_path)) as c:
        login = await c.get("/staff/login")
        await log_in(c, "Ana")
        pages = [
            login,
            await c.get("/staff/"),
            await c.get(f"/staff/cases/{ref}"),
            await c.get("/staff/incidents"),
            await c.get("/staff/figures"),
            await c.get("/api/v1/queue", headers=bearer(token)),
            await c.get("/api/v1/queue"),  # 401
            await c.get("/"),
            await c.get("/?lang=en"),
            await c.get("/chat/messages", params={"session": "s" * 32}),
        ]
        static = [await c.get("/staff/static/staff.css"), await c.get("/chat/static/chat.js")]
    for response in pages:
        assert response.status_code in (200, 400, 401), response.request.url
        assert_hardened(response)
        assert "strict-transport-security" not in response.headers
    for response in static:
        assert response.status_code == 200
        assert_hardened(response, cached=True)


async def test_pages_hold_no_inline_script_style_or_handlers(
    database: Database, tmp_path: Path
) -> None:
    """The CSP allows only files: no page may need inline script, style or on* handlers."""
    seed_desks(database)
    ref = new_case(database)
    new_staff(database, "Ana", "los-angeles")
    async with browser(full_app(database, tmp_path)) as c:
        html = [(await c.get("/staff/login")).text, (await c.get("/")).text]
        await log_in(c, "Ana")
        for path in ("/staff/", f"/staff/cases/{ref}", "/staff/incidents", "/staff/figures"):
            html.append((await c.get(path)).text)
    for text in html:
        assert "<html" in text
        for pattern in INLINE:
            assert not pattern.search(text), pattern.pattern


async def test_hsts_outside_local_mode(database: Database, tmp_path: Path) -> None:
    """A deployment with an https public URL tells browsers to use https only."""
    app = full_app(database, tmp_path, public_url="https://hotline.example.org")
    async with browser(app, base_url="https://testserver") as c:
        page = await c.get("/staff/login")
    assert_hardened(page)
    assert page.headers["strict-transport-security"].startswith("max-age=")


ROUTES = (
    "/staff/login",
    "/staff/claim",
    "/staff/logout",
    "/api/v1/queue/claim",
    "/api/v1/cases/HL-7K4M2Q/reply",
    "/webhooks/telegram",
    "/webhooks/twilio/sms",
    "/webhooks/twilio/voice",
    "/chat/messages",
)


async def test_oversized_bodies_are_refused_before_any_route_or_authentication(
    database: Database, tmp_path: Path
) -> None:
    """A body over HOTLINE_MAX_BODY_BYTES gets 413 on every route, whether it declares its
    length or streams it, before a token, a CSRF token or a signature is looked at; the
    same routes answer small bodies themselves (401, 403, …) and nothing is stored."""
    seed_desks(database)
    new_staff(database, "Ana", "los-angeles")
    app = full_app(database, tmp_path, max_body_bytes=4096)
    form = {"content-type": "application/x-www-form-urlencoded"}

    async def streamed() -> AsyncIterator[bytes]:
        for _ in range(5):
            yield b"a=" + b"x" * 1000 + b"&"

    async with browser(app) as c:
        for path in ROUTES:
            small = await c.post(path, content=b"a=1", headers=form)
            assert small.status_code not in (413, 500), path
            declared = await c.post(path, content=b"a=" + b"x" * 5000, headers=form)
            assert declared.status_code == 413, path
            assert_hardened(declared)
            chunked = await c.post(path, content=streamed(), headers=form)
            assert chunked.status_code == 413, path
        big_login = await c.post(
            "/staff/login", data={"name": "Ana", "password": "x" * 5000, "csrf": "x"}
        )
    assert big_login.status_code == 413
    with database.read() as session:
        assert session.exec(select(InboundMessage)).first() is None
        assert [e.action for e in session.exec(select(AuditEntry)).all()] == []


async def test_operator_pages_need_the_operator_token(database: Database, tmp_path: Path) -> None:
    """With HOTLINE_OPS_TOKEN set, /metrics and /openapi.json answer 401 without it or
    with a wrong one, and 200 with it."""
    app = full_app(database, tmp_path, ops_token=OPS_TOKEN)
    async with browser(app) as c:
        for path in ("/metrics", "/openapi.json"):
            assert (await c.get(path)).status_code == 401
            assert (await c.get(path, headers=bearer("wrong" + OPS_TOKEN))).status_code == 401
            staff_token = await c.get(path, headers=bearer("hls_" + "a" * 43))
            assert staff_token.status_code == 401
            allowed = await c.get(path, headers=bearer(OPS_TOKEN))
            assert allowed.status_code == 200, path
        spec = (await c.get("/openapi.json", headers=bearer(OPS_TOKEN))).json()
    assert "/api/v1/queue" in spec["paths"]


async def test_operator_pages_are_off_in_production_without_a_token(
    database: Database, tmp_path: Path
) -> None:
    """Deployed (https public URL) without HOTLINE_OPS_TOKEN they do not exist; in local
    mode they are open, for a trial."""
    deployed = full_app(database, tmp_path, public_url="https://hotline.example.org")
    async with browser(deployed, base_url="https://testserver") as c:
        for path in ("/metrics", "/openapi.json", "/docs"):
            assert (await c.get(path)).status_code == 404
    async with browser(full_app(database, tmp_path)) as c:
        assert (await c.get("/metrics")).status_code == 200
        assert (await c.get("/openapi.json")).status_code == 200
