"""Every place name the text scanner knows, compiled once into one phrase table.

A phrase (normalised: lowercase ASCII, "St." → "saint") maps to an ``Entry`` holding what
it may name: U.S. cities from the ZIP data (their own names and the other names the Postal
Service accepts), nicknames and misspellings (``places.yaml``), neighbourhoods and landmarks
(``gazetteer.csv``), places abroad (``abroad.yaml``) and state names.

Which of several same-named cities a bare name means (``Entry.default``):

1. the consulate's own city ("Douglas" → Douglas, AZ; "Portland" → Portland, OR);
2. else the city with the most ZIP codes if it has at least 3 and twice as many as the next
   ("Columbus" → Columbus, OH);
3. else, when every candidate is served by the same desk, the largest of them;
4. else the town most likely meant by someone writing to a Mexican consulate: its ZIP codes
   × its state's Mexican-born population (``MEXICAN_BORN``), when that weighs at least twice
   the next ("Springfield" → IL over MA and MO, "Delano" → CA over MN, "Buckeye" → AZ);
5. else none: the name alone is too ambiguous, and the caller asks the person. A state
   named in the text settles it ("springfield mo").
"""

from __future__ import annotations

import functools
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Final, Literal

from bot.routing.desks import DATA_DIR, DeskDirectory, load_desks
from bot.routing.fuzzy import MIN_LENGTH, FuzzyIndex, by_ear, distance
from bot.routing.gazetteer import Abroad, Site, Words, load_abroad, load_sites, load_words
from bot.routing.geo import CityPlace, ZipRecord, alternate_city_index, city_index
from bot.routing.names import norm_place
from bot.routing.placedata import PlaceData, load_place_data

Kind = Literal["plain", "word", "name", "never"]
"""How much context a name needs: none ("plain"), a place context ("word": an ordinary
word; "name": a personal name), or a state after it ("never")."""

BIG_ZIPS: Final = 8
"""A city with this many ZIP codes (or a consulate's city) is named without context."""
FUZZY_ZIPS: Final = 10
"""Misspellings are corrected only towards cities this big, consulate cities and states."""
EAR_ZIPS: Final = 5
"""Names written by ear ("menfis") are heard only as cities this big, consulate cities and
states."""
EAR_MIN: Final = 6
"""Sound keys shorter than this are too many ordinary words' too."""
EAR_NEAR: Final = 8
"""Sound keys this long may also be one letter off ("murfis boro")."""
_DOMINANT_ZIPS: Final = 3
# Mexican-born residents by state, thousands, rounded (U.S. Census Bureau, American
# Community Survey 2019 1-year, table B05006): which same-named town a person likely means.
MEXICAN_BORN: Final[Mapping[str, int]] = {
    "CA": 3900, "TX": 2500, "IL": 620, "AZ": 480, "WA": 260, "FL": 250, "GA": 240,
    "CO": 230, "NC": 230, "NY": 220, "NV": 220, "NJ": 180, "OR": 120, "NM": 110, "UT": 100,
    "OK": 90, "IN": 90, "KS": 80, "MI": 70, "TN": 70, "SC": 60, "MN": 60, "WI": 60,
    "AR": 50, "NE": 50, "ID": 50, "PA": 50, "VA": 50, "MD": 40, "AL": 40, "MO": 40,
    "OH": 40, "KY": 30, "IA": 30, "LA": 30, "MA": 20, "CT": 20, "MS": 20,
}  # fmt: skip
_OTHER_STATES: Final = 10


@dataclass(frozen=True, slots=True)
class Entry:
    """What one phrase may name."""

    places: tuple[CityPlace, ...] = ()
    default: CityPlace | None = None
    alias: ZipRecord | CityPlace | None = None
    whole_only: ZipRecord | CityPlace | None = None
    sites: tuple[Site, ...] = ()
    abroad: tuple[Abroad, ...] = ()
    state: str | None = None
    kind: Kind = "plain"
    big: bool = False
    desk: bool = False
    """A consulate's own city: taken even lowercase after "en" ("vivo en fresno")."""
    guessed: bool = False
    """``default`` is only the likeliest of several states' towns (rule 4 above): worth
    asking the person which state, when a question about the place is being answered."""
    jail: CityPlace | None = None
    """The town of this name that holds an immigration detention centre: the one meant in a
    message about a detained person ("mi sobrino está detenido en Florence" → Florence, AZ)."""


