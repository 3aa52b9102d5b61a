"""The web chat: a page at `/` and a small JSON API for it, no account needed.

The browser keeps a random session id (localStorage). `POST /chat/messages` stores a
message in the inbox (idempotent on the browser's own message id, scoped to the session)
before answering 202; `GET /chat/messages?session=…&after=…` returns the replies with a
higher id, bot and staff alike, and marks them delivered (`bot.outbox.mark_delivered`).
The page is plain HTML and a little JavaScript, Spanish by default, and may be embedded
in other sites.
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
from collections import deque
from pathlib import Path
from typing import Any, Final

from fastapi import APIRouter, Request, Response
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse
from sqlmodel import col, select

from bot import i18n
from bot.channels.common import Services, accept
from bot.contacts import find_contact
from bot.db import Database
from bot.models import OutboundMessage, OutboundStatus, utcnow
from bot.outbox import mark_delivered
from bot.types import Lang, as_lang

logger = logging.getLogger(__name__)

STATIC: Final = Path(__file__).resolve().parent / "static"
_TOKEN = re.compile(r"^[A-Za-z0-9_-]{16,64}$")  # the browser session id
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
)


def page(lang: Lang) -> str:
    """The chat page in `lang`, every text from the catalog."""
    texts = {key: i18n.t(f"channel.web.{key}", lang) for key in PAGE_KEYS}
    other: Lang = "en" if lang == "es" else "es"
    template = (STATIC / "chat.html").read_text(encoding="utf-8")
    values = {f"t_{k}": html.escape(v) for k, v in texts.items()}
    values.update(lang=lang, other=other, texts=html.escape(json.dumps(texts)))
    return string.Template(template).substitute(values)


def replies_after(
    db: Database, session_id: str, after: int, limit: int = 50
) -> list[dict[str, Any]]:
    """The replies to this web session with an id above `after`, marked delivered."""
    now = utcnow()
    with db.write() as session:
        contact = find_contact(session, "web", session_id)
        if contact is None:
            return []
        rows = session.exec(
            select(OutboundMessage)
            .where(
                OutboundMessage.contact_id == contact.id,
                col(OutboundMessage.id) > after,
                OutboundMessage.status != OutboundStatus.suppressed,
            )
            .order_by(col(OutboundMessage.id))
            .limit(limit)
        ).all()
        mark_delivered(
            session, [r.id for r in rows if r.id is not None and r.status == "pending"], now=now
        )
        return [{"id": r.id, "text": r.text, "options": r.options or []} for r in rows]


WEB_PER_ADDRESS_PER_MINUTE: Final = 120  # lenient: many people share one mobile-carrier address


class AddressLimit:
    """At most `per_minute` web-chat messages a minute from one client address."""

    def __init__(self, per_minute: int = WEB_PER_ADDRESS_PER_MINUTE) -> None:
        self.per_minute = per_minute
        self._hits: dict[str, deque[float]] = {}

    def allow(self, address: str, now: float) -> bool:
        """Count a message from `address`; False when it is over the limit."""
        if len(self._hits) > 50_000:  # forget idle addresses now and then
            self._hits = {a: h for a, h in self._hits.items() if h and now - h[-1] < 60}
        hits = self._hits.setdefault(address, deque())
        while hits and now - hits[0] >= 60:
            hits.popleft()
        if len(hits) >= self.per_minute:
            return False
        hits.append(now)
        return True


def router(services: Services) -> APIRouter:
    """The page, its script, and the send/receive endpoints."""
    routes = APIRouter()

    @routes.get("/", include_in_schema=False)
    async def chat_page(lang: str = "es") -> HTMLResponse:
        """The web chat page (Spanish unless ?lang=en)."""
        return HTMLResponse(page(as_lang(lang)), headers={"Cache-Control": "no-store"})

    @routes.get("/chat/static/chat.js", include_in_schema=False)
    async def chat_script() -> FileResponse:
        """The page's script."""
        return FileResponse(STATIC / "chat.js", media_type="text/javascript")

    limit = AddressLimit()

    @routes.post("/chat/messages", include_in_schema=False)
    async def chat_send(request: Request) -> Response:
        """Store one message from the browser (202), once per browser message id."""
        address = request.client.host if request.client else "unknown"
        if not limit.allow(address, time.monotonic()):
            # The browser picks its own session id, so per-person flood limits alone could
            # be dodged by a script; the page shows "not sent, try again".
            return JSONResponse({"error": "too_many"}, status_code=429)
        try:
            body = await request.json()
            session_id, message_id = str(body["session"]), str(body["id"])
            text = body.get("text")
        except Exception:
            return JSONResponse({"error": "malformed"}, status_code=400)
        if (
            not (_TOKEN.match(session_id) and _MESSAGE_ID.match(message_id))
            or not isinstance(text, str)
            or not text.strip()
        ):
            return JSONResponse({"error": "malformed"}, status_code=400)
        scoped = hashlib.sha256(f"{session_id}:{message_id}".encode()).hexdigest()
        payload = {"chat_type": "private", "lang_hint": as_lang(body.get("lang"))}
        try:
            stored = await accept(
                services,
                channel="web",
                provider_id=scoped,
                sender=session_id,
                text=text,
                payload=payload,
            )
        except Exception as exc:
            logger.error("web chat: could not store message (%s)", type(exc).__name__)
            return JSONResponse({"error": "unavailable"}, status_code=503)
        return JSONResponse({"stored": True, "duplicate": stored is None}, status_code=202)

    @routes.get("/chat/messages", include_in_schema=False)
    async def chat_replies(session: str, after: int = 0) -> Response:
        """The replies for this browser session newer than `after`."""
        if not _TOKEN.match(session):
            return JSONResponse({"error": "malformed"}, status_code=400)
        try:
            messages = await asyncio.to_thread(replies_after, services.db, session, after)
        except Exception as exc:
            logger.error("web chat: could not read replies (%s)", type(exc).__name__)
            return JSONResponse({"error": "unavailable"}, status_code=503)
        return JSONResponse({"messages": messages}, headers={"Cache-Control": "no-store"})

    return routes
