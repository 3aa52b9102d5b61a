"""The channel types by name: what the orchestrator, the outbox and the renderer ask.

`channel_type("sms").pushed`, `.reachable_by_writing`, `.address`, `.render(replies)`.
"""

from __future__ import annotations

import re
from typing import Final

from bot.channels.base import ChannelType
from bot.channels.telegram.kind import TELEGRAM
from bot.channels.terminal.kind import TERMINAL
from bot.channels.twilio_sms.kind import SMS, WHATSAPP
from bot.channels.twilio_voice.kind import VOICE
from bot.channels.web.kind import WEB

CHANNEL_TYPES: Final[dict[str, ChannelType]] = {
    kind.name: kind for kind in (TELEGRAM, SMS, WHATSAPP, VOICE, WEB, TERMINAL)
}
PUSHED: Final[tuple[str, ...]] = tuple(n for n, k in CHANNEL_TYPES.items() if k.pushed)
_PHONE = re.compile(r"^\+?[0-9]{7,15}$")


def channel_type(name: str) -> ChannelType:
    """The channel type called `name` (KeyError for a name no package registered)."""
    return CHANNEL_TYPES[name]


def reachable_by_writing(name: str) -> bool:
    """True when writing to us again lifts an opt-out (the channel has no opt-out words)."""
    kind = CHANNEL_TYPES.get(name)
    return kind is not None and kind.reachable_by_writing


def phone_number(name: str, address: str) -> str | None:
    """The address as a phone number when the channel is addressed by one (not an
    anonymous caller's placeholder), else None."""
    kind = CHANNEL_TYPES.get(name)
    if kind is None or kind.address != "phone" or not _PHONE.match(address):
        return None
    return address
