"""classify(): a message (and optional flow answers) to an intent, a priority and reasons.

Pipeline: normalise → correct spelling → find the rules' cues → score with the learned
model (``model.py``) → intent → priority: the model's, raised by danger overrides and
lowered by caps (``rules.yaml``). Answers from a finished flow override the text: a flow
sets the intent, and stated facts (time, danger, children, removal date) decide the
priority through the priority rules, as before the model existed. Without a model file
the rules decide everything.

The result says how sure it is (``confidence``); below the threshold chosen on the
leave-one-author-out folds, ``needs_review`` asks staff to check intent and priority first.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Final

from bot.triage.answers import read_answers
from bot.triage.features import Features, extract
from bot.triage.matcher import Hit, find_hits
from bot.triage.model import Scores, Settings, TriageModel, load_model
from bot.triage.rules import NO_TIME, RuleBook, load_rules
from bot.triage.spelling import Speller
from bot.triage.vocab import Vocabulary, load_vocabulary
from bot.types import PRIORITIES, Intent, Priority

_MAX_CUE_REASONS = 6


@dataclass(frozen=True, slots=True)
class Triage:
    """The verdict on a message: what it is about, how urgent, why, and how sure."""

    intent: Intent
    priority: Priority
    reasons: tuple[str, ...]
    needs_review: bool = False
    confidence: float = 1.0


READINGS_KEPT: Final = 2048  # readings of texts kept by each classifier


@dataclass(frozen=True, slots=True)
class Reading:
    """What the text says before any decision: cues, flags, time and the model's scores."""

    features: Features
    flags: frozenset[str]
    when: str
    points: dict[Intent, float]  # the rules' intent points (used without a model)
    cue_reasons: tuple[str, ...]
    model: Scores | None


def _cue_facts(hits: list[Hit]) -> tuple[set[str], dict[Intent, float], list[str]]:
    flags: set[str] = set()
    scores: dict[Intent, float] = {}
    reasons: list[str] = []
    seen: set[str] = set()
    for hit in hits:
        group = hit.cue.group
        if not group.flags and not group.intents:
            continue
        # The cue's group, never the words that matched: reasons explain the verdict to
        # every reader of the case; the person's words stay in its summary.
        if hit.negated:
            reason = f"cue {group.name} negated → ignored"
        else:
            flags |= group.flags
            for intent, points in group.intents:
                scores[intent] = scores.get(intent, 0.0) + points
            reason = f"cue {group.name} → {group.label}"
        if reason not in seen and len(reasons) < _MAX_CUE_REASONS:
            seen.add(reason)
            reasons.append(reason)
    return flags, scores, reasons


def _choose_intent(
    rules: RuleBook, scores: dict[Intent, float], flags: set[str], when: str
) -> tuple[Intent, list[str]]:
    reasons: list[str] = []
    scores = dict(scores)
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


