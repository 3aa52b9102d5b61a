"""SMS and WhatsApp out: outbox rows through the Twilio REST client, at the configured pace.

`HOTLINE_TWILIO_RATE` messages/s for the sending number or Messaging Service (a long code
takes 1, toll-free 3, a short code or a Messaging Service pool more). Each row is one
rendered message (SMS of at most two segments, WhatsApp of at most 1,600 characters), sent
with a status callback that moves the row's status forward.
"""

from __future__ import annotations

import asyncio
from typing import Any, Final

import requests
from twilio.base.exceptions import TwilioException, TwilioRestException
from twilio.http.http_client import TwilioHttpClient
from twilio.rest import Client

from bot.channels.registry import CHANNEL_TYPES
from bot.config import Settings
from bot.db import Database
from bot.delivery import Limiter, OptedOutError, Pacing, RetryLater, limiter_for
from bot.errors import ChannelSendError, PermanentSendError
from bot.outbox import Claim

STATUS_PATH: Final = "/webhooks/twilio/status"
OPTED_OUT_CODE: Final = 21610


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

    def __init__(self, settings: Settings, limiter: Limiter) -> None:
        self.client = rest_client(settings)
        self.sender_id = settings.twilio_from_number or ""
        self.public_url = settings.public_url
        self.limiter = limiter
        self.batch = max(3, int(settings.twilio_rate * 3))
        self.ready = True

    @classmethod
    def from_settings(cls, settings: Settings, db: Database) -> TwilioTransport:
        """The transport with the configured pacing (shared by processes on PostgreSQL)."""
        return cls(settings, limiter_for(db, "twilio", pacing(settings)))

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
        try:
            sid = self.client.messages.create(body=claim.text, **options).sid
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
