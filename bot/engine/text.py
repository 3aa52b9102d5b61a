"""Text helpers for reading answers: cleaning, folding accents, word lists, fuzzy matching."""

from __future__ import annotations

import re
import unicodedata
from typing import Final

MAX_READ: Final = 300  # answers are read from their first 300 characters
# Control and invisible characters (line breaks and tabs stay), deleted with str.translate.
_CONTROL: Final = dict.fromkeys(
    [
        *range(0x00, 0x09),
        *range(0x0B, 0x20),
        *range(0x7F, 0xA0),
        *range(0x200B, 0x2010),
        *range(0x2028, 0x202F),
        *range(0x2060, 0x2070),
        0xFEFF,
    ]
)
_NON_WORD = re.compile(r"[^a-z0-9ñ]+")
_FOLD: Final = str.maketrans("áéíóúüàèìòùâêîôûäëïöÁÉÍÓÚÜ", "aeiouuaeiouaeiouaeioAEIOUU")


def clean(text: str) -> str:
    """Drop control and invisible characters, keep line breaks, trim."""
    return text.translate(_CONTROL).strip()


def normalize(text: str) -> str:
    """Lower case, accents folded (ñ kept), punctuation to spaces, single spaces."""
    short = text[:MAX_READ].lower().translate(_FOLD)
    if not short.isascii():
        short = "".join(c if c.isascii() or c == "ñ" else _base(c) for c in short)
    return " ".join(_NON_WORD.sub(" ", short).split())


def _base(char: str) -> str:
    """The letter under an accent ("ç" → "c"); other characters unchanged."""
    base = unicodedata.normalize("NFKD", char)[0]
    return base if base.isascii() else char


def has_content(text: str) -> bool:
    """True when `text` holds at least one letter or digit (not only emoji or symbols)."""
    return any(c.isalnum() for c in text[:MAX_READ])


def close(word: str, target: str) -> bool:
    """True when `word` is `target` with at most one typo (two for long words)."""
    if word == target:
        return True
    if len(target) < 4 or abs(len(word) - len(target)) > 2:
        return False
    limit = 1 if len(target) < 8 else 2
    return _distance(word, target, limit) <= limit


def _distance(a: str, b: str, limit: int) -> int:
    """Levenshtein distance with transpositions, giving up past `limit`."""
    previous2: list[int] = []
    previous = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        current = [i]
        for j, cb in enumerate(b, 1):
            cost = 0 if ca == cb else 1
            value = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + cost)
            if i > 1 and j > 1 and ca == b[j - 2] and a[i - 2] == cb:
                value = min(value, previous2[j - 2] + 1)
            current.append(value)
        if min(current) > limit:
            return limit + 1
        previous2, previous = previous, current
    return previous[-1]


def words(*phrases: str) -> frozenset[str]:
    """A set of normalised phrases; an argument may hold several, separated by commas."""
    return frozenset(normalize(p) for group in phrases for p in group.split(","))


def starts_with_any(norm: str, phrases: frozenset[str]) -> bool:
    """True when `norm` is one of `phrases` or starts with one followed by a space."""
    if norm in phrases:
        return True
    return any(norm.startswith(p + " ") for p in phrases)


YES: Final = words(
    "si, sí, s, yes, y, ye, yeah, yep, yup, ok, okay, oki, okey, claro, correcto, afirmativo,"
    "por supuesto, sure, of course, simon, sip, aja, asi es, exacto, de acuerdo, acepto,"
    "accept, i accept, agree, i agree, si acepto, va, sale, esta bien, bueno, true,"
    "yes please, sii, siii"
)
NO: Final = words(
    "no, n, nop, nope, nel, negativo, nah, no gracias, no thanks, never, nunca, no acepto,"
    "i do not agree, false, noo, nooo"
)
SKIP: Final = words(
    "no se, no lo se, nose, ns, idk, i dont know, dont know, i don t know, don t know,"
    "not sure, no estoy seguro, no estoy segura, skip, omitir, paso, saltar, no tengo,"
    "no lo tengo, i dont have, i don t have, unknown, desconocido, no sabemos, quien sabe,"
    "ni idea, no idea, no recuerdo, no me acuerdo, dont remember, i don t remember, n a,"
    "no aplica, next, siguiente, pasar"
)
NOTHING: Final = words("no, nada, ninguno, ninguna, nothing, none, no hay, nope")
_SKIP_STARTS: Final = words(
    "no se, no lo se, i dont know, i don t know, not sure, no estoy seguro, no estoy segura,"
    "no tengo, no sabemos, no recuerdo"
)


def is_skip(norm: str) -> bool:
    """True when a normalised answer means "I don't know" / "skip"."""
    return norm in SKIP or starts_with_any(norm, _SKIP_STARTS)
