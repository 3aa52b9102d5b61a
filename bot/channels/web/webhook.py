"""The web chat: a page at `/` and a small JSON API for it, no account needed.

The server issues each browser its session (`session.py`: a signed id in an HttpOnly,
SameSite=Strict cookie); the page asks for one with `POST /chat/session` when a message gets
401. `POST /chat/messages` stores a message in the inbox (idempotent on the browser's own
message id, scoped to the session) before answering 202; `GET /chat/messages?after=…`
returns the session's replies with a higher id, bot and staff alike, without taking the
write lock (`replies.py`), and says when the person's data was erased (BORRAR): the session
then ends in the browser too. `POST /chat/session/end` forgets the cookie ("clear this
conversation"; the conversation stays on the server unless the person sends BORRAR).

Every POST must be JSON from the page's own origin (`guard.py`), checked before anything is
written; new sessions and messages are limited per client address and overall, in the
database so every process shares the count (`limits.py`, `bot.clientaddr`). The page is
plain HTML with its script and styles in static files (no inline code), Spanish by default.
"""

from __future__ import annotations

import asyncio
import hashlib
import html
import json
import logging
import re
import string
import time
from pathlib import Path
from typing import Final

from fastapi import APIRouter, Request, Response
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse

from bot import i18n
from bot.channels.common import Services, accept
from bot.clientaddr import client_address
from bot.inbox import storable
from bot.types import Lang, as_lang

from .guard import refuse_foreign
from .limits import Limit, RateLimits, address_bucket, everyone_bucket
from .replies import DeliveryMarks, Readers, replies_after
from .session import Sessions

logger = logging.getLogger(__name__)

STATIC: Final = Path(__file__).resolve().parent / "static"
_MESSAGE_ID = re.compile(r"^[A-Za-z0-9_-]{8,64}$")
PAGE_KEYS: Final = (
    "title",
    "intro",
    "placeholder",
    "send",
    "sending",
    "not_sent",
    "offline",
    "privacy",
    "switch",
    "clear",
    "clear_confirm",
    "cleared",
    "ended",
)
NO_STORE: Final = {"Cache-Control": "no-store"}
MAX_ROW_ID: Final = 2**31 - 1  # the outbox's ids are 32-bit integers on PostgreSQL


def page(lang: Lang) -> str:
    """The chat page in `lang`, every text from the catalog."""
    texts = {key: i18n.t(f"channel.web.{key}", lang) for key in PAGE_KEYS}
    other: Lang = "en" if lang == "es" else "es"
    template = (STATIC / "chat.html").read_text(encoding="utf-8")
    values = {f"t_{k}": html.escape(v) for k, v in texts.items()}
    values.update(lang=lang, other=other, texts=html.escape(json.dumps(texts)))
    return string.Template(template).substitute(values)


def _error(error: str, status: int) -> JSONResponse:
    return JSONResponse({"error": error}, status_code=status, headers=NO_STORE)


