"""The learned triage model at run time: exported weights scored with numpy, no training.

``data/triage/model.npz`` is written by ``hotline triage train`` (``bot.triage.training``)
and committed, with the SHA-256 of the data it was trained on, so start-up never trains.
It holds the feature list, inverse document frequencies, one weight row per feature for
each (intent, priority) pair seen in training (one multinomial logistic regression: the
pair model ranks danger better than a priority model alone, since what is urgent depends
on what it is), the calibration temperature and the thresholds chosen on the
leave-one-author-out folds. Intent and priority probabilities are the pair
probabilities summed.

Vectorising: character n-grams and words each form a block weighted by idf and scaled to
unit length (as scikit-learn's ``TfidfVectorizer`` with binary counts would); cue features
have the fixed value ``cue_weight``.
"""

from __future__ import annotations

import functools
import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

import numpy as np
import numpy.typing as npt

from bot.triage.features import CUE_BLOCK, Features, word_features
from bot.triage.vocab import DATA_DIR, TriageDataError
from bot.types import INTENTS, PRIORITIES, Intent, Priority

MODEL_PATH: Final = DATA_DIR / "model.npz"
FORMAT: Final = 2
_CACHE_WORDS: Final = 200_000  # distinct words whose feature rows are kept
# Not shown as the words that weighed most: they say nothing to staff.
_FUNCTION_WORDS: Final = frozenset(
    "las los del que por con una uno esta estan est para pero como the and are was were "
    "for with that this you your have has its she her his him they them our".split()
)

FloatArray = npt.NDArray[np.float32]
IntArray = npt.NDArray[np.int64]


@dataclass(frozen=True, slots=True)
class Settings:
    """What training chose besides the weights (stored in the model's metadata)."""

    data_sha256: str
    temperature: float = 1.0
    critical_threshold: float = 0.5
    review_threshold: float = 0.0
    cue_weight: float = 0.3
    c: float = 10.0

    def as_json(self) -> dict[str, Any]:
        """A JSON-ready copy."""
        return {k: getattr(self, k) for k in self.__slots__}


@dataclass(frozen=True, slots=True)
class Vectorizer:
    """Turns ``Features`` into (row indices, values, word positions) for a weight matrix."""

    names: tuple[str, ...]
    index: Mapping[str, int]
    block: npt.NDArray[np.uint8]
    idf: FloatArray
    cache: dict[str, list[int]] = field(default_factory=dict, compare=False, repr=False)

    @classmethod
    def build(
        cls, names: Sequence[str], blocks: Sequence[int], idf: Sequence[float], cue_weight: float
    ) -> Vectorizer:
        """A vectoriser; cue features get ``cue_weight`` instead of an idf."""
        block = np.asarray(blocks, dtype=np.uint8)
        values = np.asarray(idf, dtype=np.float32)
        values = np.where(block == CUE_BLOCK, np.float32(cue_weight), values).astype(np.float32)
        return cls(tuple(names), {n: i for i, n in enumerate(names)}, block, values)

    def _word_rows(self, word: str) -> list[int]:
        rows = self.cache.get(word)
        if rows is None:
            index = self.index
            rows = [index[n] for n in word_features(word) if n in index]
            if len(self.cache) < _CACHE_WORDS:
                self.cache[word] = rows
        return rows

    def transform(
        self, feats: Features, *, positions: bool = True
    ) -> tuple[IntArray, FloatArray, IntArray]:
        """Known features of a message: rows, unit-scaled values, word positions (empty
        unless ``positions``: only explaining a score needs them)."""
        rows: list[int] = []
        pos: list[int] = []
        for at, word in enumerate(feats.words):
            found = self._word_rows(word)
            rows += found
            if positions:
                pos += [at] * len(found)
        index = self.index
        for name, at in zip(feats.extra, feats.extra_pos, strict=True):
            row = index.get(name)
            if row is not None:
                rows.append(row)
                if positions:
                    pos.append(at)
        idx = np.asarray(rows, dtype=np.int64)
        vals = self.idf[idx]
        blk = self.block[idx]
        norms = np.sqrt(np.bincount(blk, weights=vals * vals, minlength=3))
        norms[CUE_BLOCK] = 1.0
        norms[norms == 0] = 1.0
        return idx, (vals / norms[blk]).astype(np.float32), np.asarray(pos, dtype=np.int64)


@dataclass(frozen=True, slots=True)
class Scores:
    """Calibrated probabilities and the words that weighed most for the top intent."""

    intent: dict[Intent, float]
    priority: dict[Priority, float]
    top_words: tuple[str, ...]
    known: int
    logits: tuple[float, ...] = ()
    classes: tuple[tuple[Intent, Priority], ...] = ()

    def recalibrated(self, settings: Settings) -> Scores:
        """The same scores under another calibration temperature."""
        intent, priority = _marginals(
            np.asarray(self.logits, dtype=np.float32), self.classes, settings.temperature
        )
        return Scores(intent, priority, self.top_words, self.known, self.logits, self.classes)


