"""Telegram: updates into the inbox (webhook or long polling), outbox rows out through PTB.

With HOTLINE_PUBLIC_URL set the bot registers a webhook (with the secret token) and
`POST /webhooks/telegram` receives updates; without it a getUpdates loop polls, storing each
update before moving the offset past it. Either way the update is stored first, then
processed. Private chats only: a group gets one polite refusal. Buttons are inline keyboards
whose callback data is the option's value (or its number when the value is over 64 bytes).
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import logging
import warnings
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any, Final

from fastapi import APIRouter, Request, Response
from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Message, Update
from telegram.error import (
    BadRequest,
    ChatMigrated,
    Forbidden,
    RetryAfter,
    TelegramError,
)
from telegram.ext import Application, ApplicationBuilder

from bot import i18n
from bot.config import Settings
from bot.contacts import find_contact, get_or_create_contact
from bot.delivery import OptedOutError, RateLimiter, RetryLater
from bot.errors import ChannelSendError, PermanentSendError
from bot.models import OutboundMessage, utcnow
from bot.outbox import Claim
from bot.render import split_text
from bot.types import as_lang

from .common import Services, accept, log_id

logger = logging.getLogger(__name__)

TEXT_LIMIT: Final = 4096
CALLBACK_DATA_BYTES: Final = 64
ALLOWED_UPDATES: Final = ["message", "callback_query"]
POLL_TIMEOUT: Final = 25
SECRET_HEADER: Final = "X-Telegram-Bot-Api-Secret-Token"
WEBHOOK_PATH: Final = "/webhooks/telegram"


@dataclass(frozen=True, slots=True)
class TelegramInbound:
    """An update translated for the inbox (or marked as coming from a group)."""

    provider_id: str
    chat_id: str
    text: str
    payload: dict[str, Any] = field(default_factory=dict)
    private: bool = True
    callback_query_id: str | None = None
    callback_message_id: int | None = None


def build_application(settings: Settings) -> Application:  # type: ignore[type-arg]
    """A PTB Application without Updater, pointed at TELEGRAM_API_BASE_URL."""
    assert settings.telegram_bot_token is not None
    root = settings.telegram_api_base_url
    return (
        ApplicationBuilder()
        .token(settings.telegram_bot_token.get_secret_value())
        .base_url(f"{root}/bot{{token}}")
        .base_file_url(f"{root}/file/bot{{token}}")
        .updater(None)
        .build()
    )


def translate(update: Update) -> TelegramInbound | None:
    """The inbox fields of an update; None for updates we do not handle (edits, joins…)."""
    query = update.callback_query
    if query is not None:
        chat = query.message.chat if query.message is not None else None
        chat_id = str(chat.id if chat is not None else query.from_user.id)
        payload = {
            "lang_hint": query.from_user.language_code or "",
            "chat_type": chat.type if chat is not None else "private",
            "button": True,
        }
        return TelegramInbound(
            str(update.update_id),
            chat_id,
            query.data or "",
            _clean(payload),
            private=chat is None or chat.type == "private",
            callback_query_id=query.id,
            callback_message_id=query.message.message_id if query.message is not None else None,
        )
    message = update.message
    if message is None:
        return None
    user = message.from_user
    payload = {
        "chat_type": message.chat.type,
        "lang_hint": user.language_code if user is not None else None,
        "display_name": user.first_name if user is not None else None,
        "media": _media(message),
        "location": (
            {"lat": message.location.latitude, "lon": message.location.longitude}
            if message.location is not None
            else None
        ),
    }
    return TelegramInbound(
        str(update.update_id),
        str(message.chat.id),
        message.text or message.caption or "",
        _clean(payload),
        private=message.chat.type == "private",
    )


def _media(message: Message) -> list[dict[str, str]]:
    found: list[dict[str, str]] = []
    if message.photo:
        found.append(
            {"kind": "photo", "ref": message.photo[-1].file_id, "content_type": "image/jpeg"}
        )
    for kind, item, default in (
        ("voice", message.voice, "audio/ogg"),
        ("voice", message.audio, "audio/mpeg"),
        ("video", message.video, "video/mp4"),
        ("video", message.video_note, "video/mp4"),
        ("document", message.document, "application/octet-stream"),
    ):
        if item is not None:
            mime = getattr(item, "mime_type", None) or default
            found.append({"kind": kind, "ref": item.file_id, "content_type": mime})
    return found


def _clean(payload: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in payload.items() if v not in (None, "", [])}


def keyboard(options: list[dict[str, str]]) -> InlineKeyboardMarkup | None:
    """One button per row; callback data is the value, or the option's number if too long."""
    if not options:
        return None
    rows = []
    for number, option in enumerate(options, start=1):
        value = option.get("value") or option.get("label") or str(number)
        if len(value.encode("utf-8")) > CALLBACK_DATA_BYTES:
            value = str(number)
        rows.append([InlineKeyboardButton(option.get("label") or value, callback_data=value)])
    return InlineKeyboardMarkup(rows)


