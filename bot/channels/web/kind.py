"""What the web chat is: pulled by the page, addressed by a session id the server issued."""

from __future__ import annotations

from typing import Final

from bot.channels.base import ChannelType

WEB: Final = ChannelType(
    name="web", provider="local", pushed=False, reachable_by_writing=True, address="session"
)
