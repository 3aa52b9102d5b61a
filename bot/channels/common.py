"""What every channel's webhooks share: the services, storing in the inbox, the Twilio
signature check, the body limit.

`accept` is the inbox-first step of every webhook: one write transaction stores the
message (unique on the provider's id) and, optionally, does a channel's own bookkeeping
(an SMS STOP) in the same transaction; only after it commits is the message handed to the
processor and the provider answered 2xx. A database error propagates so the route can
answer 5xx and the provider retries.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Final

from fastapi import Request
from sqlmodel import Session
from starlette.datastructures import FormData
from starlette.types import ASGIApp, Message, Receive, Scope, Send
from twilio.request_validator import RequestValidator

from bot.config import Settings
from bot.db import Database
from bot.delivery import Sender
from bot.inbox import sender_key, store_inbound
from bot.metrics import Metrics

from .pipeline import Processor

logger = logging.getLogger(__name__)

MAX_BODY_BYTES: Final = 64 * 1024
LIMITED_PREFIXES: Final = ("/webhooks/", "/chat/")

# Runs inside the storing transaction; returns True when the channel fully handled the
# message itself (it is then marked processed and never reaches the engine).
Extra = Callable[[Session, int], bool]


@dataclass(slots=True)
class Services:
    """The shared pieces a channel's routes need."""

    settings: Settings
    db: Database
    metrics: Metrics
    processor: Processor
    sender: Sender


async def accept(
    services: Services,
    *,
    channel: str,
    provider_id: str,
    sender: str,
    text: str,
    payload: dict[str, Any],
    extra: Extra | None = None,
) -> int | None:
    """Store the message and queue it for processing; None for an already stored duplicate."""

    def write() -> tuple[int | None, bool]:
        with services.db.write() as session:
            inbound_id = store_inbound(
                session,
                channel=channel,
                provider_id=provider_id,
                sender=sender,
                text=text,
                payload=payload,
                max_chars=services.settings.max_message_chars,
            )
            handled = inbound_id is not None and extra is not None and extra(session, inbound_id)
            return inbound_id, handled

    inbound_id, handled = await asyncio.to_thread(write)
    if inbound_id is None:
        services.metrics.inbound.labels(channel=channel, outcome="duplicate").inc()
        logger.info("%s: duplicate delivery from %s ignored", channel, log_id(channel, sender))
        return None
    services.metrics.inbound.labels(channel=channel, outcome="stored").inc()
    logger.info("%s: stored inbound %s from %s", channel, inbound_id, log_id(channel, sender))
    if handled:
        services.sender.wake()
    else:
        services.processor.submit(inbound_id, sender=f"{channel}:{sender}")
    return inbound_id


def twilio_signed(services: Services, request: Request, form: FormData) -> bool:
    """True when `X-Twilio-Signature` matches HOTLINE_PUBLIC_URL + path (+ query) and the
    posted form; False in local mode (no public URL) or without Twilio credentials."""
    settings = services.settings
    token = settings.twilio_auth_token
    signature = request.headers.get("X-Twilio-Signature", "")
    if token is None or not settings.public_url or not signature:
        return False
    if any(not isinstance(value, str) for _, value in form.multi_items()):
        return False
    url = settings.public_url + request.url.path
    if request.url.query:
        url += "?" + request.url.query
    return bool(RequestValidator(token.get_secret_value()).validate(url, form, signature))


def log_id(channel: str, address: str) -> str:
    """A short keyed hash of a sender, for logs (never the number or chat id itself)."""
    return sender_key(channel, address)[:12]


class BodyLimit:
    """Refuse request bodies over `limit` bytes on the public endpoints with 413."""

    def __init__(self, app: ASGIApp, limit: int = MAX_BODY_BYTES) -> None:
        self.app = app
        self.limit = limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Buffer up to the limit, then replay the body to the app."""
        if scope["type"] != "http" or not scope["path"].startswith(LIMITED_PREFIXES):
            await self.app(scope, receive, send)
            return
        declared = dict(scope["headers"]).get(b"content-length", b"0")
        if declared.isdigit() and int(declared) > self.limit:
            await _too_large(send)
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
                await _too_large(send)
                return
        body, sent = b"".join(chunks), False

        async def replay() -> Message:
            nonlocal sent
            if sent:
                return await receive()
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}

        await self.app(scope, replay, send)


async def _too_large(send: Send) -> None:
    await send(
        {
            "type": "http.response.start",
            "status": 413,
            "headers": [(b"content-type", b"text/plain; charset=utf-8")],
        }
    )
    await send({"type": "http.response.body", "body": b"payload too large"})
