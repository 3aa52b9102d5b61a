"""The project's shared vocabulary: languages, channels, intents and priorities.

Every layer may import this module; it imports nothing of the project's own.
"""

from __future__ import annotations

from typing import Final, Literal, get_args

Lang = Literal["es", "en"]
LANGS: Final[tuple[Lang, ...]] = get_args(Lang)
DEFAULT_LANG: Final[Lang] = "es"

Channel = Literal["telegram", "sms", "whatsapp", "voice", "web", "terminal"]
CHANNELS: Final[tuple[Channel, ...]] = get_args(Channel)

Intent = Literal["raid", "detention", "harassment", "documents", "programs", "status", "other"]
INTENTS: Final[tuple[Intent, ...]] = get_args(Intent)

Priority = Literal["critical", "high", "normal", "low"]
PRIORITIES: Final[tuple[Priority, ...]] = get_args(Priority)
# Lower rank = more urgent; queues sort on it.
PRIORITY_RANK: Final[dict[str, int]] = {p: i for i, p in enumerate(PRIORITIES)}


def as_lang(value: object) -> Lang:
    """A language code ("es-MX", "en") reduced to one we speak; Spanish otherwise."""
    short = value[:2].lower() if isinstance(value, str) else ""
    return next((lang for lang in LANGS if lang == short), DEFAULT_LANG)


def as_channel(value: str, default: Channel = "web") -> Channel:
    """A stored channel name as the typed `Channel`."""
    return next((channel for channel in CHANNELS if channel == value), default)
