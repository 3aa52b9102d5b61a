"""SMS and WhatsApp in: signed Twilio Messaging webhooks into the inbox.

Every webhook is checked against `X-Twilio-Signature` for HOTLINE_PUBLIC_URL + path (+ query)
before its form is read; without a public URL (local mode) the endpoints refuse with 403.
Inbound messages are answered with empty TwiML: replies go through the outbox and the REST
client. Single-word STOP/START/HELP keywords (English and Spanish, the channel type's
words) are handled in the storing transaction, their confirmations queued like any reply.
"""

from __future__ import annotations

import asyncio
import logging
import re
import unicodedata
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Final, Literal

from fastapi import APIRouter, Request, Response
from sqlmodel import Session
from starlette.datastructures import FormData

from bot import i18n
from bot.channels.common import Services, accept, twilio_signed
from bot.channels.media import in_background
from bot.channels.registry import channel_type
from bot.channels.twilio_sms.media import fetch_and_store
from bot.contacts import find_contact, get_or_create_contact, set_opted_out
from bot.engine.model import Reply
from bot.models import InboundMessage, InboundStatus, utcnow
from bot.outbox import OPT_OUT_NOTICE, record_status
from bot.outgoing import queue_replies
from bot.types import as_lang

from .transport import STATUS_PATH

logger = logging.getLogger(__name__)

SMS_PATH: Final = "/webhooks/twilio/sms"
EMPTY_TWIML: Final = '<?xml version="1.0" encoding="UTF-8"?><Response></Response>'
SPANISH_WORDS: Final = frozenset({"ALTO", "PARAR", "BAJA", "ALTA", "AYUDA"})
# Twilio's opt-in words that are also ordinary answers to a yes/no question.
ANSWER_WORDS: Final = frozenset({"YES"})
# Words Twilio itself answers on an SMS long code (its own confirmation goes out).
TWILIO_ANSWERS: Final = frozenset(
    {"START", "UNSTOP", "YES", "STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT"}
)
Keyword = Literal["stop", "start", "help"]
MAX_SID: Final = 64  # Twilio's ids have 34 characters; the inbox keeps 80 at most


@dataclass(frozen=True, slots=True)
class TwilioInbound:
    """A Twilio message translated for the inbox."""

    provider_id: str
    channel: Literal["sms", "whatsapp"]
    sender: str
    text: str
    payload: dict[str, Any] = field(default_factory=dict)


def keyword(text: str, channel: str = "sms") -> tuple[Keyword, str] | None:
    """The opt-out keyword a single-word message is (any case, accents ignored), if any."""
    kind_of = channel_type(channel)
    folded = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    word = re.sub(r"[\s.!?¡¿,;:]+", "", folded).upper()
    if not re.fullmatch(r"[A-Z]{2,12}", word) or len(text.split()) != 1:
        return None
    for kind, words in (
        ("stop", kind_of.stop_words),
        ("start", kind_of.start_words),
        ("help", kind_of.help_words),
    ):
        if word in words:
            return kind, word  # type: ignore[return-value]
    return None


def translate(form: FormData) -> TwilioInbound | None:
    """The inbox fields of an inbound message form; None when it is not a message."""
    sid = str(form.get("MessageSid") or form.get("SmsSid") or "")
    sender = str(form.get("From") or "")
    if not sid or not sender or len(sid) > MAX_SID:
        return None
    channel: Literal["sms", "whatsapp"] = "sms"
    if sender.lower().startswith("whatsapp:"):
        channel, sender = "whatsapp", sender.split(":", 1)[1]
    media = []
    count = str(form.get("NumMedia") or "0")
    for index in range(min(_plain_int(count) or 0, 10)):
        url, kind = (
            str(form.get(f"MediaUrl{index}") or ""),
            str(form.get(f"MediaContentType{index}") or ""),
        )
        if url:
            media.append({"kind": _media_kind(kind), "ref": url, "content_type": kind})
    payload: dict[str, Any] = {
        "chat_type": "private",
        "media": media,
        "display_name": str(form.get("ProfileName") or ""),
    }
    latitude, longitude = form.get("Latitude"), form.get("Longitude")
    if latitude and longitude:
        try:
            payload["location"] = {"lat": float(str(latitude)), "lon": float(str(longitude))}
        except ValueError:
            pass
    payload = {k: v for k, v in payload.items() if v not in ("", [], None)}
    return TwilioInbound(sid, channel, sender, str(form.get("Body") or ""), payload)


def _plain_int(text: str) -> int | None:
    """A count or row id Twilio posts as plain digits; None for anything else ("²" and
    "٣" are digits to `str.isdigit`, and 5,000 digits are too many for `int`)."""
    return int(text) if text.isascii() and text.isdigit() and len(text) <= 18 else None


