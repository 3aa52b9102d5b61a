"""classify(): a message (and optional flow answers) to an intent, a priority and reasons.

Pipeline: normalise → find cues → apply answers → resolve the time → adjust and pick
the intent → first fitting priority rule → floors. Vocabulary and rules are data
(``data/triage/*.yaml``), compiled once and cached.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime

from bot.triage.answers import read_answers
from bot.triage.matcher import Hit, find_hits
from bot.triage.rules import NO_TIME, RuleBook, load_rules
from bot.triage.vocab import Vocabulary, load_vocabulary
from bot.types import Intent, Priority

_MAX_CUE_REASONS = 8


@dataclass(frozen=True, slots=True)
class Triage:
    """The verdict on a message: what it is about, how urgent, and why."""

    intent: Intent
    priority: Priority
    reasons: tuple[str, ...]


def _cue_facts(hits: list[Hit], toks: list[str]) -> tuple[set[str], dict[Intent, float], list[str]]:
    flags: set[str] = set()
    scores: dict[Intent, float] = {}
    reasons: list[str] = []
    seen: set[str] = set()
    for hit in hits:
        group = hit.cue.group
        if not group.flags and not group.intents:
            continue
        words = " ".join(toks[hit.start : hit.end])
        if hit.negated:
            reason = f"cue '{words}' negated → ignored"
        else:
            flags |= group.flags
            for intent, points in group.intents:
                scores[intent] = scores.get(intent, 0.0) + points
            reason = f"cue '{words}' → {group.label}"
        if reason not in seen and len(reasons) < _MAX_CUE_REASONS:
            seen.add(reason)
            reasons.append(reason)
    return flags, scores, reasons


def _choose_intent(
    rules: RuleBook, scores: dict[Intent, float], flags: set[str], when: str
) -> tuple[Intent, list[str]]:
    reasons: list[str] = []
    for adj in rules.adjust:
        if adj.condition.fits("", when, flags):
            for intent, points in adj.add:
                scores[intent] = scores.get(intent, 0.0) + points
            for intent, factor in adj.scale:
                if intent in scores:
                    scores[intent] *= factor
            reasons.append(adj.reason)
    best: Intent = "other"
    best_score = rules.min_intent_score - 1e-9
    for intent in rules.intent_order:
        score = scores.get(intent, 0.0)
        if score > best_score:
            best, best_score = intent, score
    if best != "other" or scores.get("other"):
        reasons.append(f"intent {best} (points {max(best_score, 0.0):g})")
    else:
        reasons.append("no clear topic → intent other")
    return best, reasons


def classify(
    text: str, answers: Mapping[str, object] | None = None, *, now: datetime | date | None = None
) -> Triage:
    """Classify a message; flow ``answers`` override or raise what the text says."""
    vocab: Vocabulary = load_vocabulary()
    rules: RuleBook = load_rules()
    toks = vocab.normalizer.tokens(text or "")
    flags, scores, reasons = _cue_facts(find_hits(toks, vocab), toks)
    forced_intent: Intent | None = None
    when: str | None = None
    if answers:
        facts = read_answers(answers, now)
        flags = (flags - facts.remove) | facts.add
        forced_intent, when = facts.intent, facts.when
        reasons.extend(facts.reasons)
    if when is None:
        when = next((t for t in rules.time_order if t in flags), NO_TIME)
    intent, intent_reasons = _choose_intent(rules, scores, flags, when)
    if forced_intent is not None:
        intent = forced_intent
        intent_reasons = [f"intent {intent} from the flow"]
    priority, rule_reasons = rules.decide(intent, when, flags)
    return Triage(intent, priority, tuple(reasons + intent_reasons + rule_reasons))
