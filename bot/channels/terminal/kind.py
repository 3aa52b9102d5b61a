"""What the terminal is: pulled after each line, options numbered in the text."""

from __future__ import annotations

from typing import Final

from bot.channels.base import ChannelType, numbered
from bot.engine.model import Reply


def render_terminal(reply: Reply) -> list[Reply]:
    """Plain text with the options numbered (they stay listed for `--json`)."""
    return [Reply(numbered(reply), reply.options)]


TERMINAL: Final = ChannelType(
    name="terminal",
    provider="local",
    pushed=False,
    reachable_by_writing=True,
    address="session",
    render_one=render_terminal,
)
