"""Helpers for the channel tests: the app under test, signed Twilio posts, Telegram updates."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
from asgi_lifespan import LifespanManager
from fastapi import FastAPI
from sqlmodel import select
from twilio.request_validator import RequestValidator

from bot.app import create_app
from bot.config import Settings
from bot.db import Database
from bot.models import Contact, InboundMessage, OutboundMessage
from tests.conftest import make_settings
from tests.fakes.telegram_api import FakeBotAPI
from tests.fakes.twilio_api import ACCOUNT_SID, AUTH_TOKEN

PUBLIC_URL = "https://hotline.example.org"
WEBHOOK_SECRET = "test_webhook-secret_0123456789"
TWILIO_NUMBER = "+15005550006"


def settings_for(
    tmp_path: Path,
    *,
    bot_api: str | None = None,
    twilio_api: str | None = None,
    public_url: str | None = PUBLIC_URL,
    **more: Any,
) -> Settings:
    """Settings with Telegram and/or Twilio pointed at the fake servers."""
    values: dict[str, Any] = {"public_url": public_url}
    if bot_api is not None:
        values.update(
            telegram_bot_token=FakeBotAPI.token,
            telegram_api_base_url=bot_api,
            telegram_webhook_secret=WEBHOOK_SECRET,
        )
    if twilio_api is not None:
        values.update(
            twilio_account_sid=ACCOUNT_SID,
            twilio_auth_token=AUTH_TOKEN,
            twilio_from_number=TWILIO_NUMBER,
            twilio_api_base_url=twilio_api,
        )
    values.update(more)
    return make_settings(tmp_path, **values)


def fast_app(settings: Settings, database: Database, engine: Any, **more: Any) -> FastAPI:
    """The real app with quick retries and no background sweeps (tests call them)."""
    options: dict[str, Any] = {"backoff_base": 0.05, "poll_interval": 0.05, "sweeps": False}
    options.update(more)
    return create_app(settings, database, engine=engine, **options)


@asynccontextmanager
async def running(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    """Run the app's lifespan and give a client that talks to it in-process."""
    async with LifespanManager(app, startup_timeout=20, shutdown_timeout=20) as manager:
        transport = httpx.ASGITransport(app=manager.app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
            yield c


async def wait_for(check: Callable[[], bool], within: float = 10.0, what: str = "") -> None:
    """Poll `check` until it holds, or fail after `within` seconds."""
    deadline = time.monotonic() + within
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what or check}")
        await asyncio.sleep(0.02)


async def settle(seconds: float = 0.4) -> None:
    """Give background workers time to do anything they (wrongly) might still do."""
    await asyncio.sleep(seconds)


def sign(url: str, params: dict[str, str], token: str = AUTH_TOKEN) -> str:
    """Twilio's X-Twilio-Signature for a form post to `url`."""
    return str(RequestValidator(token).compute_signature(url, params))


async def post_twilio(
    client: httpx.AsyncClient,
    path: str,
    params: dict[str, str],
    *,
    signature: str | None = None,
    public_url: str = PUBLIC_URL,
) -> httpx.Response:
    """Post a form as Twilio would, signed for the public URL unless told otherwise."""
    headers = {
        "X-Twilio-Signature": signature
        if signature is not None
        else sign(public_url + path, params)
    }
    return await client.post(path, data=params, headers=headers)


def sms(sid: str, sender: str, body: str, **more: str) -> dict[str, str]:
    """An inbound-message webhook form."""
    return {
        "MessageSid": sid,
        "SmsSid": sid,
        "AccountSid": ACCOUNT_SID,
        "From": sender,
        "To": TWILIO_NUMBER,
        "Body": body,
        "NumMedia": "0",
        "NumSegments": "1",
        "ApiVersion": "2010-04-01",
        **more,
    }


def tg_message(
    update_id: int,
    chat_id: int,
    text: str | None = "hola",
    *,
    chat_type: str = "private",
    lang: str = "es",
    **more: Any,
) -> dict[str, Any]:
    """A Telegram `message` update as the Bot API sends it."""
    message: dict[str, Any] = {
        "message_id": update_id,
        "date": int(time.time()),
        "chat": {"id": chat_id, "type": chat_type, "first_name": "Ana"},
        "from": {"id": abs(chat_id), "is_bot": False, "first_name": "Ana", "language_code": lang},
        **more,
    }
    if text is not None:
        message["text"] = text
    return {"update_id": update_id, "message": message}


def tg_button(update_id: int, chat_id: int, data: str, message_id: int = 1) -> dict[str, Any]:
    """A Telegram `callback_query` update (an inline button press)."""
    return {
        "update_id": update_id,
        "callback_query": {
            "id": f"cq{update_id}",
            "chat_instance": "ci",
            "data": data,
            "from": {"id": chat_id, "is_bot": False, "first_name": "Ana", "language_code": "es"},
            "message": {
                "message_id": message_id,
                "date": int(time.time()),
                "chat": {"id": chat_id, "type": "private"},
                "text": "menu",
            },
        },
    }


async def post_update(
    client: httpx.AsyncClient, update: dict[str, Any], secret: str | None = WEBHOOK_SECRET
) -> httpx.Response:
    """POST an update to the Telegram webhook with (or without) the secret header."""
    headers = {} if secret is None else {"X-Telegram-Bot-Api-Secret-Token": secret}
    return await client.post("/webhooks/telegram", json=update, headers=headers)


def inbound_rows(db: Database) -> list[InboundMessage]:
    with db.read() as session:
        return list(session.exec(select(InboundMessage).order_by(InboundMessage.id)).all())


def outbound_rows(db: Database) -> list[OutboundMessage]:
    with db.read() as session:
        return list(session.exec(select(OutboundMessage).order_by(OutboundMessage.id)).all())


def contacts(db: Database) -> list[Contact]:
    with db.read() as session:
        return list(session.exec(select(Contact).order_by(Contact.id)).all())


def add_staff_message(db: Database, contact_id: int, text: str) -> int:
    """Queue a message as a staff reply does (through `queue_replies`, rendered for the
    channel); return the first row's id."""
    from bot.engine.model import Reply
    from bot.models import utcnow
    from bot.outgoing import queue_replies

    with db.write() as session:
        contact = session.get(Contact, contact_id)
        assert contact is not None
        ids = queue_replies(
            session,
            contact_id=contact_id,
            channel=contact.channel,
            replies=[Reply(text)],
            now=utcnow(),
            kind="staff",
        )
        return ids[0]