class TelegramTransport:
    """Sends outbox rows with the PTB bot: ~30 messages/s overall, 1/s per chat."""

    name: str = "telegram"
    channels: tuple[str, ...] = ("telegram",)
    batch: int = 30

    def __init__(self, application: Application) -> None:  # type: ignore[type-arg]
        self.application = application
        self.limiter = RateLimiter(rate=30.0, per_key=1.0, burst=3, overall_burst=30)
        self.ready = False

    def rate_key(self, claim: Claim, address: str) -> str:
        """Per-chat limit."""
        return address

    async def send(self, claim: Claim, address: str) -> str | None:
        """Send the text (split at 4096) with the buttons on the last piece."""
        parts = split_text(claim.text, TEXT_LIMIT)
        sent: Message | None = None
        try:
            for index, part in enumerate(parts):
                markup = keyboard(claim.options) if index == len(parts) - 1 else None
                sent = await self.application.bot.send_message(
                    chat_id=int(address), text=part, reply_markup=markup
                )
        except RetryAfter as exc:
            raise RetryLater(_seconds(exc)) from None
        except Forbidden:  # the person blocked the bot: an opt-out until they write again
            raise OptedOutError("telegram: blocked by the user") from None
        except (BadRequest, ChatMigrated) as exc:
            raise PermanentSendError(f"telegram: {type(exc).__name__}") from None
        except TelegramError as exc:
            raise ChannelSendError(f"telegram: {type(exc).__name__}") from None
        return str(sent.message_id) if sent is not None else None


def _seconds(exc: RetryAfter) -> float:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        value = exc.retry_after
    return value.total_seconds() if isinstance(value, timedelta) else float(value)


