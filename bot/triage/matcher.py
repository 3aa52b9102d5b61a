"""Finds cues in a token list: leftmost-longest phrase matching with negation.

At each position the longest cue that fits wins and its words are consumed. A cue
preceded (within three words of the same clause) by a negation word is kept as a
negated hit: it sets no flag and adds no points, but staff see it in the reasons.
"""

from __future__ import annotations

from dataclasses import dataclass

from bot.triage.normalize import BOUNDARY
from bot.triage.vocab import GAP, NUM, YEAR, Cue, Elem, Vocabulary

_NEGATION_WINDOW = 3
_WORDS_KEPT = 100_000  # words whose starting cues are kept (a word costs ~200 bytes)
_MAX_GAP = 3


@dataclass(frozen=True, slots=True)
class Hit:
    """A cue found in the message at tokens ``[start, end)``."""

    cue: Cue
    start: int
    end: int
    negated: bool


def _is_number(tok: str, numbers: frozenset[str]) -> bool:
    return tok.isdigit() or tok in numbers


def _fits(elem: Elem, tok: str, numbers: frozenset[str]) -> bool:
    if tok == BOUNDARY:
        return False
    if tok in elem.words or (elem.prefixes and tok.startswith(elem.prefixes)):
        return True
    if elem.special == NUM:
        return _is_number(tok, numbers)
    if elem.special == YEAR:
        return len(tok) == 4 and tok.isdigit() and tok[:2] in ("19", "20")
    return False


def _match(
    elems: tuple[Elem, ...], k: int, toks: list[str], i: int, numbers: frozenset[str]
) -> int:
    """End index of the longest match of ``elems[k:]`` at ``toks[i]``, or -1."""
    if k == len(elems):
        return i
    elem = elems[k]
    best = -1
    if elem.special == GAP:
        for n in range(_MAX_GAP + 1):
            if n and (i + n - 1 >= len(toks) or toks[i + n - 1] == BOUNDARY):
                break
            best = max(best, _match(elems, k + 1, toks, i + n, numbers))
        return best
    if i < len(toks) and _fits(elem, toks[i], numbers):
        best = _match(elems, k + 1, toks, i + 1, numbers)
    if elem.optional:
        best = max(best, _match(elems, k + 1, toks, i, numbers))
    return best


def _candidates(tok: str, vocab: Vocabulary) -> tuple[Cue, ...]:
    known = vocab.starts.get(tok)
    if known is not None:
        return known
    found = list(vocab.by_word.get(tok, ()))
    for length in vocab.prefix_lengths:
        if length > len(tok):
            break
        found.extend(vocab.by_prefix.get(tok[:length], ()))
    if vocab.by_num and (tok[0].isdigit() or tok in vocab.numbers):
        found.extend(c for c in vocab.by_num if _fits(c.elems[0], tok, vocab.numbers))
    if len(vocab.starts) < _WORDS_KEPT:
        vocab.starts[tok] = tuple(found)
    return tuple(found)


def _negated(toks: list[str], start: int, vocab: Vocabulary) -> bool:
    j = start - 1
    while j >= 0 and start - j <= _NEGATION_WINDOW:
        tok = toks[j]
        if tok == BOUNDARY or tok in vocab.stops:
            return False
        if tok in vocab.negators:
            return True
        j -= 1
    return False


def find_hits(toks: list[str], vocab: Vocabulary) -> list[Hit]:
    """All cues in ``toks``, left to right, each word used at most once."""
    hits: list[Hit] = []
    numbers = vocab.numbers
    i, n = 0, len(toks)
    while i < n:
        tok = toks[i]
        if tok == BOUNDARY:
            i += 1
            continue
        best_end, best_cue = -1, None
        for cue in _candidates(tok, vocab):
            elems = cue.elems
            if len(elems) == 1:  # most cues: no need to walk the rest of a phrase
                end = i + 1
            else:
                second = elems[1]  # most phrases fail here: a plain word that is not next
                if (
                    second.special != GAP
                    and not second.optional
                    and (i + 1 >= n or not _fits(second, toks[i + 1], numbers))
                ):
                    continue
                end = _match(elems, 1, toks, i + 1, numbers)
            if end > best_end:
                best_end, best_cue = end, cue
        if best_cue is None:
            i += 1
            continue
        negated = best_cue.negatable and _negated(toks, i, vocab)
        hits.append(Hit(best_cue, i, best_end, negated))
        i = best_end
    return hits
