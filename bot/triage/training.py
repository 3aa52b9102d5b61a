"""Training the triage model: ``hotline triage train`` (needs scikit-learn; run time does not).

Deterministic: examples are sorted, the solver (L-BFGS) has no randomness, and the output
depends only on the labelled files and the vocabulary, whose SHA-256 the model records.

1. Leave-one-author-out: for each author, fit on the other authors and the old
   set, and read the held-out author's messages with that model.
2. From those held-out readings choose the calibration temperatures (least log-loss), the
   probability above which a message is critical (best F3 over the pooled held-out
   messages, after danger overrides and caps: recall counts nine times as much as
   precision) and the confidence below which a case is flagged for review (the least
   sure fifth of the held-out messages).
3. Fit on every labelled message and write ``data/triage/model.npz``.

The blind set (``tests/data/blind``) is never read here.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Final

import numpy as np

from bot.triage.classify import Classifier, Reading, Triage
from bot.triage.features import CUE_PREFIXES, Features, block_of, extract
from bot.triage.matcher import find_hits
from bot.triage.model import (
    MODEL_PATH,
    Settings,
    TriageModel,
    Vectorizer,
    save_model,
)
from bot.triage.normalize import BOUNDARY
from bot.triage.rules import RuleBook, load_rules
from bot.triage.spelling import Speller
from bot.triage.vocab import DATA_DIR, Vocabulary, load_vocabulary
from bot.types import INTENTS, PRIORITIES

ROOT: Final = DATA_DIR.parents[1]
AUTHORS_DIR: Final = ROOT / "tests" / "data" / "authors"
OLD_SET: Final = ROOT / "tests" / "data" / "triage_labelled.jsonl"
OLD_AUTHOR: Final = "old"
MIN_DF: Final = 2
MAX_ITER: Final = 3000
CRITICAL_CANDIDATES: Final = tuple(round(0.05 * k, 2) for k in range(1, 11))
TEMPERATURES: Final = tuple(round(0.5 + 0.1 * k, 1) for k in range(26))
REVIEW_SHARE: Final = 0.2  # at most this share of messages flagged for review


@dataclass(frozen=True, slots=True)
class Example:
    """One labelled message."""

    author: str
    text: str
    intent: str
    priority: str
    desk: str | None = None
    lang: str = ""


def training_files() -> list[Path]:
    """The labelled files a model is trained on: the author sets and the old set."""
    return [*sorted(AUTHORS_DIR.glob("*.jsonl")), OLD_SET]


def input_files() -> list[Path]:
    """Everything the model depends on: labelled files and the vocabulary."""
    return [*training_files(), DATA_DIR / "cues.yaml", DATA_DIR / "normalize.yaml"]


def data_sha256(paths: Iterable[Path] | None = None) -> str:
    """SHA-256 over the names and contents of the training inputs."""
    digest = hashlib.sha256()
    for path in sorted(paths if paths is not None else input_files()):
        digest.update(path.name.encode("utf-8") + b"\0")
        digest.update(path.read_bytes())
        digest.update(b"\0")
    return digest.hexdigest()


def load_examples(paths: Iterable[Path]) -> list[Example]:
    """Labelled messages from JSON Lines files, sorted by author then text."""
    out: list[Example] = []
    for path in paths:
        for line in path.read_text(encoding="utf-8").splitlines():
            if not line.strip():
                continue
            row: dict[str, Any] = json.loads(line)
            out.append(
                Example(
                    author=str(row.get("author", OLD_AUTHOR)),
                    text=str(row["text"]),
                    intent=str(row["intent"]),
                    priority=str(row["priority"]),
                    desk=row.get("desk"),
                    lang=str(row.get("lang", "")),
                )
            )
    return sorted(out, key=lambda e: (e.author, e.text, e.intent, e.priority))


def _features(texts: Sequence[str], vocab: Vocabulary) -> list[Features]:
    raw = [vocab.normalizer.tokens(t) for t in texts]
    df = Counter(w for toks in raw for w in set(toks) if w != BOUNDARY)
    speller = Speller(vocab.cue_words, (w for w, c in df.items() if c >= MIN_DF))
    out = []
    for toks in raw:
        fixed = speller.correct(toks)
        out.append(extract(fixed, find_hits(fixed, vocab)))
    return out


def fit(
    examples: Sequence[Example],
    settings: Settings,
    *,
    vocab: Vocabulary | None = None,
) -> TriageModel:
    """Fit both heads (intent, priority) on ``examples``."""
    from scipy.sparse import csr_matrix  # type: ignore[import-untyped]
    from sklearn.linear_model import LogisticRegression  # type: ignore[import-untyped]

    vocab = vocab or load_vocabulary()
    feats = _features([e.text for e in examples], vocab)
    df: Counter[str] = Counter()
    for f in feats:
        df.update(set(f.names()))
    names = sorted(n for n, c in df.items() if c >= MIN_DF or n[:2] in CUE_PREFIXES)
    n_docs = len(examples)
    idf = [math.log((1 + n_docs) / (1 + df[n])) + 1.0 for n in names]
    vec = Vectorizer.build(names, [block_of(n) for n in names], idf, settings.cue_weight)
    data: list[np.ndarray[Any, Any]] = []
    cols: list[np.ndarray[Any, Any]] = []
    indptr = [0]
    for f in feats:
        idx, vals, _ = vec.transform(f)
        cols.append(idx)
        data.append(vals)
        indptr.append(indptr[-1] + len(idx))
    x = csr_matrix(
        (np.concatenate(data), np.concatenate(cols), np.asarray(indptr)),
        shape=(n_docs, len(names)),
    )
    labels = [f"{e.intent}|{e.priority}" for e in examples]
    clf = LogisticRegression(C=settings.c, max_iter=MAX_ITER)
    clf.fit(x, labels)
    found = {str(c) for c in clf.classes_}
    order = [f"{i}|{p}" for i in INTENTS for p in PRIORITIES if f"{i}|{p}" in found]
    rows = [[str(c) for c in clf.classes_].index(label) for label in order]
    weights = np.ascontiguousarray(clf.coef_[rows].T, dtype=np.float32)
    bias = clf.intercept_[rows].astype(np.float32)
    classes = tuple((i, p) for i in INTENTS for p in PRIORITIES if f"{i}|{p}" in found)
    return TriageModel(vec, weights, bias, classes, settings)


@dataclass(frozen=True, slots=True)
class HeldOut:
    """A held-out message read by the model of the fold that did not see its author."""

    example: Example
    reading: Reading
    classifier: Classifier


def cross_validate(
    examples: Sequence[Example],
    settings: Settings,
    *,
    vocab: Vocabulary | None = None,
    rules: RuleBook | None = None,
    progress: Callable[[str], None] | None = None,
) -> list[HeldOut]:
    """Leave-one-author-out readings of every author's messages (the old set only trains)."""
    vocab = vocab or load_vocabulary()
    rules = rules or load_rules()
    authors = sorted({e.author for e in examples} - {OLD_AUTHOR})
    out: list[HeldOut] = []
    for author in authors:
        if progress:
            progress(f"fold {author}")
        train = [e for e in examples if e.author != author]
        model = fit(train, settings, vocab=vocab)
        clf = Classifier(vocab, rules, model)
        out.extend(HeldOut(e, clf.read(e.text), clf) for e in examples if e.author == author)
    return out