class TelegramChannel:
    """The bot's lifecycle (initialize, webhook or polling) and its inbound handling."""

    def __init__(self, services: Services, transport: TelegramTransport) -> None:
        self.services = services
        self.transport = transport
        self.application = transport.application
        self._task: asyncio.Task[None] | None = None
        self._side_tasks: set[asyncio.Task[None]] = set()
        self._started = False

    def start(self) -> None:
        """Bring the bot up in the background (retrying while the Bot API is unreachable)."""
        self._task = asyncio.create_task(self._run(), name="telegram")

    async def stop(self) -> None:
        """Stop polling, then stop and shut down the PTB Application."""
        for task in [self._task, *self._side_tasks]:
            if task is not None:
                task.cancel()
        await asyncio.gather(
            *(t for t in [self._task, *self._side_tasks] if t is not None), return_exceptions=True
        )
        self.transport.ready = False
        if self._started:
            with contextlib.suppress(Exception):
                await self.application.stop()
            with contextlib.suppress(Exception):
                await self.application.shutdown()

    async def _run(self) -> None:
        settings = self.services.settings
        await _retrying("initialize", self.application.initialize)
        await self.application.start()
        self._started = True
        self.transport.ready = True
        self.services.sender.wake()
        if settings.public_url:
            secret = settings.telegram_webhook_secret
            await _retrying(
                "set_webhook",
                lambda: self.application.bot.set_webhook(
                    url=settings.public_url + WEBHOOK_PATH,
                    allowed_updates=ALLOWED_UPDATES,
                    secret_token=secret.get_secret_value() if secret else None,
                ),
            )
            logger.info("telegram: webhook mode")
            return
        await _retrying("delete_webhook", self.application.bot.delete_webhook)
        logger.info("telegram: polling mode (no HOTLINE_PUBLIC_URL)")
        await self._poll()

    async def _poll(self) -> None:
        offset: int | None = None
        delay = 1.0
        while True:
            try:
                updates = await self.application.bot.get_updates(
                    offset=offset, timeout=POLL_TIMEOUT, allowed_updates=ALLOWED_UPDATES
                )
                for update in updates:
                    await self.receive(update)  # raises when not stored: offset stays
                    offset = update.update_id + 1
                delay = 1.0
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                logger.warning("telegram polling: %s; retrying in %.0fs", type(exc).__name__, delay)
                await asyncio.sleep(delay)
                delay = min(delay * 2, 60.0)

    async def receive(self, update: Update) -> None:
        """Store one update (or refuse a group); raises when the database is unavailable."""
        inbound = translate(update)
        if inbound is None:
            return
        if not inbound.private:
            await asyncio.to_thread(self._refuse_group, inbound)
            self.services.sender.wake()
        else:
            await accept(
                self.services,
                channel="telegram",
                provider_id=inbound.provider_id,
                sender=inbound.chat_id,
                text=inbound.text,
                payload=inbound.payload,
            )
        if inbound.callback_query_id is not None:
            task = asyncio.create_task(self._answer_button(inbound))
            self._side_tasks.add(task)
            task.add_done_callback(self._side_tasks.discard)

    def _refuse_group(self, inbound: TelegramInbound) -> None:
        """Answer a group once that the hotline works in private chats only; store no report."""
        logger.info(
            "telegram: message from a group %s refused", log_id("telegram", inbound.chat_id)
        )
        lang = as_lang(inbound.payload.get("lang_hint"))
        now = utcnow()
        with self.services.db.write() as session:
            if find_contact(session, "telegram", inbound.chat_id) is not None:
                return
            contact = get_or_create_contact(session, "telegram", inbound.chat_id, now, lang)
            assert contact.id is not None
            session.add(
                OutboundMessage(
                    contact_id=contact.id,
                    channel="telegram",
                    created_at=now,
                    updated_at=now,
                    next_attempt_at=now,
                    text=i18n.t("channel.telegram.private_only", lang),
                )
            )

    async def _answer_button(self, inbound: TelegramInbound) -> None:
        """Stop the button's spinner and take the keyboard off the answered message."""
        bot = self.application.bot
        try:
            await bot.answer_callback_query(inbound.callback_query_id or "")
            if inbound.callback_message_id is not None:
                await bot.edit_message_reply_markup(
                    chat_id=int(inbound.chat_id), message_id=inbound.callback_message_id
                )
        except TelegramError as exc:
            logger.info("telegram: answering a button press failed (%s)", type(exc).__name__)


async def _retrying(what: str, call: Any) -> None:
    delay = 1.0
    while True:
        try:
            await call()
            return
        except TelegramError as exc:
            logger.warning(
                "telegram %s failed (%s); retrying in %.0fs", what, type(exc).__name__, delay
            )
            await asyncio.sleep(delay)
            delay = min(delay * 2, 60.0)


def router(services: Services, channel: TelegramChannel | None) -> APIRouter:
    """POST /webhooks/telegram: checks the secret header, stores the update, answers 200."""
    routes = APIRouter()
    secret = services.settings.telegram_webhook_secret

    @routes.post(WEBHOOK_PATH, include_in_schema=False)
    async def telegram_webhook(request: Request) -> Response:
        """Store a Telegram update before answering 200 (403 without the right secret)."""
        given = request.headers.get(SECRET_HEADER, "").encode()
        if (
            channel is None
            or secret is None
            or not hmac.compare_digest(given, secret.get_secret_value().encode())
        ):
            services.metrics.webhook_rejected.labels(channel="telegram", reason="secret").inc()
            return Response(status_code=403)
        try:
            data = await request.json()
            update = Update.de_json(data, channel.application.bot)
        except Exception:
            services.metrics.webhook_rejected.labels(channel="telegram", reason="malformed").inc()
            return Response(status_code=400)
        try:
            await channel.receive(update)
        except Exception as exc:
            logger.error("telegram webhook: could not store update (%s)", type(exc).__name__)
            return Response(status_code=503)
        return Response(status_code=200)

    return routes
