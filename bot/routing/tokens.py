"""Messages cut into normalised tokens, and what the words around a place name say about it
(see ``cues.py``): the preposition before it, a direction ("south Omaha"), a kinship word
("mi hijo Orlando"), capitals, whether it is the whole message, and its role.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from typing import Final

from bot.routing import cues
from bot.routing.names import norm_place

# Words, and punctuation: a dash between spaces ("Waukegan - agents at…") or an en or em
# dash sets words apart like a comma; a hyphen inside a name ("Winston-Salem") joins them.
_TOKEN: Final = re.compile(r"[^\W_]+|[,.;:!?¿¡()\n&]|(?<=\s)-(?=\s)|[–—]")
_END: Final = frozenset(".;:!?¿¡()\n")
_DOT_AFTER: Final = frozenset({"st", "ste", "ft", "mt", "cd", "sta", "sto", "edo", "ave", "av"})
"""A period after these (or after one letter: "L.A.") ends an abbreviation, not a sentence."""


@dataclass(frozen=True, slots=True)
class Tokens:
    """Normalised tokens ("," and "." stand for punctuation), their raw text and offsets."""

    norm: list[str]
    raw: list[str]
    starts: list[int]
    shouting: bool
    first: int
    last: int
    """Index of the first word and one past the last (punctuation around them aside)."""


@functools.lru_cache(maxsize=65536)
def _norm_token(raw: str) -> str:
    if raw in (",", "-", "–", "—"):
        return ","
    if raw == "&":  # "Sunset & Decatur"
        return "and"
    if len(raw) == 1 and raw in _END:
        return "."
    return norm_place(raw) or "-"


def tokenize(text: str) -> Tokens:
    """Words and punctuation of ``text``, normalised ("St." → "saint", "José" → "jose")."""
    norm: list[str] = []
    raw: list[str] = []
    starts: list[int] = []
    for m in _TOKEN.finditer(text):
        r = m.group()
        n = _norm_token(r)
        if n == "." and r == "." and raw and (len(raw[-1]) == 1 or raw[-1].lower() in _DOT_AFTER):
            continue
        if n in (".", ",") and norm and norm[-1] in (".", ","):
            continue
        norm.append(n)
        raw.append(r)
        starts.append(m.start())
    words = [i for i, n in enumerate(norm) if n not in (",", ".")]
    first, last = (words[0], words[-1] + 1) if words else (0, 0)
    return Tokens(norm, raw, starts, text.isupper(), first, last)


@dataclass(frozen=True, slots=True)
class Context:
    """What the words around tokens ``start:end`` say (``start`` includes a direction)."""

    start: int
    prep: str
    to: bool
    initial: bool
    locative: bool
    motion: bool
    direction: bool
    kin: bool
    whole: bool
    heading: bool
    """Named first and set apart by punctuation: "Waukegan - agents at the court…"."""
    site_of: bool
    """After a place of work or daily life and "de": "la planta de marshalltown"."""
    capitalised: bool
    role: int
    origin: bool


def role_before(norm: list[str], j: int, prep: str) -> tuple[int, bool]:
    """(role, origin) from the nearest cue at or before token ``j``, in the same clause;
    ``prep`` is the preposition right after ``j`` ("" if none)."""
    before = norm[j] if j >= 0 else ""
    if prep == "from" and before in cues.ORIGIN_BEFORE_FROM:
        return cues.RESIDENCE, True
    if prep in cues.OF and before in cues.ORIGIN_BEFORE_DE:
        return cues.RESIDENCE, True
    for k in range(j, max(-1, j - cues.CUE_WINDOW), -1):
        w = norm[k]
        if w in cues.CLAUSE_ENDS:
            break
        if w in cues.ORIGIN_WORDS:
            return cues.RESIDENCE, True
        if w in cues.RESIDENCE_WORDS:
            return cues.RESIDENCE, False
        if w in cues.EVENT_WORDS:
            if w in cues.HERE and k > 0 and norm[k - 1] in cues.RESIDENCE_WORDS:
                return cues.RESIDENCE, False
            return cues.EVENT, False
    return cues.NEUTRAL, False


def context(t: Tokens, start: int, end: int, names: frozenset[str]) -> Context:
    """The context of a place named at tokens ``start:end``; ``names`` are personal names."""
    norm = t.norm
    s = start
    direction = False
    if s > 0 and norm[s - 1] in cues.DIRECTIONS:
        s, direction = s - 1, True
    elif s > 1 and norm[s - 1] == cues.SIDE and norm[s - 2] in cues.DIRECTIONS:
        s, direction = s - 2, True
    prep = norm[s - 1] if s > 0 else ""
    to = prep in cues.TO
    if prep not in cues.PREPOSITIONS:
        prep = ""
    locative = prep in cues.LOCATIVE or (
        prep in cues.OF and s > 1 and norm[s - 2] in cues.PLACE_NOUNS
    )
    role, origin = role_before(norm, s - 2 if prep else s - 1, prep)
    before = norm[start - 1] if start > 0 else ""
    kin = before in cues.KIN or (not prep and before in names and t.raw[start - 1][:1].isupper())
    capitalised = not t.shouting and all(
        r[:1].isupper() or n in cues.PARTICLES
        for r, n in zip(t.raw[start:end], norm[start:end], strict=True)
    )
    return Context(
        start=s,
        prep=prep,
        to=to,
        initial=s <= t.first or norm[s - 1] == ".",
        locative=locative,
        motion=prep in cues.MOTION,
        direction=direction,
        kin=kin,
        whole=s <= t.first and end >= t.last,
        heading=s <= t.first < end < len(norm) and norm[end] in (",", "."),
        site_of=prep in cues.OF and s > 1 and norm[s - 2] in cues.SITE_NOUNS,
        capitalised=capitalised,
        role=role,
        origin=origin,
    )
