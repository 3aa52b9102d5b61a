"""Priority rules: loads ``data/triage/rules.yaml`` and applies it to the facts of a message.

Facts are flags (from cues or flow answers), the resolved time of the event ("when")
and the chosen intent. The first priority rule that fits decides; floors may then
raise the result. The file's comments explain each key.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping, Set
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

import yaml

from bot.triage.answers import ANSWER_FLAGS
from bot.triage.vocab import DATA_DIR, TriageDataError, load_vocabulary
from bot.types import INTENTS, PRIORITIES, PRIORITY_RANK, Intent, Priority

NO_TIME: Final = "none"
_RULE_KEYS: Final = {"reason", "intent", "when", "all", "any", "none", "priority", "add", "scale"}


@dataclass(frozen=True, slots=True)
class Condition:
    """When a rule applies: intent, time and flags."""

    intents: frozenset[str]
    when: frozenset[str]
    all: frozenset[str]
    any: frozenset[str]
    none: frozenset[str]

    def fits(self, intent: str, when: str, flags: Set[str]) -> bool:
        """Whether the rule applies to these facts."""
        return (
            (not self.intents or intent in self.intents)
            and (not self.when or when in self.when)
            and self.all <= flags
            and (not self.any or not self.any.isdisjoint(flags))
            and self.none.isdisjoint(flags)
        )


@dataclass(frozen=True, slots=True)
class PriorityRule:
    """A rule giving a priority, with the reason staff see."""

    reason: str
    condition: Condition
    priority: Priority


@dataclass(frozen=True, slots=True)
class IntentRule:
    """A rule changing the learned model's intent, with the reason staff see."""

    reason: str
    condition: Condition
    to: Intent


@dataclass(frozen=True, slots=True)
class Adjustment:
    """A rule changing intent points before the intent is chosen."""

    reason: str
    condition: Condition
    add: tuple[tuple[Intent, float], ...]
    scale: tuple[tuple[Intent, float], ...]


@dataclass(frozen=True, slots=True)
class RuleBook:
    """The whole of rules.yaml, compiled."""

    intent_order: tuple[Intent, ...]
    min_intent_score: float
    time_order: tuple[str, ...]
    adjust: tuple[Adjustment, ...]
    priority: tuple[PriorityRule, ...]
    floors: tuple[PriorityRule, ...]
    overrides: tuple[PriorityRule, ...] = ()
    caps: tuple[PriorityRule, ...] = ()
    intent_overrides: tuple[IntentRule, ...] = ()

    def adjust_intent(self, intent: Intent, when: str, flags: Set[str]) -> tuple[Intent, str]:
        """The intent after the first fitting intent override, and its reason ("" if none)."""
        for rule in self.intent_overrides:
            if rule.condition.fits(intent, when, flags):
                return rule.to, rule.reason
        return intent, ""

    def decide(self, intent: str, when: str, flags: Set[str]) -> tuple[Priority, list[str]]:
        """The priority for these facts and the reasons of the rules that gave it."""
        result: Priority = "low"
        reasons: list[str] = []
        for rule in self.priority:
            if rule.condition.fits(intent, when, flags):
                result = rule.priority
                reasons.append(f"{rule.reason} → {rule.priority}")
                break
        for rule in self.floors:
            if PRIORITY_RANK[rule.priority] < PRIORITY_RANK[result] and rule.condition.fits(
                intent, when, flags
            ):
                result = rule.priority
                reasons.append(f"{rule.reason} → raised to {rule.priority}")
        return result, reasons

    def adjust_priority(
        self, priority: Priority, intent: str, when: str, flags: Set[str]
    ) -> tuple[Priority, list[str]]:
        """Raise ``priority`` by the first fitting danger override, then lower it by caps."""
        reasons: list[str] = []
        for rule in self.overrides:
            if PRIORITY_RANK[rule.priority] < PRIORITY_RANK[priority] and rule.condition.fits(
                intent, when, flags
            ):
                priority = rule.priority
                reasons.append(f"{rule.reason} → raised to {rule.priority}")
                break
        if not reasons:
            for rule in self.caps:
                if PRIORITY_RANK[rule.priority] > PRIORITY_RANK[priority] and rule.condition.fits(
                    intent, when, flags
                ):
                    priority = rule.priority
                    reasons.append(f"{rule.reason} → lowered to {rule.priority}")
                    break
        return priority, reasons


