"""Turning channel-neutral replies into what each channel sends.

`render(channel, replies)` is what the service stores in the outbox: the channel type's
own renderer (`bot/channels/<name>/kind.py`), after joining one turn into one message,
since every send costs a provider slot. SMS segment counting lives with the SMS channel
and is re-exported here for the figures and tests that count segments.
"""

from __future__ import annotations

from collections.abc import Sequence

from bot.channels.base import numbered, one_per_turn, split_text
from bot.channels.registry import CHANNEL_TYPES
from bot.channels.twilio_sms.kind import (
    SMS_MAX_SEGMENTS,
    WHATSAPP_MAX_CHARS,
    fold_for_sms,
    is_gsm7,
    render_sms,
    render_whatsapp,
    segments,
)
from bot.engine.model import Reply

__all__ = [
    "SMS_MAX_SEGMENTS",
    "WHATSAPP_MAX_CHARS",
    "fold_for_sms",
    "is_gsm7",
    "numbered",
    "one_per_turn",
    "render",
    "render_sms",
    "render_whatsapp",
    "segments",
    "split_text",
]


def render(channel: str, replies: Sequence[Reply]) -> list[Reply]:
    """The messages `channel` sends for `replies`, in order (an unknown name: as written)."""
    return CHANNEL_TYPES.get(channel, CHANNEL_TYPES["web"]).render(replies)