def decide_all(held: Sequence[HeldOut], settings: Settings) -> list[Triage]:
    """Verdicts for held-out readings under ``settings`` (temperatures and thresholds)."""
    out = []
    for h in held:
        reading = h.reading
        if reading.model is not None:
            reading = replace(reading, model=reading.model.recalibrated(settings))
        out.append(h.classifier.decide(reading, settings=settings))
    return out


def _temperature(held: Sequence[HeldOut]) -> float:
    # Folds may know different (intent, priority) pairs: a pair one fold never saw in
    # training gets no probability there, so logits are laid out on the union of classes.
    union = sorted({c for h in held if h.reading.model for c in h.reading.model.classes})
    column = {c: i for i, c in enumerate(union)}
    rows = []
    gold = []
    for h in held:
        scores = h.reading.model
        if scores is None or not scores.logits:
            continue
        pair = (h.example.intent, h.example.priority)
        if pair in scores.classes:
            row = np.full(len(union), -1e9)
            row[[column[c] for c in scores.classes]] = scores.logits
            rows.append(row)
            gold.append(column[pair])
    z = np.asarray(rows, dtype=np.float64)
    y = np.asarray(gold)

    def nll(t: float) -> float:
        s = z / t
        s = s - s.max(axis=1, keepdims=True)
        logp = s - np.log(np.exp(s).sum(axis=1, keepdims=True))
        return float(-logp[np.arange(len(y)), y].mean())

    return min(TEMPERATURES, key=nll)


def _f3(held: Sequence[HeldOut], verdicts: Sequence[Triage]) -> float:
    tp = sum(
        v.priority == "critical" and h.example.priority == "critical"
        for h, v in zip(held, verdicts, strict=True)
    )
    got = sum(v.priority == "critical" for v in verdicts)
    want = sum(h.example.priority == "critical" for h in held)
    if not tp:
        return 0.0
    precision, recall = tp / got, tp / want
    return 10 * precision * recall / (9 * precision + recall)


def choose_settings(held: Sequence[HeldOut], base: Settings) -> Settings:
    """Temperatures, critical threshold and review threshold from held-out readings."""
    settings = replace(
        base,
        temperature=_temperature(held),
        review_threshold=0.0,
    )
    best = max(
        CRITICAL_CANDIDATES,
        key=lambda t: (_f3(held, decide_all(held, replace(settings, critical_threshold=t))), t),
    )
    settings = replace(settings, critical_threshold=best)
    confidences = sorted(v.confidence for v in decide_all(held, settings))
    cut = confidences[int(REVIEW_SHARE * len(confidences))]
    return replace(settings, review_threshold=round(cut, 3))


def train(
    *,
    path: Path = MODEL_PATH,
    base: Settings | None = None,
    progress: Callable[[str], None] | None = None,
) -> tuple[TriageModel, list[HeldOut]]:
    """Cross-validate, choose settings, fit on everything and write the model."""
    examples = load_examples(training_files())
    base = base or Settings(data_sha256="")
    base = replace(base, data_sha256=data_sha256())
    held = cross_validate(examples, base, progress=progress)
    settings = choose_settings(held, base)
    if progress:
        progress("final fit on every labelled message")
    model = fit(examples, settings)
    save_model(model, path)
    return model, held
