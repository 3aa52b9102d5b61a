"""Turning channel-neutral replies into what each channel sends, and counting SMS segments.

SMS: GSM-7 carries 160 characters in one segment, 153 per segment when split; the extension
characters (^ { } \\ [ ~ ] | €, form feed) take two. One character outside GSM-7 switches the
whole message to UCS-2: 70, then 67 per segment. In Spanish ñ é ü ¿ ¡ are GSM-7 but
á í ó ú are not, so `render_sms` by default writes a, i, o, u instead when that is the only
thing keeping a message out of GSM-7 (a product choice: half the cost, same readability).

`render(channel, replies)` is what the service stores in the outbox — first joined into one
message per turn (`one_per_turn`), since every send costs a provider slot. SMS, WhatsApp and the
terminal get the options numbered in the text ("1) Sí"), split where needed, with the options
kept on the last part for callers that list them; Telegram and the web chat keep the text
plain and the options as buttons (Telegram callback data ≤ 64 UTF-8 bytes).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Final, Literal

from bot.engine.model import Reply
from bot.types import Channel

Encoding = Literal["GSM-7", "UCS-2"]
GSM7_BASIC: Final = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
GSM7_EXTENSION: Final = frozenset("\f^{}\\[~]|€")
SMS_MAX_SEGMENTS: Final = 2
TELEGRAM_MAX_CHARS: Final = 4096
WHATSAPP_MAX_CHARS: Final = 1600
TELEGRAM_CALLBACK_BYTES: Final = 64
_SMS_FOLD: Final = str.maketrans(
    {
        "á": "a",
        "í": "i",
        "ó": "o",
        "ú": "u",
        "Á": "A",
        "Í": "I",
        "Ó": "O",
        "Ú": "U",
        "‘": "'",
        "’": "'",
        "“": '"',
        "”": '"',
        "–": "-",
        "—": "-",
        "…": "...",
        "\u00a0": " ",
        "ê": "e",
        "â": "a",
        "ô": "o",
        "ç": "c",
    }
)
_SENTENCE = re.compile(r"(?<=[.!?:;])\s+|\n+")


def is_gsm7(text: str) -> bool:
    """True when every character of `text` can be sent in GSM-7."""
    return all(c in GSM7_BASIC or c in GSM7_EXTENSION for c in text)


def segments(text: str) -> tuple[Encoding, int]:
    """The encoding an SMS of `text` needs and how many segments it is billed as."""
    if is_gsm7(text):
        encoding: Encoding = "GSM-7"
        units = [2 if c in GSM7_EXTENSION else 1 for c in text]
        single, part = 160, 153
    else:
        encoding = "UCS-2"
        units = [2 if ord(c) > 0xFFFF else 1 for c in text]  # UTF-16 code units
        single, part = 70, 67
    total = sum(units)
    if total <= single:
        return encoding, 1 if total else 0
    count, used = 1, 0
    for unit in units:  # an escape pair or surrogate pair never straddles two segments
        if used + unit > part:
            count, used = count + 1, 0
        used += unit
    return encoding, count


def fold_for_sms(text: str) -> str:
    """`text` with á í ó ú (and typographic quotes, dashes) made GSM-7, if that is enough."""
    folded = text.translate(_SMS_FOLD)
    return folded if is_gsm7(folded) else text


def numbered(reply: Reply) -> str:
    """The reply's text followed by its options as "1) label" lines."""
    lines = [f"{i}) {o.label}" for i, o in enumerate(reply.options, 1)]
    return "\n".join([reply.text, *lines]) if lines else reply.text


def render_sms(
    reply: Reply, *, fold_accents: bool = True, max_segments: int = SMS_MAX_SEGMENTS
) -> list[str]:
    """One or more SMS bodies; a long reply is split at sentence ends, each ≤ max_segments."""
    body = numbered(reply)
    if fold_accents:
        body = fold_for_sms(body)
    if segments(body)[1] <= max_segments:
        return [body]
    return _split(body, max_segments)


