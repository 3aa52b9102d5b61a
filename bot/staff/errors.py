"""The staff layer's own errors, next to the project's tree in `bot.errors`.

BotError
 ├── NotFound, Forbidden, IllegalTransition   (bot.errors; mapped to 404, 403, 409)
 └── Invalid                                   a request the staff layer refuses (422)
"""

from __future__ import annotations

from bot.errors import BotError


class Invalid(BotError):
    """A request with a value the staff layer refuses (unknown desk, outcome, empty text)."""
