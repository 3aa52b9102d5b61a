"""What every channel's webhooks share: the services, storing in the inbox, the Twilio
signature check (the body limit is `bot.security`'s, for every route).

`accept` is the inbox-first step of every webhook: the inbox writer (`pipeline.Processor`)
stores the message (unique on the provider's id) and, optionally, does a channel's own
bookkeeping (an SMS STOP) in the same transaction — with every other message that arrived
meanwhile, and their processing; only after it commits is the provider answered 2xx. A
database error propagates so the route can answer 5xx and the provider retries.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from fastapi import Request
from starlette.datastructures import FormData
from twilio.request_validator import RequestValidator

from bot import crypto
from bot.config import Settings
from bot.db import Database
from bot.delivery import Sender
from bot.inbox import NewMessage
from bot.metrics import Metrics

from .pipeline import Extra, Processor

logger = logging.getLogger(__name__)


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
    stored = await services.processor.accept(
        NewMessage(channel, provider_id, sender, text, payload), extra
    )
    inbound_id = stored.inbound_id
    if inbound_id is None:
        services.metrics.inbound.labels(channel=channel, outcome="duplicate").inc()
        logger.info("%s: duplicate delivery from %s ignored", channel, log_id(channel, sender))
        return None
    services.metrics.inbound.labels(channel=channel, outcome="stored").inc()
    logger.info("%s: stored inbound %s from %s", channel, inbound_id, log_id(channel, sender))
    if stored.handled:
        services.sender.wake()
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
    """A short keyed hash of a sender, for logs (never the number or chat id itself, nor a
    prefix of the lookup hash the database keeps)."""
    return crypto.log_id(f"{channel}:{address}")
