"""What Telegram is: pushed, a chat id per person, blocking the bot is its opt-out.

A reply is one Telegram message per 4,096 characters (one outbox row each, so a retry never
repeats a part already delivered); the options become inline buttons on the last one.
"""

from __future__ import annotations

from typing import Final

from bot.channels.base import ChannelType, options_on_last, split_text
from bot.engine.model import Reply

TEXT_LIMIT: Final = 4096


def render_telegram(reply: Reply) -> list[Reply]:
    """Whole messages of at most 4,096 characters, the buttons on the last."""
    return options_on_last(split_text(reply.text, TEXT_LIMIT), reply)


TELEGRAM: Final = ChannelType(
    name="telegram",
    provider="telegram",
    pushed=True,
    reachable_by_writing=True,  # a user who blocked the bot and writes again unblocked it
    address="chat",
    render_one=render_telegram,
)
