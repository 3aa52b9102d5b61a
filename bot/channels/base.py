"""What a channel type is, and the text helpers every renderer shares.

A `ChannelType` is data plus one function: how one turn's reply becomes the messages the
channel sends. `render` joins a turn into one message first (`one_per_turn`): every send
costs a provider slot.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Literal

from bot.engine.model import Reply

# phone: an E.164 number (sms, whatsapp, voice); chat: a provider's chat id; session: an
# id with no meaning outside this service (the web chat's server-issued, signed session id;
# the terminal's local name).
AddressKind = Literal["phone", "chat", "session"]
Renderer = Callable[[Reply], list[Reply]]


def as_is(reply: Reply) -> list[Reply]:
    """Channels that show text and buttons as the engine wrote them."""
    return [reply]


@dataclass(frozen=True, slots=True)
class ChannelType:
    """One channel type: its nature, its opt-out words and its renderer."""

    name: str
    provider: str  # who carries it: "telegram", "twilio", or "local" (served by us)
    pushed: bool  # a sender delivers its replies; False: the person's side pulls them
    reachable_by_writing: bool  # no opt-out words: writing to us again means "answer me"
    address: AddressKind
    render_one: Renderer = as_is
    stop_words: frozenset[str] = frozenset()
    start_words: frozenset[str] = frozenset()
    help_words: frozenset[str] = frozenset()

    def render(self, replies: Sequence[Reply]) -> list[Reply]:
        """The messages this channel sends for one turn's replies, in order."""
        return [part for reply in one_per_turn(replies) for part in self.render_one(reply)]


def one_per_turn(replies: Sequence[Reply]) -> list[Reply]:
    """Everything said in one turn as one message: texts joined line by line, the options
    of the last part kept. A reply with options ends a message (its numbered options must
    close the text), so only replies before it are joined into it."""
    merged: list[Reply] = []
    for reply in replies:
        if merged and not merged[-1].options and reply.text:
            last = merged[-1]
            text = f"{last.text}\n{reply.text}" if last.text else reply.text
            merged[-1] = Reply(text, reply.options)
        else:
            merged.append(reply)
    return merged


def numbered(reply: Reply) -> str:
    """The reply's text followed by its options as "1) label" lines."""
    lines = [f"{i}) {o.label}" for i, o in enumerate(reply.options, 1)]
    return "\n".join([reply.text, *lines]) if lines else reply.text


def split_text(text: str, limit: int) -> list[str]:
    """Cut text into pieces of at most `limit` characters, at a line or word break if any."""
    parts: list[str] = []
    while len(text) > limit:
        cut = max(text.rfind("\n", 0, limit), text.rfind(" ", 0, limit))
        cut = cut if cut > 0 else limit
        parts.append(text[:cut].rstrip())
        text = text[cut:].lstrip()
    return [*parts, text] if text or not parts else parts


def options_on_last(parts: list[str], reply: Reply) -> list[Reply]:
    """One message per part; the reply's options travel with the last one."""
    return [Reply(p) for p in parts[:-1]] + [Reply(parts[-1], reply.options)]