def _names(value: Any, where: str, allowed: Set[str] | None) -> frozenset[str]:
    if value is None:
        return frozenset()
    if not isinstance(value, list):
        raise TriageDataError(f"{where}: expected a list, got {value!r}")
    names = frozenset(str(v) for v in value)
    if allowed is not None and not names <= allowed:
        raise TriageDataError(f"{where}: unknown name(s) {sorted(names - allowed)}")
    return names


def _condition(spec: Mapping[str, Any], where: str, flags: Set[str], times: Set[str]) -> Condition:
    unknown = set(spec) - _RULE_KEYS
    if unknown:
        raise TriageDataError(f"{where}: unknown key(s) {sorted(unknown)}")
    return Condition(
        intents=_names(spec.get("intent"), f"{where} intent", set(INTENTS)),
        when=_names(spec.get("when"), f"{where} when", times),
        all=_names(spec.get("all"), f"{where} all", flags),
        any=_names(spec.get("any"), f"{where} any", flags),
        none=_names(spec.get("none"), f"{where} none", flags),
    )


def _points(value: Any, where: str) -> tuple[tuple[Intent, float], ...]:
    items = dict(value or {})
    for key in items:
        if key not in INTENTS:
            raise TriageDataError(f"{where}: unknown intent {key!r}")
    return tuple((k, float(v)) for k, v in items.items())


def _priority_rules(
    specs: Any, where: str, flags: Set[str], times: Set[str]
) -> tuple[PriorityRule, ...]:
    rules: list[PriorityRule] = []
    for n, spec in enumerate(specs or (), start=1):
        here = f"{where} #{n}"
        if spec.get("priority") not in PRIORITIES:
            raise TriageDataError(f"{here}: priority must be one of {list(PRIORITIES)}")
        rules.append(
            PriorityRule(
                str(spec.get("reason", here)),
                _condition(spec, here, flags, times),
                spec["priority"],
            )
        )
    return tuple(rules)


def _intent_rules(
    specs: Any, where: str, flags: Set[str], times: Set[str]
) -> tuple[IntentRule, ...]:
    rules: list[IntentRule] = []
    for n, spec in enumerate(specs or (), start=1):
        here = f"{where} #{n}"
        spec = dict(spec)
        to = spec.pop("to", None)
        if to not in INTENTS:
            raise TriageDataError(f"{here}: 'to' must be one of {list(INTENTS)}")
        rules.append(
            IntentRule(str(spec.get("reason", here)), _condition(spec, here, flags, times), to)
        )
    return tuple(rules)


def compile_rules(path: Path, known_flags: Set[str]) -> RuleBook:
    """Read rules.yaml; flags must be ones cues or answers can set."""
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise TriageDataError(f"{path}: cannot read: {exc}") from exc
    times = tuple(str(t) for t in data.get("time_order") or ())
    flags = set(known_flags)
    time_names = {*times, NO_TIME}
    order = tuple(data.get("intent_order") or INTENTS)
    if sorted(order) != sorted(INTENTS):
        raise TriageDataError(f"{path}: intent_order must list every intent once")
    adjust = tuple(
        Adjustment(
            str(spec.get("reason", f"adjust #{n}")),
            _condition(spec, f"{path}: adjust #{n}", flags, time_names),
            _points(spec.get("add"), f"{path}: adjust #{n} add"),
            _points(spec.get("scale"), f"{path}: adjust #{n} scale"),
        )
        for n, spec in enumerate(data.get("adjust") or (), start=1)
    )
    return RuleBook(
        intent_order=order,
        min_intent_score=float(data.get("min_intent_score", 1.0)),
        time_order=times,
        adjust=adjust,
        priority=_priority_rules(data.get("priority"), f"{path}: priority", flags, time_names),
        floors=_priority_rules(data.get("floors"), f"{path}: floors", flags, time_names),
        overrides=_priority_rules(data.get("overrides"), f"{path}: overrides", flags, time_names),
        caps=_priority_rules(data.get("caps"), f"{path}: caps", flags, time_names),
        intent_overrides=_intent_rules(
            data.get("intent_overrides"), f"{path}: intent_overrides", flags, time_names
        ),
    )


@functools.cache
def load_rules(data_dir: Path = DATA_DIR) -> RuleBook:
    """The compiled rule book from ``data_dir`` (cached)."""
    return compile_rules(data_dir / "rules.yaml", load_vocabulary(data_dir).flags | ANSWER_FLAGS)
