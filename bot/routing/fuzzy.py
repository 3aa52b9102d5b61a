"""Misspelled place names: edit distance (with transpositions) and a deletion index.

The index stores every name with up to one deleted letter (two for names of 8 letters or
more); a query looks up its own deletions, so each look-up costs a few dictionary probes
instead of comparing the query with every name (the SymSpell idea).
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable, Mapping
from typing import Final

MIN_LENGTH: Final = 5
"""Shorter words are never corrected: too many ordinary words lie one letter away."""
LONG: Final = 9
"""Names of this length or more may be two edits away; shorter ones one edit."""


def max_edits(length: int) -> int:
    """Edits allowed for a word of ``length`` letters."""
    if length < MIN_LENGTH:
        return 0
    return 1 if length < LONG else 2


# How an English place name sounds to a Spanish speaker's ear, reduced to what a name and
# the way it is written by ear share: "menfis" and "Memphis" both come to "menfis",
# "murfrisboro" and "Murfreesboro" to "murfrisboro", "fran clin" and "Franklin" to
# "franklin", "bouling grin" and "Bowling Green" to "bulingrin", "juston" and "Houston" to
# "uston". Applied in this order.
_EAR: Final = tuple(
    (re.compile(pattern), replacement)
    for pattern, replacement in (
        (r"[^a-z]", ""),  # words run together: "fran clin", "murfis boro"
        (r"ph", "f"),
        (r"ck", "k"),
        (r"qu", "k"),
        (r"sh", "ch"),
        (r"gh", ""),
        (r"th", "t"),
        (r"c(?=[eiy])", "s"),
        (r"c(?!h)", "k"),
        (r"z", "s"),
        (r"v", "b"),
        (r"w", "u"),
        (r"y", "i"),
        (r"j", ""),  # the Spanish ear writes an English h as j: "juston", "omaja"
        (r"(?<!c)h", ""),  # silent, as in Spanish; "ch" stays
        (r"ee|ea|ie", "i"),
        (r"oo|ou", "u"),
        (r"m(?=[^aeiou])", "n"),  # "menfis", "canpbel"
        (r"(.)\1", r"\1"),  # "dallas" and "dalas"
        (r"e$", ""),  # "boise" and "bois"
    )
)


def by_ear(name: str) -> str:
    """The sound key of a name (lowercase ASCII in): see ``_EAR``."""
    for pattern, replacement in _EAR:
        name = pattern.sub(replacement, name)
    return name


def distance(a: str, b: str) -> int:
    """Optimal string alignment distance: insertions, deletions, substitutions and
    swaps of two neighbouring letters each count one ("chiacgo" → "chicago" is 1)."""
    if a == b:
        return 0
    prev2: list[int] = []
    prev = list(range(len(b) + 1))
    for i, ca in enumerate(a, start=1):
        row = [i]
        left = i
        for j, cb in enumerate(b, start=1):
            best = prev[j - 1] if ca == cb else prev[j - 1] + 1
            if prev[j] + 1 < best:
                best = prev[j] + 1
            if left + 1 < best:
                best = left + 1
            if i > 1 and j > 1 and ca == b[j - 2] and a[i - 2] == cb and prev2[j - 2] + 1 < best:
                best = prev2[j - 2] + 1
            row.append(best)
            left = best
        prev2, prev = prev, row
    return prev[-1]


def _deletions(word: str, edits: int) -> set[str]:
    out = {word}
    layer = {word}
    for _ in range(edits):
        layer = {w[:i] + w[i + 1 :] for w in layer for i in range(len(w))}
        out |= layer
    return out


class FuzzyIndex:
    """Names reachable by a small edit from a misspelling; ``rank`` breaks ties."""

    def __init__(self, names: Iterable[str], rank: Mapping[str, int] | None = None) -> None:
        self._rank = dict(rank or {})
        index: dict[str, set[str]] = defaultdict(set)
        self._longest = 0
        for name in names:
            self._longest = max(self._longest, len(name))
            for variant in _deletions(name, min(2, max_edits(len(name)) + 1)):
                index[variant].add(name)
        self._index = {k: tuple(sorted(v)) for k, v in index.items()}

    def __len__(self) -> int:
        return len(self._index)

    def lookup(self, query: str) -> str | None:
        """The closest name within the allowed edits (most important on a tie), or None."""
        edits = max_edits(len(query))
        # Too long to be any name: its deletions would cost O(len³) time and memory.
        if edits == 0 or len(query) > self._longest + edits:
            return None
        best: tuple[int, int, str] | None = None
        seen: set[str] = set()
        for variant in _deletions(query, edits):
            for name in self._index.get(variant, ()):
                if name in seen:
                    continue
                seen.add(name)
                allowed = max_edits(max(len(name), len(query)))
                if abs(len(name) - len(query)) > allowed:
                    continue
                d = distance(query, name)
                if 0 < d <= allowed:
                    key = (d, -self._rank.get(name, 0), name)
                    if best is None or key < best:
                        best = key
        return best[2] if best else None
