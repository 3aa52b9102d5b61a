"""Spelling: unknown words of five letters or more snap to the closest word of the rules.

"detenidoo", "arrestarom", "deportacio" → the cue words they were meant to be. Only words
the triage does not already know (not a cue word, not a word of the model's vocabulary)
are corrected, only within one edit (two for words of eight letters or more) and only to a
word with the same first letter, so "llegaron" never becomes "llevaron". Results are
cached per word.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable
from typing import Final

from rapidfuzz import process
from rapidfuzz.distance import Levenshtein

from bot.triage.normalize import BOUNDARY

MIN_LENGTH: Final = 5
_LONG: Final = 8


class Speller:
    """Corrects unknown tokens towards a fixed list of target words."""

    def __init__(self, targets: Iterable[str], known: Iterable[str]) -> None:
        self.targets = sorted({t for t in targets if len(t) >= MIN_LENGTH - 1 and t.isalpha()})
        self.known = frozenset(known) | frozenset(self.targets)
        self._fix: Callable[[str], str] = functools.lru_cache(maxsize=65536)(self._closest)

    def _closest(self, tok: str) -> str:
        cutoff = 2 if len(tok) >= _LONG else 1
        found = process.extractOne(
            tok, self.targets, scorer=Levenshtein.distance, score_cutoff=cutoff
        )
        if found is None or found[0][0] != tok[0]:
            return tok
        return str(found[0])

    def correct(self, toks: list[str]) -> list[str]:
        """The tokens with unknown long words replaced by their closest target word."""
        known = self.known
        out = toks
        for i, tok in enumerate(toks):
            if len(tok) < MIN_LENGTH or tok in known or tok == BOUNDARY or not tok.isalpha():
                continue
            fixed = self._fix(tok)
            if fixed != tok:
                if out is toks:
                    out = list(toks)
                out[i] = fixed
        return out