@dataclass(frozen=True, slots=True, eq=False)
class Lexicon:
    """The phrase table, the longest phrase per first word, and the misspelling index."""

    entries: Mapping[str, Entry]
    spans: Mapping[str, int]
    fuzzy: FuzzyIndex
    fuzzy_heads: frozenset[str]
    words: Words
    state_names: Mapping[str, str]
    desk_cities: frozenset[tuple[str, str]] = field(default_factory=frozenset)
    heard: Mapping[str, str] = field(default_factory=dict)
    """Sound key (``fuzzy.by_ear``) → the name it is most likely heard as."""
    heard_near: FuzzyIndex = field(default_factory=lambda: FuzzyIndex(()))

    def correct(self, query: str) -> str | None:
        """The known name a misspelt phrase stands for, or None."""
        return _correct(self, query)

    def hear(self, query: str) -> str | None:
        """The known name a phrase written by ear stands for ("menfis" → "memphis"), or
        None."""
        return _hear(self, query)


@functools.lru_cache(maxsize=4096)
def _correct(lexicon: Lexicon, query: str) -> str | None:
    return lexicon.fuzzy.lookup(query)


@functools.lru_cache(maxsize=4096)
def _hear(lexicon: Lexicon, query: str) -> str | None:
    key = by_ear(query)
    if len(key) < EAR_MIN:
        return None
    if key not in lexicon.heard and len(key) >= EAR_NEAR:
        near = lexicon.heard_near.lookup(key)
        if near is None or distance(near, key) > 1:
            return None
        key = near
    return lexicon.heard.get(key)


def _mc_variants(key: str) -> set[str]:
    """ "mcallen" ↔ "mc allen": the ZIP data and people write both."""
    out = {key}
    words = key.split()
    for i, w in enumerate(words):
        if w == "mc" and i + 1 < len(words):
            out.add(" ".join([*words[:i], w + words[i + 1], *words[i + 2 :]]))
        elif w.startswith("mc") and len(w) > 3:
            out.add(" ".join([*words[:i], "mc", w[2:], *words[i + 1 :]]))
    return out


def _default(
    key: str,
    places: tuple[CityPlace, ...],
    desk_cities: frozenset[tuple[str, str]],
    desks: DeskDirectory,
) -> tuple[CityPlace | None, bool]:
    """The town a bare name means (rules 1–5 above), and whether it is only a guess among
    towns that several desks serve (rule 4)."""
    if not places:
        return None, False
    for place in places:
        if (key, place.state) in desk_cities:
            return place, False
    top = places[0]
    if len(places) == 1:
        return top, False
    if top.zips >= _DOMINANT_ZIPS and top.zips >= 2 * places[1].zips:
        return top, False
    served = {desks.desk_for(p.state, p.county, p.lat, p.lon) for p in places}
    if len(served) == 1 and None not in served:
        return top, False
    likely = by_likelihood(places)
    if _weight(likely[0]) >= 2 * _weight(likely[1]):
        return likely[0], True
    return None, False


def by_likelihood(places: tuple[CityPlace, ...]) -> list[CityPlace]:
    """Same-named towns, the one a person writing to a Mexican consulate most likely means
    first (its ZIP codes × its state's Mexican-born population)."""
    return sorted(places, key=_weight, reverse=True)


def _weight(place: CityPlace) -> int:
    return max(place.zips, 1) * MEXICAN_BORN.get(place.state, _OTHER_STATES)


def _kind(key: str, words: Words, data: PlaceData, never: frozenset[str]) -> Kind:
    if key in never:
        return "never"
    if key in words.names:
        return "name"
    if key in words.words or key in data.stop_words:
        return "word"
    return "plain"


def _city_places(data: PlaceData) -> dict[str, list[CityPlace]]:
    merged: dict[str, list[CityPlace]] = defaultdict(list)
    for source in (city_index(), alternate_city_index()):
        for name, places in source.items():
            for key in _mc_variants(name):
                merged[key].extend(places)
    return merged


