"""SMS and WhatsApp out: outbox rows through the Twilio REST client, at the configured pace.

`HOTLINE_TWILIO_RATE` messages/s for the sending number or Messaging Service (a long code
takes 1, toll-free 3, a short code or a Messaging Service pool more). Each row is one
rendered message (SMS of at most two segments, WhatsApp of at most 1,600 characters), sent
with a status callback that moves the row's status forward.
"""

from __future__ import annotations

import asyncio
import json
import re
from datetime import UTC, datetime, timedelta
from typing import Any, Final

import requests
from sqlmodel import func, select
from twilio.base.exceptions import TwilioException, TwilioRestException
from twilio.http.http_client import TwilioHttpClient
from twilio.rest import Client

from bot.channels.registry import CHANNEL_TYPES
from bot.channels.twilio_voice.recordings import RecordingUnavailable, delete_at_twilio
from bot.config import Settings
from bot.db import Database
from bot.delivery import Limiter, OptedOutError, Pacing, RetryLater, limiter_for
from bot.erasure import claim_provider_erasures, provider_erasure_done, provider_erasure_failed
from bot.errors import ChannelSendError, PermanentSendError
from bot.models import Contact, InboundMessage, utcnow
from bot.outbox import Claim, note_template

STATUS_PATH: Final = "/webhooks/twilio/status"
OPTED_OUT_CODE: Final = 21610
OUTSIDE_WINDOW_CODE: Final = 63016
WHATSAPP_WINDOW: Final = timedelta(hours=24)
NO_TEMPLATE: Final = (
    "WhatsApp 24-hour window closed and no approved template is configured "
    "(TWILIO_WHATSAPP_TEMPLATE_{lang})"
)


def _aware(at: datetime) -> datetime:
    return at if at.tzinfo is not None else at.replace(tzinfo=UTC)


def pacing(settings: Settings) -> Pacing:
    """The sender's rate (one budget per number or service), no bursts."""
    return Pacing(rate=settings.twilio_rate, per_key=1.0 / settings.twilio_rate)


def rest_client(settings: Settings) -> Client:
    """A Twilio REST client pointed at TWILIO_API_BASE_URL (a fake one in tests)."""
    assert settings.twilio_account_sid and settings.twilio_auth_token
    client = Client(
        settings.twilio_account_sid,
        settings.twilio_auth_token.get_secret_value(),
        http_client=TwilioHttpClient(timeout=15),
    )
    client.api.base_url = settings.twilio_api_base_url
    return client


class TwilioTransport:
    """Sends outbox rows with the Twilio REST client within the configured rate."""

    name: str = "twilio"
    channels: tuple[str, ...] = tuple(
        n for n, k in CHANNEL_TYPES.items() if k.provider == "twilio" and k.pushed
    )

    def __init__(self, settings: Settings, limiter: Limiter, db: Database | None = None) -> None:
        self.settings = settings
        self.db = db
        self.client = rest_client(settings)
        self.sender_id = settings.twilio_from_number or ""
        self.public_url = settings.public_url
        self.limiter = limiter
        self.batch = max(3, int(settings.twilio_rate * 3))
        self.ready = True

    @classmethod
    def from_settings(cls, settings: Settings, db: Database) -> TwilioTransport:
        """The transport with the configured pacing (shared by processes on PostgreSQL)."""
        return cls(settings, limiter_for(db, "twilio", pacing(settings)), db)

    async def erase_at_provider(self) -> int:
        """Delete at Twilio what erasures queued (recordings, media); return how many."""
        return await asyncio.to_thread(self._erase) if self.db is not None else 0

    def _erase(self) -> int:
        assert self.db is not None
        done = 0
        for erasure_id, resource, attempts in claim_provider_erasures(
            self.db, provider="twilio", now=utcnow()
        ):
            try:
                delete_at_twilio(self.settings, resource)
            except RecordingUnavailable as exc:
                provider_erasure_failed(
                    self.db, erasure_id, attempts=attempts, error=str(exc), now=utcnow()
                )
                continue
            provider_erasure_done(self.db, erasure_id)
            done += 1
        return done

    def rate_key(self, claim: Claim, address: str) -> str:
        """One budget per sending number."""
        return self.sender_id

    async def send(self, claim: Claim, address: str) -> str | None:
        """Create the message through the REST API; return its sid."""
        return await asyncio.to_thread(self._send, claim, address)

    def _send(self, claim: Claim, address: str) -> str | None:
        whatsapp = claim.channel == "whatsapp"
        options: dict[str, Any] = {"to": f"whatsapp:{address}" if whatsapp else address}
        if self.sender_id.startswith("MG"):
            options["messaging_service_sid"] = self.sender_id
        else:
            number = self.sender_id.removeprefix("whatsapp:")
            options["from_"] = f"whatsapp:{number}" if whatsapp else number
        if self.public_url:
            options["status_callback"] = f"{self.public_url}{STATUS_PATH}?o={claim.id}"
        if whatsapp:
            last_inbound, lang = self._window(claim.contact_id)
            if last_inbound is None or utcnow() - last_inbound > WHATSAPP_WINDOW:
                return self._send_template(claim, lang, options)
        try:
            return self._create(body=claim.text, **options)
        except PermanentSendError as exc:
            if whatsapp and f"error {OUTSIDE_WINDOW_CODE} " in str(exc):
                # Twilio saw the window closed (our clock or record is behind): a template.
                return self._send_template(claim, self._window(claim.contact_id)[1], options)
            raise

    def _window(self, contact_id: int) -> tuple[datetime | None, str]:
        """When the person last wrote (the WhatsApp window's start), and their language."""
        if self.db is None:
            return utcnow(), "es"  # no record to tell: send free-form, Twilio says if not
        with self.db.read() as session:
            contact = session.get(Contact, contact_id)
            if contact is None:
                return None, "es"
            # The inbox is the record of what the person sent (stored before processing).
            received = session.exec(
                select(func.max(InboundMessage.received_at)).where(
                    InboundMessage.channel == contact.channel,
                    InboundMessage.sender_hash == contact.address_hash,
                )
            ).one()
            seen = [t for t in (contact.last_inbound_at, received) if t is not None]
            return (max(_aware(t) for t in seen) if seen else None), contact.lang

    def _send_template(self, claim: Claim, lang: str, options: dict[str, Any]) -> str | None:
        """The message as the approved template for `lang`, its text as variable 1."""
        template = self.settings.whatsapp_template(lang)
        if template is None:
            raise PermanentSendError(NO_TEMPLATE.format(lang="EN" if lang == "en" else "ES"))
        # Template variables take no line breaks, tabs or runs of spaces.
        text = re.sub(r"\s+", " ", claim.text).strip()[:1024]
        sid = self._create(
            content_sid=template, content_variables=json.dumps({"1": text}), **options
        )
        if self.db is not None:
            note_template(self.db, claim.id, template)
        return sid

    def _create(self, **options: Any) -> str | None:
        try:
            sid = self.client.messages.create(**options).sid
        except TwilioRestException as exc:
            if exc.code == OPTED_OUT_CODE:
                raise OptedOutError("twilio 21610: recipient opted out") from None
            if exc.status == 429:
                raise RetryLater(5.0) from None
            if exc.status >= 500 or exc.status in (401, 403):
                raise ChannelSendError(f"twilio HTTP {exc.status}") from None
            raise PermanentSendError(f"twilio error {exc.code} (HTTP {exc.status})") from None
        except (TwilioException, requests.RequestException) as exc:
            raise ChannelSendError(f"twilio: {type(exc).__name__}") from None
        return str(sid) if sid else None