def _split(body: str, max_segments: int) -> list[str]:
    text, _, options = body.partition("\n1) ")
    pieces = [p for p in _SENTENCE.split(text) if p]
    if options:
        pieces.append("1) " + options)
    messages: list[str] = []
    for piece in pieces:
        for part in _fit(piece, max_segments):
            glue = "\n" if part.startswith("1) ") else " "
            joined = f"{messages[-1]}{glue}{part}" if messages else part
            if messages and segments(joined)[1] <= max_segments:
                messages[-1] = joined
            else:
                messages.append(part)
    return messages


def _fit(piece: str, max_segments: int) -> Iterable[str]:
    """`piece` cut at spaces (or inside a word too long for one message) into parts that fit."""
    if segments(piece)[1] <= max_segments:
        return [piece]
    parts, current = [], ""
    for word in piece.split(" "):
        candidate = f"{current} {word}" if current else word
        if segments(candidate)[1] > max_segments:
            if current:
                parts.append(current)
            while segments(word)[1] > max_segments:
                cut = _longest_prefix(word, max_segments)
                parts.append(word[:cut])
                word = word[cut:]
            candidate = word
        current = candidate
    return [*parts, current] if current else parts


def _longest_prefix(word: str, max_segments: int) -> int:
    low, high = 1, len(word)
    while low < high:
        middle = (low + high + 1) // 2
        if segments(word[:middle])[1] <= max_segments:
            low = middle
        else:
            high = middle - 1
    return low


def render_whatsapp(reply: Reply) -> list[str]:
    """WhatsApp bodies: numbered options, split only past Twilio's 1,600 characters."""
    return split_text(numbered(reply), WHATSAPP_MAX_CHARS)


def split_text(text: str, limit: int) -> list[str]:
    """Cut text into pieces of at most `limit` characters, at a line or word break if any."""
    parts: list[str] = []
    while len(text) > limit:
        cut = max(text.rfind("\n", 0, limit), text.rfind(" ", 0, limit))
        cut = cut if cut > 0 else limit
        parts.append(text[:cut].rstrip())
        text = text[cut:].lstrip()
    return [*parts, text] if text or not parts else parts


def render_terminal(reply: Reply) -> str:
    """Plain text for the terminal chat, options numbered."""
    return numbered(reply)


@dataclass(frozen=True, slots=True)
class TelegramMessage:
    """A Telegram message: text plus rows of inline buttons as (label, callback data)."""

    text: str
    keyboard: tuple[tuple[tuple[str, str], ...], ...] = ()

    def reply_markup(self) -> dict[str, Any] | None:
        """The Bot API `reply_markup` (an InlineKeyboardMarkup), or None without buttons."""
        if not self.keyboard:
            return None
        rows = [
            [{"text": label, "callback_data": data} for label, data in row] for row in self.keyboard
        ]
        return {"inline_keyboard": rows}


def callback_data(value: str) -> str:
    """`value` cut to Telegram's 64-byte callback limit without breaking a character."""
    return value.encode()[:TELEGRAM_CALLBACK_BYTES].decode(errors="ignore")


def render_telegram(reply: Reply) -> TelegramMessage:
    """Text and one inline button per option (two per row when labels are short)."""
    buttons = tuple((o.label, callback_data(o.value)) for o in reply.options)
    per_row = 2 if buttons and all(len(label) <= 16 for label, _ in buttons) else 1
    rows = tuple(buttons[i : i + per_row] for i in range(0, len(buttons), per_row))
    return TelegramMessage(reply.text, rows)


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


def render(channel: Channel, replies: Sequence[Reply]) -> list[Reply]:
    """The messages `channel` sends for `replies`, in order (see the module docstring):
    one message per turn where it fits, so a turn costs one provider send."""
    out: list[Reply] = []
    for reply in one_per_turn(replies):
        if channel in ("sms", "whatsapp"):
            parts = render_sms(reply) if channel == "sms" else render_whatsapp(reply)
            out.extend(Reply(p) for p in parts[:-1])
            out.append(Reply(parts[-1], reply.options))
        elif channel == "terminal":
            out.append(Reply(numbered(reply), reply.options))
        elif channel == "telegram":
            # One outbox row per message Telegram takes (4,096 characters), so a retry never
            # repeats a part already delivered; the buttons go with the last part.
            parts = split_text(render_telegram(reply).text, TELEGRAM_MAX_CHARS)
            out.extend(Reply(p) for p in parts[:-1])
            out.append(Reply(parts[-1], reply.options))
        else:
            out.append(reply)
    return out
