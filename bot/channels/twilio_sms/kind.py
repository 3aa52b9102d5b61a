"""What SMS and WhatsApp are (through Twilio), and how a reply fits their messages.

Both are pushed, addressed by phone number, and have opt-out words (STOP/BAJA…): writing
again does not lift an opt-out, START/ALTA does. Twilio's one webhook carries both
(`whatsapp:` marks the sender), one transport sends both.

SMS: GSM-7 carries 160 characters in one segment, 153 per segment when split; the extension
characters (^ { } \\ [ ~ ] | €, form feed) take two. One character outside GSM-7 switches the
whole message to UCS-2: 70, then 67 per segment. In Spanish ñ é ü ¿ ¡ are GSM-7 but
á í ó ú are not, so `render_sms` by default writes a, i, o, u instead when that is the only
thing keeping a message out of GSM-7 (a product choice: half the cost, same readability).
Options are numbered in the text ("1) Sí"); a long reply is split at sentence ends into
messages of at most two segments, the options kept on the last. WhatsApp keeps full
spelling and is split only past Twilio's 1,600 characters.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import replace
from typing import Final, Literal

from bot.channels.base import ChannelType, numbered, options_on_last, split_text
from bot.engine.model import Reply

Encoding = Literal["GSM-7", "UCS-2"]
GSM7_BASIC: Final = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
GSM7_EXTENSION: Final = frozenset("\f^{}\\[~]|€")
_GSM7: Final = GSM7_BASIC | GSM7_EXTENSION
SMS_MAX_SEGMENTS: Final = 2
WHATSAPP_MAX_CHARS: Final = 1600
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
    return _GSM7.issuperset(text)


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


# Single-word keywords, any case, accents ignored (English and Spanish). Twilio itself
# answers the English ones on an SMS long code.
STOP_WORDS: Final = frozenset(
    {"STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT", "ALTO", "PARAR", "BAJA"}
)
START_WORDS: Final = frozenset({"START", "ALTA", "UNSTOP", "YES"})
HELP_WORDS: Final = frozenset({"HELP", "AYUDA", "INFO"})

SMS: Final = ChannelType(
    name="sms",
    provider="twilio",
    pushed=True,
    reachable_by_writing=False,
    address="phone",
    render_one=lambda reply: options_on_last(render_sms(reply), reply),
    stop_words=STOP_WORDS,
    start_words=START_WORDS,
    help_words=HELP_WORDS,
)
WHATSAPP: Final = replace(  # the same nature as SMS; only the message size differs
    SMS, name="whatsapp", render_one=lambda reply: options_on_last(render_whatsapp(reply), reply)
)
