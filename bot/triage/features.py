"""What the learned model sees in a message: character n-grams, words and the rules' cues.

The input is the normalised token list (accents folded, shorthand expanded, spelling
corrected). Features are strings, counted as often as they occur; each remembers the
position of the word it came from so that the model can say which words weighed most:

- ``chars``: character n-grams of 2–5 letters inside each word padded with spaces
  (" migra " → " m", "mi", …, "gra "), robust to the spellings no list foresees;
- ``words``: ``w:word`` and ``b:word word`` (bigrams never cross a clause boundary);
- ``cues``: ``c:group`` for each cue group the rules found, ``n:group`` when negated.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final

from bot.triage.matcher import Hit
from bot.triage.normalize import BOUNDARY

CHAR_MIN: Final = 2
CHAR_MAX: Final = 5


@dataclass(frozen=True, slots=True)
class Features:
    """The words of a message, and its bigram and cue features with their word positions.

    Each word stands for its character n-grams and ``w:word`` (``word_features``), which
    the model looks up once per distinct word and caches.
    """

    words: tuple[str, ...]
    extra: list[str]
    extra_pos: list[int]

    def names(self) -> list[str]:
        """Every feature name of the message, repeats included (for training)."""
        out = [name for word in self.words for name in word_features(word)]
        return out + self.extra


def word_features(word: str) -> list[str]:
    """Character n-grams of ``word`` padded with spaces, then ``w:word``."""
    padded = f" {word} "
    size = len(padded)
    grams = [
        padded[i : i + n]
        for n in range(CHAR_MIN, min(CHAR_MAX, size) + 1)
        for i in range(size - n + 1)
    ]
    grams.append("w:" + word)
    return grams


def extract(toks: Sequence[str], hits: Sequence[Hit] = ()) -> Features:
    """The model's features of a normalised token list and the cues found in it."""
    words: list[str] = []
    extra: list[str] = []
    extra_pos: list[int] = []
    word_at: list[int] = []  # token index → word position
    prev = ""
    for tok in toks:
        if tok == BOUNDARY:
            word_at.append(max(len(words) - 1, 0))
            prev = ""
            continue
        at = len(words)
        word_at.append(at)
        words.append(tok)
        if prev:
            extra.append(f"b:{prev} {tok}")
            extra_pos.append(at)
        prev = tok
    for hit in hits:
        extra.append(("n:" if hit.negated else "c:") + hit.cue.group.name)
        extra_pos.append(word_at[hit.start] if word_at else 0)
    return Features(tuple(words), extra, extra_pos)


CHAR_BLOCK, TERM_BLOCK, CUE_BLOCK = 0, 1, 2
TERM_PREFIXES: Final = ("w:", "b:")
CUE_PREFIXES: Final = ("c:", "n:")


def block_of(name: str) -> int:
    """Which block a feature belongs to: character n-grams, words, or cues."""
    head = name[:2]
    if head in TERM_PREFIXES:
        return TERM_BLOCK
    if head in CUE_PREFIXES:
        return CUE_BLOCK
    return CHAR_BLOCK
