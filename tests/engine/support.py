"""Helpers for driving the pure runner in tests: one shared Flows, a fixed clock, `talk`."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import cache

from bot.engine import (
    Context,
    ConversationState,
    Effect,
    Flows,
    Hints,
    Inbound,
    Media,
    Reply,
    SaveReport,
    Step,
    advance,
    load_flows,
)
from bot.types import Channel

NOW = datetime(2026, 3, 10, 15, 0, tzinfo=UTC)
REF = "HL-7K4M2Q"


@cache
def flows() -> Flows:
    """The project's flows, loaded once for the whole test run."""
    return load_flows()


def ctx(
    now: datetime = NOW,
    classify: Callable[[str], Hints] | None = None,
    expire_after: timedelta = timedelta(hours=24),
) -> Context:
    """A context with a fixed clock and reference."""
    return Context(now=now, new_ref=REF, classify=classify, expire_after=expire_after)


def send(
    state: ConversationState,
    text: str = "",
    *,
    channel: Channel = "sms",
    media: tuple[Media, ...] = (),
    location: tuple[float, float] | None = None,
    lang_hint: str | None = None,
    now: datetime = NOW,
    classify: Callable[[str], Hints] | None = None,
) -> Step:
    """One message through `advance`."""
    inbound = Inbound(text, channel, media=media, location=location, lang_hint=lang_hint)
    return advance(flows(), state, inbound, ctx(now, classify))


@dataclass
class Talk:
    """A conversation driven message by message."""

    state: ConversationState = field(default_factory=ConversationState)
    steps: list[Step] = field(default_factory=list)
    classify: Callable[[str], Hints] | None = None
    lang_hint: str | None = None
    now: datetime = NOW

    def say(self, text: str = "", **kwargs: object) -> Step:
        """Send one message one minute after the previous one."""
        self.now += timedelta(minutes=1)
        step = send(
            self.state,
            text,
            now=self.now,
            classify=self.classify,
            lang_hint=self.lang_hint,
            **kwargs,
        )  # type: ignore[arg-type]
        self.state = step.state
        self.steps.append(step)
        return step

    def run(self, messages: Iterable[str]) -> Talk:
        """Send several messages."""
        for message in messages:
            self.say(message)
        return self

    @property
    def last(self) -> Step:
        """The last step."""
        return self.steps[-1]

    def effects(self) -> list[Effect]:
        """Every effect so far."""
        return [e for s in self.steps for e in s.effects]

    def opened(self) -> SaveReport | None:
        """The complete report (its case leaving intake), if any."""
        return next((e for e in self.effects() if isinstance(e, SaveReport) and e.done), None)


def texts(replies: Sequence[Reply]) -> str:
    """All reply texts joined, for `in` checks."""
    return "\n".join(r.text for r in replies)


def values(reply: Reply) -> list[str]:
    """The option values a reply offers."""
    return [o.value for o in reply.options]


def accepted(lang: str = "es") -> ConversationState:
    """An idle state whose person already accepted the privacy notice."""
    return ConversationState(
        lang=lang,
        privacy_accepted=True,  # type: ignore[arg-type]
        last_activity=NOW.isoformat(),
    )
