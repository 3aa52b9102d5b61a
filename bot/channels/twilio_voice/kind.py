"""What a phone call is: pulled (each webhook answer speaks the turn's replies), a phone
number per caller ("anonymous" callers get one per call), no opt-out words.

Replies stay as the engine wrote them (one per turn); `twiml` reads them for the ear in the
caller's language ("oprima 1 para …").
"""

from __future__ import annotations

from typing import Final

from bot.channels.base import ChannelType

VOICE: Final = ChannelType(
    name="voice", provider="twilio", pushed=False, reachable_by_writing=True, address="phone"
)
