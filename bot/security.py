"""HTTP hardening for every route: security headers, a body-size limit, the operator pages.

`harden(app, settings)` wraps the whole app in three ASGI middlewares, outermost first:
- `SecurityHeaders`: every response gets a Content-Security-Policy without inline script or
  style (`'self'` only, `frame-ancestors 'none'`), `X-Content-Type-Options: nosniff`,
  `Referrer-Policy: no-referrer` (case references in URLs never leave), `X-Frame-Options`,
  `Cross-Origin-Opener-Policy` and `-Resource-Policy`, a `Permissions-Policy` that turns
  off camera, microphone and location, HSTS outside local mode, and `Cache-Control:
  no-store` on everything but the static files (staff pages, the API and the web chat's
  messages hold personal data; nothing may stay in a shared or seized browser's cache).
- `BodyLimit`: a request body over HOTLINE_MAX_BODY_BYTES gets 413 before any route,
  authentication or form parsing runs (declared by Content-Length or counted as it streams).
  Nothing legitimate is large: Twilio and Telegram media are fetched, never posted.
- `OpsGate`: `/metrics` and the API description (`/openapi.json`, `/docs`, `/redoc`) need
  `Authorization: Bearer <HOTLINE_OPS_TOKEN>` when that is set; without it they are open in
  local mode and do not exist (404) otherwise.
"""

from __future__ import annotations

import hmac
from typing import Final

from fastapi import FastAPI
from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from bot.config import Settings

CSP: Final = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; "
    "media-src 'self'; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; "
    "base-uri 'none'"
)
HEADERS: Final = {
    "Content-Security-Policy": CSP,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Cross-Origin-Resource-Policy": "same-origin",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=(), payment=()",
}
HSTS: Final = "max-age=31536000"
STATIC_PREFIXES: Final = ("/staff/static/", "/chat/static/")
OPS_PATHS: Final = frozenset({"/metrics", "/openapi.json", "/docs", "/redoc"})


def harden(app: FastAPI, settings: Settings) -> None:
    """Add the three middlewares of the module docstring to the app."""
    app.add_middleware(OpsGate, settings=settings)
    app.add_middleware(BodyLimit, limit=settings.max_body_bytes)
    app.add_middleware(SecurityHeaders, hsts=not settings.is_local)


class SecurityHeaders:
    """Add the security headers (and `no-store` but on static files) to every response."""

    def __init__(self, app: ASGIApp, *, hsts: bool) -> None:
        self.app = app
        self.headers = {**HEADERS, **({"Strict-Transport-Security": HSTS} if hsts else {})}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        cacheable = str(scope["path"]).startswith(STATIC_PREFIXES)

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in self.headers.items():
                    if name not in headers:  # a route's own, stricter policy stays
                        headers[name] = value
                if not cacheable:
                    headers["Cache-Control"] = "no-store"
            await send(message)

        await self.app(scope, receive, send_with_headers)


class BodyLimit:
    """Refuse request bodies over `limit` bytes with 413, on every route."""

    def __init__(self, app: ASGIApp, *, limit: int) -> None:
        self.app = app
        self.limit = limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Buffer up to the limit, then replay the body to the app."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope["headers"]).get(b"content-length", b"0")
        if declared.isdigit() and int(declared) > self.limit:
            await _plain(send, 413, b"payload too large")
            return
        chunks: list[bytes] = []
        size, more = 0, True
        while more:
            message = await receive()
            if message["type"] != "http.request":
                break
            chunks.append(message.get("body", b""))
            size += len(chunks[-1])
            more = message.get("more_body", False)
            if size > self.limit:
                await _plain(send, 413, b"payload too large")
                return
        body, sent = b"".join(chunks), False

        async def replay() -> Message:
            nonlocal sent
            if sent:
                return await receive()
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}

        await self.app(scope, replay, send)


class OpsGate:
    """`/metrics` and the API description: a bearer token, local mode, or nothing (404)."""

    def __init__(self, app: ASGIApp, *, settings: Settings) -> None:
        self.app = app
        token = settings.ops_token
        self.token = None if token is None else token.get_secret_value().encode("utf-8")
        self.open = settings.is_local

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] not in OPS_PATHS:
            await self.app(scope, receive, send)
            return
        if self.token is not None:
            scheme, _, given = dict(scope["headers"]).get(b"authorization", b"").partition(b" ")
            if scheme.lower() != b"bearer" or not hmac.compare_digest(given.strip(), self.token):
                await _plain(send, 401, b"operator token needed", bearer=True)
                return
        elif not self.open:
            await _plain(send, 404, b"not found")
            return
        await self.app(scope, receive, send)


async def _plain(send: Send, status: int, body: bytes, *, bearer: bool = False) -> None:
    headers = [(b"content-type", b"text/plain; charset=utf-8")]
    if bearer:
        headers.append((b"www-authenticate", b"Bearer"))
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})