def _marginals(
    logits: FloatArray, classes: Sequence[tuple[Intent, Priority]], temperature: float
) -> tuple[dict[Intent, float], dict[Priority, float]]:
    z = logits.astype(np.float64) / temperature
    z = np.exp(z - z.max())
    z /= z.sum()
    intent = dict.fromkeys(INTENTS, 0.0)
    priority = dict.fromkeys(PRIORITIES, 0.0)
    for (i, p), value in zip(classes, z.tolist(), strict=True):
        intent[i] += value
        priority[p] += value
    return intent, priority


@dataclass(frozen=True, slots=True)
class TriageModel:
    """One weight column per (intent, priority) class in ``classes``."""

    vectorizer: Vectorizer
    weights: FloatArray
    bias: FloatArray
    classes: tuple[tuple[Intent, Priority], ...]
    settings: Settings

    @property
    def known_words(self) -> frozenset[str]:
        """Words the model has a weight for (the speller leaves them alone)."""
        return frozenset(n[2:] for n in self.vectorizer.names if n.startswith("w:"))

    def score(self, feats: Features, *, explain: int = 3) -> Scores:
        """Probabilities for each intent and priority; ``explain`` words for the top class."""
        idx, vals, pos = self.vectorizer.transform(feats, positions=explain > 0)
        logits = (vals @ self.weights[idx] + self.bias).astype(np.float32)
        intent, priority = _marginals(logits, self.classes, self.settings.temperature)
        top: tuple[str, ...] = ()
        if explain and len(idx) and feats.words:
            best = int(np.argmax(logits))
            contrib = vals * self.weights[idx, best]
            per_word = np.bincount(pos, weights=contrib, minlength=len(feats.words))
            order = np.argsort(-per_word, kind="stable")
            top = tuple(
                w
                for w in (feats.words[i] for i in order[: 4 * explain] if per_word[i] > 0)
                # words only: a number may be an A-number, a phone or a ZIP (reasons are
                # stored in clear and shown to staff)
                if len(w) > 2 and w.isalpha() and w not in _FUNCTION_WORDS
            )[:explain]
        return Scores(intent, priority, top, len(idx), tuple(logits.tolist()), self.classes)


def save_model(model: TriageModel, path: Path = MODEL_PATH) -> None:
    """Write the model as a compressed ``.npz`` (no pickles)."""
    vec = model.vectorizer
    meta: dict[str, Any] = {
        "format": FORMAT,
        "classes": [f"{i}|{p}" for i, p in model.classes],
    }
    meta.update(model.settings.as_json())
    idf = np.where(vec.block == CUE_BLOCK, np.float32(1.0), vec.idf).astype(np.float32)
    with path.open("wb") as f:
        np.savez_compressed(
            f,
            names=np.frombuffer("\n".join(vec.names).encode("utf-8"), dtype=np.uint8),
            block=vec.block,
            idf=idf,
            weights=model.weights.astype(np.float16),
            bias=model.bias.astype(np.float32),
            meta=np.frombuffer(json.dumps(meta, sort_keys=True).encode("utf-8"), dtype=np.uint8),
        )


def read_meta(path: Path = MODEL_PATH) -> dict[str, Any]:
    """The model's metadata only (data hash, thresholds)."""
    with np.load(path, allow_pickle=False) as data:
        meta: dict[str, Any] = json.loads(bytes(data["meta"]).decode("utf-8"))
    return meta


def read_model(path: Path = MODEL_PATH) -> TriageModel:
    """Load a model written by ``save_model``; refuse another format or label set."""
    try:
        with np.load(path, allow_pickle=False) as data:
            meta = json.loads(bytes(data["meta"]).decode("utf-8"))
            names = bytes(data["names"]).decode("utf-8").split("\n")
            block, idf = data["block"], data["idf"]
            weights = data["weights"].astype(np.float32)
            bias = data["bias"].astype(np.float32)
    except (OSError, ValueError, KeyError) as exc:
        raise TriageDataError(f"{path}: cannot read the triage model: {exc}") from exc
    classes = [tuple(str(c).split("|")) for c in meta.get("classes", ())]
    if meta.get("format") != FORMAT or any(
        len(c) != 2 or c[0] not in INTENTS or c[1] not in PRIORITIES for c in classes
    ):
        raise TriageDataError(f"{path}: model for other labels or format; run hotline triage train")
    known = {k: meta[k] for k in Settings.__slots__ if k in meta}
    settings = Settings(**known)
    vec = Vectorizer.build(names, block.tolist(), idf.tolist(), settings.cue_weight)
    if weights.shape != (len(names), len(classes)) or not math.isfinite(
        float(np.abs(weights).sum())
    ):
        raise TriageDataError(f"{path}: weights do not match the feature list")
    pairs = tuple((c[0], c[1]) for c in classes)
    return TriageModel(vec, weights, bias, pairs, settings)  # type: ignore[arg-type]


@functools.cache
def load_model(path: Path = MODEL_PATH) -> TriageModel | None:
    """The committed model (cached), or None when there is none yet (rules only)."""
    if not path.exists():
        return None
    return read_model(path)
