"""The runner's plain data: what comes in, what goes out, and the conversation's state.

Effects are instructions for the service, applied in the same transaction as the replies:

    SaveReport(ref, flow, intent, answers, …)    a report opens its case at once (case first)
                                                 and every later answer updates the same case;
                                                 `done` ends intake, `anonymous` keeps words out
    RequestHuman(reason, flow, answers, ref)     flag or open a case for a person; the service
                                                 replies itself (catalog key "human.requested")
    LookupStatus(ref, own)                       the service replies with the case's status
                                                 (catalog keys "status.<case status>")
    EraseData()                                  the person confirmed: erase their data
    AttachEvidence(ref, media)                   photos / voice notes sent after a case exists
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, fields
from datetime import datetime, timedelta
from typing import Any, Final, Protocol

from bot.types import DEFAULT_LANG, LANGS, Channel, Intent, Lang, Priority

STATE_VERSION: Final = 1


@dataclass(frozen=True, slots=True)
class Media:
    """A photo, video, voice note or file the channel stored; `ref` is the channel's handle."""

    ref: str
    content_type: str = ""


@dataclass(frozen=True, slots=True)
class Inbound:
    """One message from the person, already sanitised and length-capped by the service."""

    text: str
    channel: Channel
    media: tuple[Media, ...] = ()
    location: tuple[float, float] | None = None
    lang_hint: str | None = None


@dataclass(frozen=True, slots=True)
class Hints:
    """What the injected classifier read in free text."""

    intent: Intent
    priority: Priority
    prefill: Mapping[str, object] = field(default_factory=dict)
    sure: bool = True  # False: the classifier asks staff to review its reading


@dataclass(frozen=True, slots=True)
class SlotOffer:
    """A consultation time: `at` is the desk's local time; `place` names the consulate (or
    says it is by phone) in the person's language."""

    id: int
    at: datetime
    place: str
    remote: bool = False


@dataclass(frozen=True, slots=True)
class Booking:
    """A person's booked consultation."""

    ref: str
    slot: SlotOffer


class Appointments(Protocol):
    """The person's consultation desk, as the runner sees it (the service implements it over
    the database, inside the message's transaction; `bot.appointments` owns the rules)."""

    def offer(self, ref: str | None, answers: Mapping[str, Any]) -> tuple[SlotOffer, ...]:
        """The next free slots for this report (its desk's, or central's remote ones)."""
        ...

    def book(self, ref: str, slot_id: int) -> bool:
        """Take the slot for case `ref` (moving any earlier booking); False when taken."""
        ...

    def current(self) -> Booking | None:
        """This person's next booked consultation."""
        ...

    def last(self) -> Booking | None:
        """This person's most recent consultation, whatever became of it."""
        ...

    def cancel(self) -> Booking | None:
        """Cancel this person's next consultation; what was cancelled, if anything."""
        ...


@dataclass(frozen=True, slots=True)
class Context:
    """Everything impure the runner needs, passed in: the time, a fresh ref, the classifier,
    the consultation desk."""

    now: datetime
    new_ref: str
    classify: Callable[[str], Hints] | None = None
    places: Callable[[str], Sequence[tuple[str, str]]] | None = None
    """The states (code, name) of a town several states have, when an answer to "where?"
    names one and nothing says which ("Hillsboro"); () when the place is settled."""
    expire_after: timedelta = timedelta(hours=24)
    appointments: Appointments | None = None


@dataclass(frozen=True, slots=True)
class Option:
    """A choice offered to the person: `label` is shown, `value` comes back (≤ 64 bytes)."""

    label: str
    value: str


@dataclass(frozen=True, slots=True)
class Reply:
    """One message to the person, in their language, channel-neutral."""

    text: str
    options: tuple[Option, ...] = ()


@dataclass(frozen=True, slots=True)
class SaveReport:
    """Open or update the case of a report (answers include "flow" and "lang").

    `step` is the flow step reached; `done` ends intake. `anonymous` (the privacy notice is
    not accepted yet) stores intent, priority, desk and a coarse place, never the words.
    """

    ref: str
    flow: str
    intent: Intent | None  # the flow's intent; None lets triage decide
    answers: Mapping[str, Any]
    text: str
    step: str | None = None
    done: bool = False
    anonymous: bool = False
    floor: Priority | None = None  # at least this urgent whatever triage says (panic alert)
    withdrawn: bool = False  # the person left before saying anything: not a report after all


@dataclass(frozen=True, slots=True)
class RequestHuman:
    """The person wants a person; the service flags or opens a case and replies itself."""

    reason: str
    flow: str | None = None
    answers: Mapping[str, Any] = field(default_factory=dict)
    ref: str | None = None  # the report in progress, when its case is already open


@dataclass(frozen=True, slots=True)
class LookupStatus:
    """The service replies with the status of case `ref` (if it belongs to this person)."""

    ref: str
    own: bool = False  # this conversation opened it (also before the privacy notice)


@dataclass(frozen=True, slots=True)
class EraseData:
    """The person confirmed: erase everything stored about them."""


@dataclass(frozen=True, slots=True)
class AttachEvidence:
    """Add media the person sent to their existing case `ref`."""

    ref: str
    media: tuple[Media, ...]


Effect = SaveReport | RequestHuman | LookupStatus | EraseData | AttachEvidence


@dataclass(frozen=True, slots=True)
class ConversationState:
    """Where one person's conversation stands; idle (main menu) when `flow` is None.

    `answers` and the other containers are never mutated: every change makes a new state.
    """

    lang: Lang = DEFAULT_LANG
    flow: str | None = None
    step: str | None = None
    answers: Mapping[str, Any] = field(default_factory=dict)
    history: tuple[str, ...] = ()
    misses: int = 0
    privacy_accepted: bool = False
    pending: str | None = None
    last_activity: str | None = None
    last_ref: str | None = None
    lang_chosen: bool = False
    case_ref: str | None = None  # the case of the report being told (case first)
    critical: bool = False  # the report read as critical (first message, danger, an alert)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready copy."""
        data = {f.name: getattr(self, f.name) for f in fields(self)}
        data["answers"] = dict(self.answers)
        data["history"] = list(self.history)
        data["v"] = STATE_VERSION
        return data

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ConversationState:
        """Rebuild a state from `to_dict()` output; unknown or broken values fall back."""
        lang = data.get("lang")
        answers = data.get("answers")
        history = data.get("history")
        return cls(
            lang=lang if lang in LANGS else DEFAULT_LANG,
            flow=_str_or_none(data.get("flow")),
            step=_str_or_none(data.get("step")),
            answers=dict(answers) if isinstance(answers, Mapping) else {},
            history=tuple(h for h in history if isinstance(h, str))
            if isinstance(history, list | tuple)
            else (),
            misses=int(data.get("misses") or 0),
            privacy_accepted=bool(data.get("privacy_accepted")),
            pending=_str_or_none(data.get("pending")),
            last_activity=_str_or_none(data.get("last_activity")),
            last_ref=_str_or_none(data.get("last_ref")),
            lang_chosen=bool(data.get("lang_chosen")),
            case_ref=_str_or_none(data.get("case_ref")),
            critical=bool(data.get("critical")),
        )


@dataclass(frozen=True, slots=True)
class Step:
    """What `advance` returns: the new state, the replies to send, the effects to apply."""

    state: ConversationState
    replies: tuple[Reply, ...] = ()
    effects: tuple[Effect, ...] = ()


def _str_or_none(value: object) -> str | None:
    return value if isinstance(value, str) and value else None
