"""Cue vocabulary: loads ``data/triage/cues.yaml`` and ``normalize.yaml`` and compiles them.

Each cue phrase becomes a tuple of elements; cues are indexed by their first word (or
word prefix) so that matching a message costs a few dictionary look-ups per word.
The phrase syntax is described at the top of ``cues.yaml``.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

import yaml

from bot.triage.normalize import Normalizer
from bot.types import INTENTS, Intent

DATA_DIR: Final = Path(__file__).resolve().parents[2] / "data" / "triage"

GAP: Final = "gap"
NUM: Final = "num"
YEAR: Final = "year"


class TriageDataError(ValueError):
    """A triage data file is malformed; the message names the file and the entry."""


@dataclass(frozen=True, slots=True)
class Elem:
    """One position of a cue phrase: a set of words, word prefixes and/or a special class."""

    words: frozenset[str]
    prefixes: tuple[str, ...]
    special: str
    optional: bool


@dataclass(frozen=True, slots=True)
class Group:
    """A named family of cues with the points and flags they contribute."""

    name: str
    label: str
    intents: tuple[tuple[Intent, float], ...]
    flags: frozenset[str]
    fuzzy: bool = True


@dataclass(frozen=True, slots=True)
class Cue:
    """A compiled phrase belonging to a group."""

    group: Group
    phrase: str
    elems: tuple[Elem, ...]
    negatable: bool


@dataclass(frozen=True, slots=True)
class Vocabulary:
    """Everything the matcher needs, compiled once."""

    normalizer: Normalizer
    by_word: Mapping[str, tuple[Cue, ...]]
    by_prefix: Mapping[str, tuple[Cue, ...]]
    prefix_lengths: tuple[int, ...]
    by_num: tuple[Cue, ...]
    numbers: frozenset[str]
    negators: frozenset[str]
    stops: frozenset[str]
    groups: tuple[Group, ...]
    starts: dict[str, tuple[Cue, ...]] = field(default_factory=dict, compare=False, repr=False)
    """The cues that may start at a word, as the matcher found them (filled as words come)."""

    @property
    def flags(self) -> frozenset[str]:
        """All flags any cue can set."""
        return frozenset().union(*(g.flags for g in self.groups))

    @property
    def cue_words(self) -> frozenset[str]:
        """Every plain word of the cues of groups open to spelling correction."""
        cues = [*self.by_num]
        for table in (self.by_word, self.by_prefix):
            for found in table.values():
                cues.extend(found)
        return frozenset(
            w for cue in cues if cue.group.fuzzy for elem in cue.elems for w in elem.words
        )


def _read_yaml(path: Path) -> dict[str, Any]:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise TriageDataError(f"{path}: cannot read: {exc}") from exc
    if not isinstance(data, dict):
        raise TriageDataError(f"{path}: expected a mapping at the top level")
    return data


def _words(value: Any, where: str) -> frozenset[str]:
    """A list of plain words; YAML turns unquoted no/yes/on/off into booleans, refuse them."""
    items = list(value or ())
    for item in items:
        if not isinstance(item, str):
            raise TriageDataError(f'{where}: {item!r} is not a word (quote it: "no")')
    return frozenset(items)


def _parse_elem(token: str, sets: Mapping[str, frozenset[str]], where: str) -> Elem:
    optional = token.endswith("?") and token != "?"
    body = token[:-1] if optional else token
    if body == "...":
        return Elem(frozenset(), (), GAP, False)
    words: set[str] = set()
    prefixes: list[str] = []
    special = ""
    for alt in body.split("|"):
        if alt in ("<num>", "<year>"):
            special = NUM if alt == "<num>" else YEAR
        elif alt.startswith("<") and alt.endswith(">"):
            if alt[1:-1] not in sets:
                raise TriageDataError(f"{where}: unknown set {alt}")
            words |= sets[alt[1:-1]]
        elif alt.endswith("*"):
            if len(alt) < 4:
                raise TriageDataError(f"{where}: prefix {alt!r} needs at least 3 letters")
            prefixes.append(alt[:-1])
        elif alt.isalnum() and alt.isascii() and alt == alt.lower():
            words.add(alt)
        else:
            raise TriageDataError(f"{where}: bad word {alt!r} (lowercase, no accents)")
    return Elem(frozenset(words), tuple(prefixes), special, optional)


def _compile_group(
    name: str, spec: Any, sets: Mapping[str, frozenset[str]], negators: frozenset[str], where: str
) -> list[Cue]:
    if not isinstance(spec, dict) or not isinstance(spec.get("cues"), list):
        raise TriageDataError(f"{where}: group {name!r} needs a 'cues' list")
    intents = spec.get("intents") or {}
    for intent in intents:
        if intent not in INTENTS:
            raise TriageDataError(f"{where}: group {name!r}: unknown intent {intent!r}")
    group = Group(
        name=name,
        label=str(spec.get("label", name)),
        intents=tuple((i, float(p)) for i, p in intents.items()),
        flags=frozenset(str(f) for f in spec.get("flags") or ()),
        fuzzy=bool(spec.get("fuzzy", True)),
    )
    cues: list[Cue] = []
    for phrase in spec["cues"]:
        here = f"{where}: group {name!r}, cue {phrase!r}"
        if not isinstance(phrase, str):
            raise TriageDataError(f"{here}: not text (quote it)")
        elems = tuple(_parse_elem(t, sets, here) for t in str(phrase).split())
        if not elems or elems[0].optional or elems[0].special == GAP:
            raise TriageDataError(f"{here}: must start with a required word")
        negatable = bool(spec.get("negatable", True)) and not (elems[0].words & negators)
        cues.append(Cue(group, str(phrase), elems, negatable))
    return cues


def compile_vocabulary(cues_path: Path, normalize_path: Path) -> Vocabulary:
    """Read and compile the two vocabulary files; raise ``TriageDataError`` on mistakes."""
    norm = _read_yaml(normalize_path)
    data = _read_yaml(cues_path)
    negators = _words(norm.get("negators"), f"{normalize_path}: negators")
    sets = {k: _words(v, f"{cues_path}: set {k}") for k, v in (data.get("sets") or {}).items()}
    groups_spec = data.get("groups")
    if not isinstance(groups_spec, dict):
        raise TriageDataError(f"{cues_path}: expected a 'groups' mapping")
    by_word: dict[str, list[Cue]] = {}
    by_prefix: dict[str, list[Cue]] = {}
    by_num: list[Cue] = []
    groups: list[Group] = []
    for name, spec in groups_spec.items():
        cues = _compile_group(str(name), spec, sets, negators, str(cues_path))
        if cues:
            groups.append(cues[0].group)
        for cue in cues:
            first = cue.elems[0]
            for word in first.words:
                by_word.setdefault(word, []).append(cue)
            for prefix in first.prefixes:
                by_prefix.setdefault(prefix, []).append(cue)
            if first.special:
                by_num.append(cue)
    return Vocabulary(
        normalizer=Normalizer.build(norm.get("symbols") or {}, norm.get("words") or {}),
        by_word={k: tuple(v) for k, v in by_word.items()},
        by_prefix={k: tuple(v) for k, v in by_prefix.items()},
        prefix_lengths=tuple(sorted({len(p) for p in by_prefix})),
        by_num=tuple(by_num),
        numbers=_words(norm.get("numbers"), f"{normalize_path}: numbers"),
        negators=negators,
        stops=_words(norm.get("negation_stops"), f"{normalize_path}: negation_stops"),
        groups=tuple(groups),
    )


@functools.cache
def load_vocabulary(data_dir: Path = DATA_DIR) -> Vocabulary:
    """The compiled vocabulary from ``data_dir`` (cached)."""
    return compile_vocabulary(data_dir / "cues.yaml", data_dir / "normalize.yaml")
