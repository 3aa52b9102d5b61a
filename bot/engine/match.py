"""Reading choices and yes/no answers generously: numbers, labels, values, typos, both languages."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Final, Literal

from bot.engine.text import NO, YES, close, is_skip, normalize, starts_with_any, words

YesNo = Literal["yes", "no", "skip"]
_NUMBERED = re.compile(r"^(?:opcion|option|opc|op|numero|number|num|nr|el|la|#)?\s*(\d{1,2})$")
NUMBER_WORDS: Final = {
    w: i
    for i, group in enumerate(
        (
            ("uno", "una", "one", "primero", "primera", "first"),
            ("dos", "two", "segundo", "segunda", "second"),
            ("tres", "three", "tercero", "tercera", "third"),
            ("cuatro", "four", "cuarto", "cuarta", "fourth"),
            ("cinco", "five", "quinto", "quinta", "fifth"),
            ("seis", "six", "sexto", "sexta", "sixth"),
            ("siete", "seven", "septimo", "septima", "seventh"),
            ("ocho", "eight", "octavo", "octava", "eighth"),
            ("nueve", "nine", "noveno", "novena", "ninth"),
            ("diez", "ten", "decimo", "decima", "tenth"),
        ),
        start=1,
    )
    for w in group
}
STOP: Final = words(
    "de, del, la, las, el, los, en, o, y, a, al, un, una, mi, mis, su, sus, my, the, or, and,"
    "in, at, to, of, on, con, por, para, es, is, a, an, que, me, le, lo, se, fue, was, it, i,"
    "yo, eu, u, e, ya, muy, solo, only"
)
_FUZZY_TOKENS: Final = 12


@dataclass(frozen=True, slots=True)
class Choice:
    """One option as the matcher sees it: its value, whole phrases and single keywords."""

    value: str
    phrases: frozenset[str]
    keywords: frozenset[str]


def build_choice(value: str, labels: Iterable[str], match: Iterable[str] = ()) -> Choice:
    """Index an option under its value, its labels in every language and extra match words."""
    phrases = {normalize(value.replace("_", " "))} | {normalize(x) for x in (*labels, *match)}
    phrases.discard("")
    keywords = {w for p in phrases for w in p.split() if w not in STOP and not w.isdigit()}
    return Choice(value, frozenset(phrases), frozenset(keywords))


def option_number(norm: str) -> int | None:
    """The option number in "2", "opción 2", "#2", "dos", "second"; else None."""
    found = _NUMBERED.match(norm)
    if found:
        return int(found.group(1))
    return NUMBER_WORDS.get(norm)


def match_choice(choices: Sequence[Choice], norm: str) -> str | None:
    """The value of the option `norm` (a normalised answer) means, or None if unclear."""
    if not norm:
        return None
    number = option_number(norm)
    if number is not None:
        return choices[number - 1].value if 1 <= number <= len(choices) else None
    for choice in choices:
        if norm in choice.phrases or norm == choice.value:
            return choice.value
    return _best_by_keywords(choices, norm)


def _best_by_keywords(choices: Sequence[Choice], norm: str) -> str | None:
    tokens = [w for w in norm.split() if w not in STOP]
    padded = f" {norm} "
    scores: list[int] = []
    for choice in choices:
        score = sum(2 for p in choice.phrases if " " in p and f" {p} " in padded)
        for index, token in enumerate(tokens):
            if token in choice.keywords:
                score += 2
            elif index < _FUZZY_TOKENS and any(_near(token, k) for k in choice.keywords):
                score += 1
        scores.append(score)
    best = max(scores, default=0)
    if best == 0 or scores.count(best) > 1:
        return None
    return choices[scores.index(best)].value


def _near(token: str, keyword: str) -> bool:
    if len(token) >= 4 and keyword.startswith(token):
        return True
    if len(keyword) >= 5 and token.startswith(keyword):
        return True
    return close(token, keyword)


def parse_yes_no(norm: str) -> YesNo | None:
    """ "yes", "no" or "skip" ("no sé") for a normalised answer; None when unclear."""
    norm = norm.strip()
    if not norm:
        return None
    if is_skip(norm) or norm in ("3", "unknown"):
        return "skip"
    if norm == "1" or starts_with_any(norm, YES):
        return "yes"
    if norm == "2" or starts_with_any(norm, NO):
        return "no"
    first = norm.split()[0]
    if any(close(first, w) for w in ("claro", "correcto", "afirmativo", "acepto")):
        return "yes"
    if any(close(first, w) for w in ("negativo", "nunca")):
        return "no"
    return None