def _media_kind(content_type: str) -> str:
    major = content_type.split("/", 1)[0]
    return {"image": "photo", "audio": "voice", "video": "video"}.get(major, "document")


def handle_keyword(session: Session, inbound_id: int, found: tuple[Keyword, str]) -> bool:
    """STOP/START/HELP inside the storing transaction; the message never reaches the engine."""
    kind, word = found
    message = session.get(InboundMessage, inbound_id)
    assert message is not None
    now = utcnow()
    if word in ANSWER_WORDS:  # "yes" answers our questions; it opts in only an opted-out number
        known = find_contact(session, message.channel, message.sender)
        if known is None or not known.opted_out:
            return False
    if kind == "help":
        contact = get_or_create_contact(session, message.channel, message.sender, now)
        lang = {"HELP": "en", "AYUDA": "es"}.get(word, contact.lang)
        _reply(session, message, contact.id, i18n.t("channel.help", as_lang(lang)), now)
    else:
        contact = set_opted_out(session, message.channel, message.sender, kind == "stop", now)
        quiet = message.channel == "sms" and word in TWILIO_ANSWERS
        if not quiet:
            key = "channel.resubscribed" if kind == "start" else "channel.opted_out"
            lang = "es" if word in SPANISH_WORDS else contact.lang
            _reply(
                session,
                message,
                contact.id,
                i18n.t(key, as_lang(lang)),
                now,
                kind="reply" if kind == "start" else OPT_OUT_NOTICE,
            )
    message.status, message.processed_at = InboundStatus.processed, now
    message.contact_id = contact.id
    contact.last_inbound_at = now
    return True


def _reply(
    session: Session,
    message: InboundMessage,
    contact_id: int | None,
    text: str,
    now: datetime,
    kind: str = "reply",
) -> None:
    assert contact_id is not None
    queue_replies(
        session,
        contact_id=contact_id,
        channel=message.channel,
        replies=[Reply(text)],
        now=now,
        inbound_id=message.id,
        kind=kind,
    )


def router(services: Services) -> APIRouter:
    """The inbound-message and status-callback webhooks."""
    routes = APIRouter()
    metrics = services.metrics

    @routes.post(SMS_PATH, include_in_schema=False)
    async def twilio_message(request: Request) -> Response:
        """Store an SMS/WhatsApp message, then answer empty TwiML (403 if not signed)."""
        form = await request.form()
        if not twilio_signed(services, request, form):
            metrics.webhook_rejected.labels(channel="twilio", reason="signature").inc()
            return Response(status_code=403)
        inbound = translate(form)
        if inbound is None:
            metrics.webhook_rejected.labels(channel="twilio", reason="malformed").inc()
            return Response(status_code=400)
        found = keyword(inbound.text, inbound.channel)
        extra = (lambda s, i: handle_keyword(s, i, found)) if found else None
        try:
            inbound_id = await accept(
                services,
                channel=inbound.channel,
                provider_id=inbound.provider_id,
                sender=inbound.sender,
                text=inbound.text,
                payload=inbound.payload,
                extra=extra,
            )
        except Exception as exc:
            logger.error("twilio webhook: could not store message (%s)", type(exc).__name__)
            return Response(status_code=503)
        urls = [str(m["ref"]) for m in inbound.payload.get("media", [])]
        if inbound_id is not None and urls:
            in_background(
                lambda: fetch_and_store(
                    services.settings, services.db, inbound_id, inbound.channel, urls
                ),
                "twilio",
            )
        return Response(EMPTY_TWIML, media_type="text/xml")

    @routes.post(STATUS_PATH, include_in_schema=False)
    async def twilio_status(request: Request) -> Response:
        """Record a delivery status on the outbox row, forward only (403 if not signed)."""
        form = await request.form()
        if not twilio_signed(services, request, form):
            metrics.webhook_rejected.labels(channel="twilio", reason="signature").inc()
            return Response(status_code=403)
        sid, status = str(form.get("MessageSid") or ""), str(form.get("MessageStatus") or "")
        row = request.query_params.get("o", "")
        if not sid or not status:
            return Response(status_code=400)
        try:
            moved = await asyncio.to_thread(
                record_status,
                services.db,
                provider_id=sid,
                status=status,
                now=utcnow(),
                outbound_id=_plain_int(row),
                error_code=str(form.get("ErrorCode") or "") or None,
            )
        except Exception as exc:
            logger.error("twilio status: could not record (%s)", type(exc).__name__)
            return Response(status_code=503)
        metrics.status_callbacks.labels(status=status.lower()[:16], applied=str(moved)).inc()
        return Response(status_code=204)

    return routes
