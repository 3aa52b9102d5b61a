"""Structured answers from finished flows, turned into triage facts.

Answers override what the text suggested where they state a fact (the flow, when it
happened, whether children are alone) and add danger flags; see the package docstring
for the keys. Dates are compared with ``now`` when given; without it they are noted
in the reasons and only their presence counts.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Final

from bot.types import INTENTS, Intent

# "flow" (or "intent") values that set the intent; "human" and unknown flows do not.
FLOW_INTENTS: Final[Mapping[str, Intent]] = {
    **{i: i for i in INTENTS},
    "screening": "programs",  # the deportation-risk screening: a legal-aid consultation
    "appointment": "programs",
}
COURT_SOON_DAYS: Final = 14  # a court date this close makes a consultation urgent
_REMOVAL_SOON: Final = {
    "removal_1d": "removal within a day",
    "removal_7d": "removal within a week",
    "removal_later": "removal later",
}
HARASSMENT_KINDS: Final = frozenset(
    {"work", "housing", "police", "public", "online", "extortion", "threat_report"}
)
ANSWER_FLAGS: Final = frozenset(
    {
        "removal",
        "removal_1d",
        "removal_7d",
        "removal_later",
        "children_affected",
        "children_alone",
        "danger_now",
        "safe",
        "taken",
        "rumor",
        "future",
        "extortion",
        "threat_report",
        "legal_screening",
        "court_soon",
        "court_missed",
        "removal_order",
        "arrest_open",
    }
    | {f"kind_{k}" for k in HARASSMENT_KINDS}
)
_WHEN_WORDS: Final = {"now": "now", "earlier_today": "earlier_today", "days_ago": "days"}
_RUMOR_CLEARS: Final = frozenset({"now", "just", "present", "hours", "earlier_today", "today"})
# The flows' own answer names (flows/*.yaml `save_as`) for the facts read below.
ENGINE_ALIASES: Final[Mapping[str, str]] = {
    "taken": "anyone_taken",
    "children": "children_affected",
    "safe": "safe_now",
}
_TRUE: Final = frozenset({"yes", "y", "si", "sí", "true", "1"})
_FALSE: Final = frozenset({"no", "n", "false", "0"})


@dataclass(slots=True)
class AnswerFacts:
    """What the answers say: an intent, a time, flags to add or remove, and why."""

    intent: Intent | None = None
    when: str | None = None
    add: set[str] = field(default_factory=set)
    remove: set[str] = field(default_factory=set)
    reasons: list[str] = field(default_factory=list)


def _as_bool(value: object) -> bool | None:
    if isinstance(value, bool):
        return value
    if isinstance(value, str):
        low = value.strip().lower()
        return True if low in _TRUE else False if low in _FALSE else None
    return None


def _as_date(value: object) -> date | None:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, str):
        try:
            return datetime.fromisoformat(value.strip()).date()
        except ValueError:
            return None
    return None


def _when_from_date(day: date, today: date) -> tuple[str, set[str]]:
    """Map an event date to a time name of rules.yaml (and extra flags)."""
    delta = (today - day).days
    if delta == 0:
        return "today", set()
    if delta == 1:
        return "yesterday", set()
    if 2 <= delta <= 14:
        return "days", set()
    if 15 <= delta <= 365:
        return "weeks", set()
    if delta > 365:
        return "past", set()
    if delta == -1:
        return "tomorrow", {"future"}
    return ("week" if delta >= -7 else "none"), {"future"}


def _read_when(value: object, today: date | None, facts: AnswerFacts) -> None:
    if isinstance(value, Mapping):  # the engine's parsed time: {"when", "raw", "days", "date"}
        value = value.get("date") or value.get("when")
    if not isinstance(value, str | date):
        return
    word = value.strip().lower() if isinstance(value, str) else ""
    if word in _WHEN_WORDS:
        facts.when = _WHEN_WORDS[word]
        facts.reasons.append(f"answer when={word} → {facts.when}")
    elif word == "rumor":
        facts.add.add("rumor")
        facts.remove |= _RUMOR_CLEARS
        facts.reasons.append("answer when=rumor → unconfirmed, not happening now")
    elif (day := _as_date(value)) is not None:
        if today is None:
            facts.reasons.append("answer when=<date> not compared: no reference time given")
            return
        facts.when, extra = _when_from_date(day, today)
        facts.add |= extra
        facts.reasons.append(f"answer when=<date> → {facts.when}")  # the date: in the answers


def _read_removal(value: object, today: date | None, facts: AnswerFacts) -> None:
    day = _as_date(value)
    if day is None:
        return
    facts.add.add("removal")
    if today is None:
        facts.reasons.append("answer removal_date given (no reference time) → removal pending")
        return
    days = (day - today).days
    flag = "removal_1d" if days <= 1 else "removal_7d" if days <= 7 else "removal_later"
    facts.add.add(flag)
    # How soon, not the date: the date of a person's removal stays in the answers.
    facts.reasons.append(f"answer removal_date → {_REMOVAL_SOON[flag]}")


def _read_flag(
    answers: Mapping[str, object],
    key: str,
    on_true: set[str],
    on_false: set[str],
    facts: AnswerFacts,
    remove_on_true: set[str],
) -> None:
    value = _as_bool(answers.get(key))
    if value is None:
        return
    if value:
        facts.add |= on_true
        facts.remove |= remove_on_true
    else:
        facts.add |= on_false
        facts.remove |= on_true - on_false
    facts.reasons.append(f"answer {key}={'yes' if value else 'no'}")


def _read_taken_count(value: object, facts: AnswerFacts) -> None:
    """The raid flow's "how many did they take?": a count, an amount said in words
    ({"approx": …}), or 0 for nobody. Any count above 0 means someone was taken."""
    if isinstance(value, bool) or value is None:
        return
    taken = value > 0 if isinstance(value, int) else isinstance(value, Mapping)
    if taken:
        facts.add.add("taken")
    else:
        facts.remove.add("taken")
    facts.reasons.append(f"answer taken_count → {'someone taken' if taken else 'nobody taken'}")


def _read_screening(answers: Mapping[str, object], today: date | None, facts: AnswerFacts) -> None:
    """The deportation-risk screening (flows/screening.yaml): what makes its consultation
    urgent. Only what the person said is read; a skipped question adds nothing."""
    facts.add.add("legal_screening")
    if answers.get("removal_order") == "yes":
        facts.add.add("removal_order")
        facts.reasons.append("answer removal_order=yes → earlier removal order")
    if answers.get("arrest") == "open":
        facts.add.add("arrest_open")
        facts.reasons.append("answer arrest=open → criminal case open now")
    court = answers.get("court_date")
    day = _as_date(court.get("date") if isinstance(court, Mapping) else court)
    if day is None or today is None:
        return
    days = (day - today).days
    if 0 <= days <= COURT_SOON_DAYS:
        facts.add.add("court_soon")
        facts.reasons.append(f"answer court_date → within {COURT_SOON_DAYS} days")
    elif days < 0:
        facts.add.add("court_missed")
        facts.reasons.append("answer court_date → passed: it may have been missed")


def read_answers(answers: Mapping[str, object], now: datetime | date | None) -> AnswerFacts:
    """Turn flow answers into facts that override or add to the text's."""
    facts = AnswerFacts()
    today = now.date() if isinstance(now, datetime) else now
    flow = answers.get("flow", answers.get("intent"))
    if isinstance(flow, str) and flow in FLOW_INTENTS:
        facts.intent = FLOW_INTENTS[flow]
        facts.reasons.append(f"answer flow={flow} → intent {facts.intent}")
    if flow == "screening":
        _read_screening(answers, today, facts)
    _read_when(answers.get("when"), today, facts)
    _read_removal(answers.get("removal_date"), today, facts)
    answers = {
        **answers,
        **{
            name: answers[alias]
            for alias, name in ENGINE_ALIASES.items()
            if alias in answers and name not in answers
        },
    }
    _read_taken_count(answers.get("taken_count"), facts)
    _read_flag(answers, "anyone_taken", {"taken"}, set(), facts, set())
    _read_flag(answers, "children_alone", {"children_alone"}, set(), facts, set())
    _read_flag(answers, "children_affected", {"children_affected"}, set(), facts, set())
    if _as_bool(answers.get("children_affected")) is False:
        facts.remove.add("children_alone")
    _read_flag(answers, "danger_now", {"danger_now"}, set(), facts, {"safe"})
    _read_flag(answers, "safe_now", {"safe"}, {"danger_now"}, facts, {"danger_now"})
    kind = answers.get("kind")
    if isinstance(kind, str) and kind in HARASSMENT_KINDS:
        facts.add |= {f"kind_{kind}"} | ({kind} if kind in ANSWER_FLAGS else set())
        facts.intent = facts.intent or "harassment"
        facts.reasons.append(f"answer kind={kind}")
    if facts.intent is None and "removal" in facts.add:
        facts.intent = "detention"
    return facts