def router(services: Services) -> APIRouter:
    """The page, its static files, and the session, send and receive endpoints."""
    routes = APIRouter()
    settings = services.settings
    sessions = Sessions.from_settings(settings)
    limits = RateLimits(services.db)
    marks = DeliveryMarks(services.db)
    readers = Readers()

    def limited(purpose: str, request: Request, per_address: int, overall: int) -> list[Limit]:
        address = client_address(request, settings)
        return [
            Limit(address_bucket(purpose, address), per_address),
            Limit(everyone_bucket(purpose), overall),
        ]

    @routes.get("/", include_in_schema=False)
    async def chat_page(lang: str = "es") -> HTMLResponse:
        """The web chat page (Spanish unless ?lang=en)."""
        return HTMLResponse(page(as_lang(lang)), headers=NO_STORE)

    @routes.get("/chat/static/{name}", include_in_schema=False)
    async def chat_static(name: str) -> Response:
        """The page's script and styles."""
        media_types = {"chat.js": "text/javascript", "chat.css": "text/css"}
        if name not in media_types:
            return Response(status_code=404)
        return FileResponse(STATIC / name, media_type=media_types[name])

    @routes.post("/chat/session", include_in_schema=False)
    async def chat_session(request: Request) -> Response:
        """Give this browser a session (201), or keep the valid one it has (200)."""
        if (refused := refuse_foreign(request, settings)) is not None:
            return refused
        now = time.time()
        if sessions.verify(sessions.presented(request), now) is not None:
            return JSONResponse({"session": True}, headers=NO_STORE)
        wanted = limited(
            "web.session",
            request,
            settings.web_sessions_per_address_per_minute,
            settings.web_sessions_per_minute,
        )
        try:
            allowed = await asyncio.to_thread(limits.allow, wanted, now=now)
        except Exception as exc:
            logger.error("web chat: could not start a session (%s)", type(exc).__name__)
            return _error("unavailable", 503)
        if not allowed:
            return _error("too_many", 429)
        _, value = sessions.issue(now)
        response = JSONResponse({"session": True}, status_code=201, headers=NO_STORE)
        sessions.set(response, value)
        return response

    @routes.post("/chat/session/end", include_in_schema=False)
    async def chat_session_end(request: Request) -> Response:
        """Forget this browser's session (the conversation stays on the server)."""
        if (refused := refuse_foreign(request, settings)) is not None:
            return refused
        response = JSONResponse({"session": False}, headers=NO_STORE)
        sessions.clear(response)
        return response

    @routes.post("/chat/messages", include_in_schema=False)
    async def chat_send(request: Request) -> Response:
        """Store one message from the browser (202), once per browser message id."""
        if (refused := refuse_foreign(request, settings)) is not None:
            return refused
        now = time.time()
        presented = sessions.presented(request)
        session_id = sessions.verify(presented, now)
        if session_id is None:
            return _no_session(sessions, forget=presented is not None)
        try:
            body = await request.json()
            message_id, text = str(body["id"]), body.get("text")
        except Exception:
            return _error("malformed", 400)
        if not _MESSAGE_ID.match(message_id) or not isinstance(text, str) or not text.strip():
            return _error("malformed", 400)
        text = storable(text)  # a lone surrogate ("\ud800" in the JSON) becomes U+FFFD
        wanted = limited(
            "web.message",
            request,
            settings.web_messages_per_address_per_minute,
            settings.web_messages_per_minute,
        )
        try:
            if not await asyncio.to_thread(limits.allow, wanted, now=now):
                return _error("too_many", 429)  # the page says "not sent yet" and retries
            stored = await accept(
                services,
                channel="web",
                provider_id=hashlib.sha256(f"{session_id}:{message_id}".encode()).hexdigest(),
                sender=session_id,
                text=text,
                payload={"chat_type": "private", "lang_hint": as_lang(body.get("lang"))},
            )
        except Exception as exc:
            logger.error("web chat: could not store message (%s)", type(exc).__name__)
            return _error("unavailable", 503)
        return JSONResponse(
            {"stored": True, "duplicate": stored is None}, status_code=202, headers=NO_STORE
        )

    @routes.get("/chat/messages", include_in_schema=False)
    async def chat_replies(request: Request, after: int = 0) -> Response:
        """The replies for this browser's session newer than `after`."""
        presented = sessions.presented(request)
        session_id = sessions.verify(presented, time.time())
        if session_id is None:
            if presented is not None:
                return _no_session(sessions, forget=True)
            return JSONResponse({"messages": [], "session": False}, headers=NO_STORE)
        after = min(max(after, 0), MAX_ROW_ID)  # beyond the column's range: a database error
        try:
            found = await readers.run(replies_after, services.db, session_id, after)
        except Exception as exc:
            logger.error("web chat: could not read replies (%s)", type(exc).__name__)
            return _error("unavailable", 503)
        marks.add(found.undelivered)
        response = JSONResponse(
            {"messages": found.messages, "session": True, "end": found.ended}, headers=NO_STORE
        )
        if found.ended:
            sessions.clear(response)
        return response

    return routes


def _no_session(sessions: Sessions, *, forget: bool) -> JSONResponse:
    """401: the page asks for a session (`POST /chat/session`) and sends again."""
    response = _error("session", 401)
    if forget:
        sessions.clear(response)
    return response
