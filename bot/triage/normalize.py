"""Text normalisation for triage: one pass from a raw message to a list of word tokens.

Lower-cases, strips accents, maps meaningful emoji to words, collapses runs of three or
more identical letters ("ayudaaa" → "ayuda"), splits into words and clause boundaries,
and expands SMS shorthand and common misspellings from ``data/triage/normalize.yaml``.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Final

BOUNDARY: Final = "|"
CASE_REF_TOKEN: Final = "caseref"

_CASE_REF = re.compile(r"\bhl-?[0-9a-hjkmnp-tv-z]{6}\b")
_THOUSANDS = re.compile(r"(?<=\d)[,.](?=\d{3}\b)")
_REPEATS = re.compile(r"([a-z])\1{2,}")
_TOKEN = re.compile(r"[a-z0-9]+|[.,;:!?\n]")


def _accent_table() -> dict[int, str]:
    """Map accented Latin letters to ASCII, drop apostrophes and inverted marks."""
    table: dict[int, str] = {}
    for cp in range(0xC0, 0x250):
        decomposed = unicodedata.normalize("NFKD", chr(cp))
        base = "".join(c for c in decomposed if not unicodedata.combining(c))
        if base and base.isascii() and base != chr(cp):
            table[cp] = base.lower()
    for ch in "'’‘´`\ufe0f\u200d":
        table[ord(ch)] = ""
    for ch in '¿¡“”"()[]{}*_/\\-–—':
        table[ord(ch)] = " "
    return table


@dataclass(frozen=True, slots=True)
class Normalizer:
    """Turns message text into tokens; words are plain ASCII, boundaries are ``BOUNDARY``."""

    table: Mapping[int, str]
    words: Mapping[str, tuple[str, ...]]

    @classmethod
    def build(cls, symbols: Mapping[str, str], words: Mapping[str, str]) -> Normalizer:
        """Build a normaliser from symbol and word replacement maps."""
        table = _accent_table()
        for symbol, replacement in symbols.items():
            if len(symbol) == 1:
                table[ord(symbol)] = f" {replacement.strip()} "
        expanded = {k.strip(): tuple(v.split()) for k, v in words.items()}
        return cls(table=table, words=expanded)

    def tokens(self, text: str) -> list[str]:
        """Normalise ``text`` and split it into tokens."""
        s = _CASE_REF.sub(f" {CASE_REF_TOKEN} ", text.lower())
        s = _THOUSANDS.sub("", s).translate(self.table)
        s = _REPEATS.sub(r"\1", s)
        out: list[str] = []
        words = self.words
        for tok in _TOKEN.findall(s):
            if not tok[0].isalnum():
                if out and out[-1] != BOUNDARY:
                    out.append(BOUNDARY)
                continue
            rep = words.get(tok)
            if rep is None:
                out.append(tok)
            else:
                out.extend(rep)
        return out