@functools.cache
def load_lexicon(data_dir: Path = DATA_DIR) -> Lexicon:
    """Build the phrase table from the ZIP data and the files in ``data_dir`` (cached)."""
    data = load_place_data(data_dir)
    words = load_words(data_dir)
    never = frozenset(data.not_places)
    desks = load_desks()
    desk_cities = frozenset((norm_place(d.city), d.state) for d in desks.all() if not d.is_central)
    fields: dict[str, dict[str, object]] = defaultdict(dict)
    for key, places in _city_places(data).items():
        ordered = tuple(sorted(places, key=lambda p: -p.zips))
        fields[key]["places"] = ordered
    for key, target in data.aliases.items():
        fields[key]["alias"] = target
    for key, target in data.exact.items():
        fields[key]["whole_only"] = target
    sites: dict[str, list[Site]] = defaultdict(list)
    for key, site in load_sites(data_dir):
        if site not in sites[key]:
            sites[key].append(site)
    for key, found in sites.items():
        fields[key]["sites"] = tuple(found)
    jails = {
        norm_place(site.place.name): site.place
        for found in sites.values()
        for site in found
        if site.kind == "detention_center"
    }
    abroad: dict[str, list[Abroad]] = defaultdict(list)
    for key, place in load_abroad(data_dir):
        if place not in abroad[key]:
            abroad[key].append(place)
    for key, found_abroad in abroad.items():
        fields[key]["abroad"] = tuple(found_abroad)
    for key, code in data.state_names.items():
        fields[key]["state"] = code
    entries: dict[str, Entry] = {}
    prefer = data.prefer or {}
    for key, f in fields.items():
        places_f: tuple[CityPlace, ...] = f.get("places", ())  # type: ignore[assignment]
        kind = _kind(key, words, data, never)
        big = any(p.zips >= BIG_ZIPS or (key, p.state) in desk_cities for p in places_f)
        preferred = prefer.get(key)
        default, guessed = _default(key, places_f, desk_cities, desks)
        if isinstance(preferred, CityPlace):
            default, guessed = preferred, False
        entries[key] = Entry(
            places=places_f,
            default=default,
            guessed=guessed,
            alias=f.get("alias"),  # type: ignore[arg-type]
            whole_only=f.get("whole_only"),  # type: ignore[arg-type]
            sites=f.get("sites", ()),  # type: ignore[arg-type]
            abroad=f.get("abroad", ()),  # type: ignore[arg-type]
            state=f.get("state"),  # type: ignore[arg-type]
            kind=kind,
            big=big or "alias" in f,
            desk=any((key, p.state) in desk_cities for p in places_f),
            jail=jails.get(key) if len(places_f) > 1 else None,
        )
    return _compile(entries, words, data, desk_cities)


def _compile(
    entries: dict[str, Entry],
    words: Words,
    data: PlaceData,
    desk_cities: frozenset[tuple[str, str]],
) -> Lexicon:
    spans: dict[str, int] = {}
    for key in entries:
        parts = key.split()
        spans[parts[0]] = max(spans.get(parts[0], 0), len(parts))
    rank: dict[str, int] = {}
    for key, e in entries.items():
        if e.kind != "plain" or len(key) < MIN_LENGTH or e.whole_only is not None:
            continue
        size = max((p.zips for p in e.places), default=0)
        desk = any((key, p.state) in desk_cities for p in e.places)
        if size >= FUZZY_ZIPS or desk or e.state or e.abroad:
            rank[key] = size + (1000 if desk else 0)
    heads = frozenset(k.split()[0] for k in rank if " " in k)
    heard: dict[str, str] = {}
    weight: dict[str, int] = {}
    for key, e in entries.items():
        if e.kind != "plain" or e.whole_only is not None or e.abroad:
            continue
        size = max((p.zips for p in e.places), default=0)
        desk = any((key, p.state) in desk_cities for p in e.places)
        if not (size >= EAR_ZIPS or desk or e.state or e.alias):
            continue  # (the sound key only for the few names heard: it is slow to make)
        sound = by_ear(key)
        score = size + (1000 if desk else 0) + (2000 if e.state else 0)
        if len(sound) >= EAR_MIN and score > weight.get(sound, -1):
            heard[sound], weight[sound] = key, score
    return Lexicon(
        entries=entries,
        spans=spans,
        fuzzy=FuzzyIndex(rank, rank),
        fuzzy_heads=heads,
        words=words,
        state_names=data.state_names,
        desk_cities=desk_cities,
        heard=heard,
        heard_near=FuzzyIndex(weight, weight),
    )
