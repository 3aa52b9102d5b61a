"""Telegram out: outbox rows through the PTB bot, at the pace the settings give.

`HOTLINE_TELEGRAM_RATE` messages/s overall (after a burst of as many), and per private chat
a burst of 3, then one a second. Buttons are inline keyboards whose callback data is the
option's value (or its number when the value is over 64 bytes).
"""

from __future__ import annotations

import warnings
from datetime import timedelta
from typing import Final

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Message
from telegram.error import BadRequest, ChatMigrated, Forbidden, RetryAfter, TelegramError
from telegram.ext import Application, ApplicationBuilder

from bot.channels.registry import CHANNEL_TYPES
from bot.config import Settings
from bot.db import Database
from bot.delivery import Limiter, OptedOutError, Pacing, RetryLater, limiter_for
from bot.errors import ChannelSendError, PermanentSendError
from bot.outbox import Claim

CALLBACK_DATA_BYTES: Final = 64
CHAT_BURST: Final = 3  # a private chat may get three messages at once, then one a second


def pacing(settings: Settings) -> Pacing:
    """Telegram's limits: the configured overall rate, short bursts per private chat."""
    rate = settings.telegram_rate
    return Pacing(rate=rate, per_key=1.0, burst=CHAT_BURST, overall_burst=max(1, int(rate)))


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
    """Sends outbox rows with the PTB bot within the configured pacing."""

    name: str = "telegram"
    channels: tuple[str, ...] = tuple(
        n for n, k in CHANNEL_TYPES.items() if k.provider == "telegram" and k.pushed
    )

    def __init__(
        self,
        application: Application,  # type: ignore[type-arg]
        limiter: Limiter,
        batch: int = 30,
    ) -> None:
        self.application = application
        self.limiter = limiter
        self.batch = batch
        self.ready = False

    @classmethod
    def from_settings(cls, settings: Settings, db: Database) -> TelegramTransport:
        """The transport with its PTB Application and the configured pacing."""
        rules = pacing(settings)
        return cls(
            build_application(settings),
            limiter_for(db, "telegram", rules),
            batch=max(1, int(rules.rate)),
        )

    def rate_key(self, claim: Claim, address: str) -> str:
        """Per-chat limit."""
        return address

    async def send(self, claim: Claim, address: str) -> str | None:
        """Send one rendered message (at most 4,096 characters) with its buttons."""
        sent: Message | None = None
        try:
            sent = await self.application.bot.send_message(
                chat_id=int(address), text=claim.text, reply_markup=keyboard(claim.options)
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
