"""Where is the person? ZIP codes, city names (with nicknames and misspellings from
``data/routing/places.yaml``), Telegram location shares and phone area codes → ``Location``.

Confidence: a ZIP, a point near a ZIP, or "City, ST" is "high"; a city named without its
state, or a point far from any ZIP, is "medium"; an area code or a bare state is "low".
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from typing import Literal

from bot.routing.desks import DATA_DIR, load_desks
from bot.routing.geo import (
    CityPlace,
    ZipRecord,
    area_codes,
    city_index,
    clean_zip,
    km,
    lookup_zip,
    nearest_zip,
)
from bot.routing.names import US_STATES, norm_place
from bot.routing.placedata import PlaceData, load_place_data

Confidence = Literal["high", "medium", "low"]
Method = Literal["zip", "city", "coords", "area_code"]

_ZIP_IN_TEXT = re.compile(r"(?<![\d$#/.,-])(\d{5})(?:-\d{4})?(?![\d/]|,\d)")
_WORD = re.compile(r"[^\W_]+|,")
_PREPOSITIONS = frozenset(
    {
        "en",
        "in",
        "near",
        "cerca",
        "desde",
        "from",
        "around",
        "por",
        "at",
        "to",
        "para",
        "hacia",
        "outside",
        "afuera",
    }
)
_MIN_ZIPS_AFTER_PREPOSITION = 3
_MIN_ZIPS_AFTER_DE = 10
_MAX_WORDS = 5
_NEAR_KM = 15.0


@dataclass(frozen=True, slots=True)
class Location:
    """A resolved place and the desk that serves it."""

    desk_id: str
    zip: str | None
    city: str | None
    state: str
    county: str | None
    lat: float | None
    lon: float | None
    confidence: Confidence
    method: Method
    label: str


def _from_zip(
    rec: ZipRecord, method: Method = "zip", confidence: Confidence = "high", prefix: str = ""
) -> Location | None:
    desk = load_desks().desk_for(rec.state, rec.county, rec.lat, rec.lon)
    if desk is None:
        return None
    return Location(
        desk,
        rec.zip,
        rec.city,
        rec.state,
        rec.county or None,
        rec.lat,
        rec.lon,
        confidence,
        method,
        f"{prefix}{rec.city}, {rec.state} {rec.zip}",
    )


def _from_city(place: CityPlace, confidence: Confidence) -> Location | None:
    desk = load_desks().desk_for(place.state, place.county, place.lat, place.lon)
    if desk is None:
        return None
    return Location(
        desk,
        None,
        place.name,
        place.state,
        place.county or None,
        place.lat,
        place.lon,
        confidence,
        "city",
        f"{place.name}, {place.state}",
    )


def _from_state(state: str) -> Location | None:
    directory = load_desks()
    if directory.splits(state) or state not in directory.by_state:
        return None
    return Location(
        directory.by_state[state],
        None,
        None,
        state,
        None,
        None,
        None,
        "low",
        "city",
        US_STATES.get(state, state),
    )


def _city(name: str, state: str | None) -> CityPlace | None:
    places = city_index().get(name, ())
    if state is not None:
        return next((p for p in places if p.state == state), None)
    return places[0] if places else None


@dataclass(frozen=True, slots=True)
class _Words:
    norm: list[str]
    raw: list[str]


@functools.lru_cache(maxsize=65536)
def _norm_word(word: str) -> str:
    return norm_place(word) if word != "," else ","


def _words(text: str) -> _Words:
    raw = _WORD.findall(text)
    return _Words([_norm_word(w) for w in raw], raw)


def _state_after(words: _Words, j: int, data: PlaceData) -> tuple[str | None, int]:
    """A state named at ``words[j:]`` (after an optional comma): (code, end) or (None, j)."""
    comma = j < len(words.norm) and words.norm[j] == ","
    k = j + 1 if comma else j
    for size in (3, 2, 1):
        phrase = " ".join(words.norm[k : k + size])
        if "," in words.norm[k : k + size] or len(words.norm[k : k + size]) < size:
            continue
        code = data.state_names.get(phrase)
        if code:
            return code, k + size
        raw = words.raw[k] if size == 1 else ""
        if raw.upper() in US_STATES:
            if comma or raw.isupper() or raw.lower() not in data.ambiguous_codes:
                return raw.upper(), k + 1
    return None, j


def _scan(words: _Words, data: PlaceData) -> tuple[int, Location] | None:
    """The best place named in the words: (score, location)."""
    best: tuple[int, Location] | None = None
    state_only: str | None = None
    n = len(words.norm)
    i = 0
    while i < n:
        found = None
        for size in range(min(_MAX_WORDS, n - i), 0, -1):
            chunk = words.norm[i : i + size]
            if "," in chunk:
                continue
            found = _match_phrase(" ".join(chunk), words, i, i + size, data)
            if found is not None:
                break
        if found is None:
            i += 1
            continue
        score, loc, end, state = found
        if loc is not None and (best is None or score > best[0]):
            best = (score, loc)
        state_only = state_only or state
        i = end
    if best is None and state_only:
        loc = _from_state(state_only)
        return (10, loc) if loc else None
    return best


def _match_phrase(
    phrase: str, words: _Words, i: int, j: int, data: PlaceData
) -> tuple[int, Location | None, int, str | None] | None:
    whole = i == 0 and j == len(words.norm)
    if not (phrase in data.known or (whole and phrase in data.exact)):
        return None
    state, end = _state_after(words, j, data)
    alias = data.aliases.get(phrase) or (data.exact.get(phrase) if whole else None)
    if alias is not None:
        if isinstance(alias, ZipRecord):
            return 70, _from_zip(alias, "city", "medium"), j, None
        place = _city(norm_place(alias.name), state) if state else None
        return (
            (80, _from_city(place, "high"), end, None)
            if place
            else (70, _from_city(alias, "medium"), j, None)
        )
    if state is not None and (place := _city(phrase, state)) is not None:
        return 90, _from_city(place, "high"), end, None
    if phrase in data.state_names:
        return 0, None, j, data.state_names[phrase]
    if phrase not in city_index() or phrase in data.stop_words:
        return None
    place = _city(phrase, None)
    if place is None:
        return None
    before = words.norm[i - 1] if i else ""
    if (
        whole
        or (before in _PREPOSITIONS and place.zips >= _MIN_ZIPS_AFTER_PREPOSITION)
        or (before == "de" and place.zips >= _MIN_ZIPS_AFTER_DE)
    ):
        return 60, _from_city(place, "medium"), j, None
    return None


def extract_location(text: str) -> Location | None:
    """Find a place mentioned in a free-text message; None when nothing is found."""
    if not text:
        return None
    for m in _ZIP_IN_TEXT.finditer(text):
        rec = lookup_zip(m.group(1))
        loc = _from_zip(rec) if rec else None
        if loc is not None:
            return loc
    data = load_place_data(DATA_DIR)
    found = _scan(_words(text), data)
    if found is None and text.strip().upper() in US_STATES:
        return _from_state(text.strip().upper())
    return found[1] if found else None


def _from_coords(lat: float, lon: float) -> Location | None:
    rec = nearest_zip(lat, lon)
    if rec is None:
        return None
    near = km(lat, lon, rec.lat, rec.lon) <= _NEAR_KM
    loc = _from_zip(rec, "coords", "high" if near else "medium", "near ")
    if loc is None:
        return None
    return Location(
        loc.desk_id,
        loc.zip,
        loc.city,
        loc.state,
        loc.county,
        lat,
        lon,
        loc.confidence,
        "coords",
        loc.label,
    )


def _from_phone(phone: str) -> Location | None:
    digits = re.sub(r"\D", "", phone)
    if len(digits) == 11 and digits[0] == "1":
        digits = digits[1:]
    elif len(digits) != 10 or phone.strip().startswith("+"):
        return None
    hit = area_codes().get(digits[:3])
    if hit is None:
        return None
    state, county, city, lat, lon = hit
    desk = load_desks().desk_for(state, county, lat, lon)
    if desk is None:
        return None
    return Location(
        desk,
        None,
        city,
        state,
        county or None,
        lat,
        lon,
        "low",
        "area_code",
        f"area code {digits[:3]} ({city}, {state})",
    )


def resolve_location(
    text: str | None = None,
    *,
    zip: str | None = None,
    lat: float | None = None,
    lon: float | None = None,
    phone: str | None = None,
) -> Location | None:
    """Best location from a ZIP, a point, a place text, then the phone's area code."""
    if zip is not None and (code := clean_zip(zip)) and (rec := lookup_zip(code)):
        loc = _from_zip(rec)
        if loc is not None:
            return loc
    if lat is not None and lon is not None and (loc := _from_coords(lat, lon)) is not None:
        return loc
    if text and (loc := extract_location(text)) is not None:
        return loc
    if phone:
        return _from_phone(phone)
    return None
