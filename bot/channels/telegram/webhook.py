"""Telegram in: updates into the inbox (webhook or long polling).

With HOTLINE_PUBLIC_URL set the bot registers a webhook (with the secret token) and
`POST /webhooks/telegram` receives updates; without it a getUpdates loop polls, storing each
update before moving the offset past it. Either way the update is stored first, then
processed. Private chats only: a group gets one polite refusal, through the outbox.
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import logging
import math
from dataclasses import dataclass, field
from typing import Any, Final

from fastapi import APIRouter, Request, Response
from telegram import Message, Update
from telegram.error import TelegramError

from bot import i18n
from bot.channels.common import Services, accept, log_id
from bot.channels.media import in_background
from bot.contacts import find_contact, get_or_create_contact
from bot.engine.model import Reply
from bot.models import utcnow
from bot.outgoing import queue_replies
from bot.types import as_lang

from .media import FETCHED_KINDS, fetch_and_store
from .transport import TelegramTransport

logger = logging.getLogger(__name__)

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


def translate(update: Update) -> TelegramInbound | None:
    """The inbox fields of an update; None for updates we do not handle (edits, joins…)."""
    provider_id = str(update.update_id)
    if len(provider_id) > 80:  # the inbox keeps 80 characters; Telegram's ids are numbers
        return None
    query = update.callback_query
    if query is not None:
        chat = query.message.chat if query.message is not None else None
        presser = query.from_user
        answer_to = chat.id if chat is not None else presser.id if presser is not None else None
        if not _is_id(answer_to):  # the library lets a malformed update through
            return None
        chat_id = str(answer_to)
        payload = {
            "lang_hint": _text(presser.language_code) if presser is not None else "",
            "chat_type": chat.type if chat is not None else "private",
            "button": True,
        }
        return TelegramInbound(
            provider_id,
            chat_id,
            _text(query.data),
            _clean(payload),
            private=chat is None or chat.type == "private",
            callback_query_id=query.id,
            callback_message_id=query.message.message_id if query.message is not None else None,
        )
    message = update.message
    if message is None or message.chat is None or not _is_id(message.chat.id):
        return None
    user = message.from_user
    point = message.location
    payload = {
        "chat_type": message.chat.type,
        "lang_hint": _text(user.language_code) if user is not None else None,
        "display_name": _text(user.first_name) if user is not None else None,
        "media": _media(message),
        "location": (
            {"lat": point.latitude, "lon": point.longitude}
            if point is not None and _coordinate(point.latitude) and _coordinate(point.longitude)
            else None
        ),
    }
    return TelegramInbound(
        provider_id,
        str(message.chat.id),
        _text(message.text) or _text(message.caption),
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


def _text(value: object) -> str:
    """A string field of the update; "" when the update holds anything else there (the
    library does not check types, and only strings may reach the inbox and the engine)."""
    return value if isinstance(value, str) else ""


def _is_id(value: object) -> bool:
    """A chat's id is an integer (the transport sends to `int(chat_id)`)."""
    return isinstance(value, int) and not isinstance(value, bool)


def _coordinate(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def _well_formed(value: Any) -> Any:
    """The parsed update with every lone surrogate (a "\\ud800" escape in the JSON, which
    could never be stored) replaced by U+FFFD."""
    if isinstance(value, str):
        return value.encode("utf-16", "surrogatepass").decode("utf-16", "replace")
    if isinstance(value, list):
        return [_well_formed(v) for v in value]
    if isinstance(value, dict):
        return {_well_formed(k): _well_formed(v) for k, v in value.items()}
    return value


def _clean(payload: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in payload.items() if v not in (None, "", [])}


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
            inbound_id = await accept(
                self.services,
                channel="telegram",
                provider_id=inbound.provider_id,
                sender=inbound.chat_id,
                text=inbound.text,
                payload=inbound.payload,
            )
            self._fetch_media(inbound_id, inbound.payload.get("media", []))
        if inbound.callback_query_id is not None:
            task = asyncio.create_task(self._answer_button(inbound))
            self._side_tasks.add(task)
            task.add_done_callback(self._side_tasks.discard)

    def _fetch_media(self, inbound_id: int | None, media: list[dict[str, Any]]) -> None:
        """Photos and voice notes are fetched after the update is stored (once: a
        redelivered update has no id)."""
        if inbound_id is None or not any(m.get("kind") in FETCHED_KINDS for m in media):
            return
        settings, db = self.services.settings, self.services.db
        in_background(lambda: fetch_and_store(settings, db, inbound_id, media), "telegram")

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
            queue_replies(
                session,
                contact_id=contact.id,
                channel="telegram",
                replies=[Reply(i18n.t("channel.telegram.private_only", lang))],
                now=now,
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
            data = _well_formed(await request.json())
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