class Classifier:
    """Rules, vocabulary and (optionally) a learned model, ready to classify messages."""

    def __init__(self, vocab: Vocabulary, rules: RuleBook, model: TriageModel | None) -> None:
        self.vocab = vocab
        self.rules = rules
        self.model = model
        known = model.known_words if model is not None else frozenset[str]()
        self.speller = Speller(vocab.cue_words, known)
        # A report's words are read again at each of its answers, mostly unchanged ("1",
        # "no" add none): the last few thousand readings are kept (a Reading is never changed).
        self._readings = functools.lru_cache(maxsize=READINGS_KEPT)(self._read)

    @property
    def settings(self) -> Settings | None:
        """The model's thresholds and calibration, if there is a model."""
        return self.model.settings if self.model is not None else None

    def read(self, text: str) -> Reading:
        """Normalise, correct and score ``text``; no decision yet."""
        return self._readings(text)

    def _read(self, text: str) -> Reading:
        vocab = self.vocab
        toks = self.speller.correct(vocab.normalizer.tokens(text or ""))
        hits = find_hits(toks, vocab)
        flags, scores, reasons = _cue_facts(hits)
        when = next((t for t in self.rules.time_order if t in flags), NO_TIME)
        feats = extract(toks, hits)
        # No explaining words: they would be the person's words, copied into the reasons.
        model = self.model.score(feats, explain=0) if self.model is not None else None
        return Reading(feats, frozenset(flags), when, scores, tuple(reasons), model)

    def decide(
        self,
        reading: Reading,
        answers: Mapping[str, object] | None = None,
        now: datetime | date | None = None,
        *,
        settings: Settings | None = None,
    ) -> Triage:
        """Turn a reading (and flow answers) into a verdict."""
        rules = self.rules
        settings = settings or self.settings
        flags = set(reading.flags)
        when = reading.when
        reasons = list(reading.cue_reasons)
        forced: Intent | None = None
        stated = False
        if answers:
            facts = read_answers(answers, now)
            flags = (flags - facts.remove) | facts.add
            forced = facts.intent
            stated = facts.when is not None or bool(facts.add or facts.remove)
            if facts.when is not None:
                when = facts.when
            elif stated:
                when = next((t for t in rules.time_order if t in flags), NO_TIME)
            reasons.extend(facts.reasons)
        scores = reading.model
        if scores is None or settings is None or not scores.known:
            return self._by_rules(reading, flags, when, forced, reasons)
        if forced is not None:
            intent, p_intent = forced, 1.0
            reasons.append(f"intent {intent} from the flow")
        else:
            intent = max(scores.intent, key=scores.intent.__getitem__)
            p_intent = scores.intent[intent]
            reasons.append(f"model: intent {intent} {p_intent:.0%}")
            intent, why = rules.adjust_intent(intent, when, flags)
            if why:
                reasons.append(why)
                p_intent = scores.intent[intent]
        if stated:
            stated_priority, rule_reasons = rules.decide(intent, when, flags)
            confidence = round(p_intent, 3)
            return Triage(intent, stated_priority, (*reasons, *rule_reasons), False, confidence)
        probs = scores.priority
        priority: Priority = "critical"
        if probs["critical"] < settings.critical_threshold:
            priority = max(PRIORITIES, key=probs.__getitem__)
        reasons.append(f"model: priority {priority} {probs[priority]:.0%}")
        priority, adjusted = rules.adjust_priority(priority, intent, when, flags)
        reasons.extend(adjusted)
        confidence = round(min(p_intent, probs[priority]), 3)
        review = confidence < settings.review_threshold
        if review:
            reasons.append(f"unsure ({confidence:.0%}) → staff check intent and priority")
        return Triage(intent, priority, tuple(reasons), review, confidence)

    def _by_rules(
        self,
        reading: Reading,
        flags: set[str],
        when: str,
        forced: Intent | None,
        reasons: list[str],
    ) -> Triage:
        intent, intent_reasons = _choose_intent(self.rules, reading.points, flags, when)
        if forced is not None:
            intent, intent_reasons = forced, [f"intent {forced} from the flow"]
        priority, rule_reasons = self.rules.decide(intent, when, flags)
        return Triage(intent, priority, (*reasons, *intent_reasons, *rule_reasons))

    def classify(
        self,
        text: str,
        answers: Mapping[str, object] | None = None,
        *,
        now: datetime | date | None = None,
    ) -> Triage:
        """Classify one message."""
        return self.decide(self.read(text), answers, now)


@functools.cache
def default_classifier() -> Classifier:
    """The classifier of the shipped data and committed model (built once)."""
    return Classifier(load_vocabulary(), load_rules(), load_model())


def classify(
    text: str, answers: Mapping[str, object] | None = None, *, now: datetime | date | None = None
) -> Triage:
    """Classify a message; flow ``answers`` override or raise what the text says."""
    return default_classifier().classify(text, answers, now=now)


__all__ = ["Classifier", "Reading", "Triage", "classify", "default_classifier"]
