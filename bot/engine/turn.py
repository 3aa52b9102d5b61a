"""One call of `advance` in the making: the state so far, and the replies and effects collected.

A `Turn` is created, changed and dropped inside `advance`; nothing outside sees it mutate.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

from bot.engine import keys, prompts
from bot.engine.flows import Flows
from bot.engine.model import Context, ConversationState, Effect, Inbound, Option, Reply, Step
from bot.engine.text import clean, normalize
from bot.types import Lang

# What idle keeps until a flow starts, so nothing is lost: the person's words, photos, and
# what a panic alert knew (the place shared, the danger).
KEPT = ("text", "evidence", "location", "danger_now")


@dataclass(slots=True)
class Turn:
    """The working copy of a conversation while one inbound message is handled."""

    flows: Flows
    ctx: Context
    inbound: Inbound
    state: ConversationState
    text: str = ""
    norm: str = ""
    replies: list[Reply] = field(default_factory=list)
    effects: list[Effect] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.text = clean(self.inbound.text)
        self.norm = normalize(self.text)

    @property
    def lang(self) -> Lang:
        """The person's language."""
        return self.state.lang

    def update(self, **changes: Any) -> None:
        """Replace fields of the state."""
        self.state = replace(self.state, **changes)

    def t(self, key: str, **values: object) -> str:
        """A catalog text in the person's language."""
        return self.flows.catalog.t(key, self.lang, **values)

    def say(self, key: str, options: tuple[Option, ...] = (), **values: object) -> None:
        """Add a reply from the catalog."""
        self.replies.append(Reply(self.t(key, **values), options))

    def emit(self, effect: Effect) -> None:
        """Add an effect for the service."""
        self.effects.append(effect)

    def menu(self, key: str = keys.MENU_PROMPT) -> None:
        """Go idle and show the main menu introduced by `key`."""
        self.go_idle()
        self.replies.append(prompts.menu(self.flows.catalog, self.lang, key))

    def go_idle(self, keep_text: bool = False) -> None:
        """Leave any flow and pending question (keeping the person's own words if asked)."""
        kept = {k: v for k, v in self.state.answers.items() if k in KEPT and v} if keep_text else {}
        self.update(
            flow=None,
            step=None,
            answers=kept,
            history=(),
            misses=0,
            pending=None,
            case_ref=None,
            critical=False,
        )

    def finish(self) -> Step:
        """The result of the turn."""
        state = replace(self.state, last_activity=self.ctx.now.isoformat())
        return Step(state, tuple(self.replies), tuple(self.effects))
