"""Where is the person? ZIP codes, place names in free text, Telegram location shares and
phone area codes → ``Location``.

Free text (``extract_location``): every place mentioned is found (``mentions.py``: U.S.
cities from the ZIP data, nicknames and misspellings, neighbourhoods and landmarks from the
gazetteer, places abroad); the one kept is where the event happened rather than where the
person lives ("vivo en San Jose pero lo agarró la migra en Sacramento" → Sacramento), then
the surest. A place abroad wins only when nothing in the U.S. is named in the same role or a
stronger one; it gives a ``Location`` with ``abroad`` true, ``country`` its code and the
central desk, so it routes to no consulate.

Confidence: a ZIP, a point near a ZIP, "City, ST" or a landmark is "high"; a city named
without its state, a corrected misspelling or a place abroad is "medium"; an area code or a
bare state is "low".
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Final, Literal

from bot.routing.desks import CENTRAL, DATA_DIR, load_desks
from bot.routing.gazetteer import Abroad, Site
from bot.routing.geo import (
    CityPlace,
    ZipRecord,
    area_codes,
    clean_zip,
    km,
    lookup_zip,
    nearest_zip,
)
from bot.routing.lexicon import by_likelihood, load_lexicon
from bot.routing.mentions import WORD_CODES, Mention, scan
from bot.routing.names import US_STATES

Confidence = Literal["high", "medium", "low"]
Method = Literal["zip", "city", "place", "coords", "area_code", "abroad"]

_NEAR_KM = 15.0


@dataclass(frozen=True, slots=True)
class Location:
    """A resolved place and the desk that serves it.

    ``country`` is "US" for places the consulates serve (Puerto Rico included); for a place
    abroad it is the country code ("MX", "GT"...), ``desk_id`` is the central desk and
    ``state`` the region, if any ("Chiapas").
    """

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
    country: str = "US"

    @property
    def abroad(self) -> bool:
        """Whether the place is outside the U.S. (no consulate desk serves it)."""
        return self.country != "US"


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


def _from_site(site: Site) -> Location | None:
    where = site.zip or site.place
    loc = _from_zip(site.zip, "place") if site.zip else _from_city(site.place, "high")
    if loc is None:
        return None
    city = f"{site.place.name}, {site.place.state}" + (f" {site.zip.zip}" if site.zip else "")
    return Location(
        loc.desk_id,
        loc.zip,
        site.place.name,
        where.state,
        loc.county,
        loc.lat,
        loc.lon,
        "high",
        "place",
        f"{site.name} ({city})",
    )


def _from_abroad(place: Abroad) -> Location:
    return Location(
        CENTRAL,
        None,
        place.name if place.level == "city" else None,
        place.region or (place.name if place.level == "region" else ""),
        None,
        None,
        None,
        "medium",
        "abroad",
        place.label,
        place.country,
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


def _location(m: Mention) -> Location | None:
    target = m.target
    if isinstance(target, Abroad):
        return _from_abroad(target)
    if isinstance(target, Site):
        return _from_site(target)
    if isinstance(target, ZipRecord):
        if m.kind == "zip":
            return _from_zip(target)
        return _from_zip(target, "city", "high" if m.high else "medium")
    if isinstance(target, CityPlace):
        return _from_city(target, "high" if m.high else "medium")
    return _from_state(target)


def _best(mentions: list[Mention]) -> Location | None:
    """Event over neutral over residence; then the surest U.S. place; a place abroad only
    in a stronger role than any U.S. place; a bare state last."""
    us = sorted(
        (m for m in mentions if m.kind not in ("abroad", "state")),
        key=lambda m: (-m.role, -m.score, m.start),
    )
    abroad = sorted(
        (m for m in mentions if isinstance(m.target, Abroad)), key=lambda m: (-m.role, m.start)
    )
    if abroad and (not us or abroad[0].role > us[0].role):
        return _location(abroad[0])
    for m in us:
        if (loc := _location(m)) is not None:
            return loc
    if abroad:
        return _location(abroad[0])
    for m in mentions:
        if m.kind == "state" and (loc := _location(m)) is not None:
            return loc
    return None


CACHED_TEXT_CHARS: Final = 120  # a place answer is short and read again at every step


def extract_location(text: str, *, phone: str | None = None) -> Location | None:
    """Find the place a free-text message is about; None when it names none. The writer's
    ``phone`` (its area code) chooses among towns of one name in several states when the
    message names no state ("Gainesville" from a Georgia number is Gainesville, GA).

    A place outside the U.S. gives a Location with ``abroad`` true (central desk)."""
    return read_place(text, phone=phone).location


@dataclass(frozen=True, slots=True)
class PlaceReading:
    """What a text says of a place: the ``location`` kept, and — when it is a town that
    several states have and nothing said which — its ``town`` name and those ``states``
    (code, name), likeliest first, to ask the person."""

    location: Location | None
    town: str | None = None
    states: tuple[tuple[str, str], ...] = ()


NOTHING_READ: Final = PlaceReading(None)
PLACE_STATES_SHOWN: Final = 4


def read_place(text: str, *, phone: str | None = None) -> PlaceReading:
    """``extract_location`` with the town left unsettled, if any (one pass over the text)."""
    if not text:
        return NOTHING_READ
    near = _phone_state(phone) if phone else None
    if len(text) <= CACHED_TEXT_CHARS:  # long texts (a person's story) are not kept
        return _short_read(text, near)
    return _read(text, near)


def place_states(text: str, *, phone: str | None = None) -> tuple[tuple[str, str], ...]:
    """The states to ask about when ``text`` names a town that several states have and
    nothing says which ("en Hillsboro"): likeliest first, as (code, name); else ()."""
    return read_place(text, phone=phone).states


@lru_cache(maxsize=2048)
def _short_read(text: str, near: str | None) -> PlaceReading:
    return _read(text, near)


def _read(text: str, near: str | None) -> PlaceReading:
    mentions, unsettled = scan(text, load_lexicon(DATA_DIR), near)
    found = _best(mentions)
    code = text.strip().upper()
    if found is None and code in US_STATES and code.lower() not in WORD_CODES:
        found = _from_state(code)
    if found is not None and found.method != "city":
        return PlaceReading(found)
    for entry in unsettled:
        names = {p.name for p in entry.places}
        if found is not None and found.city not in names:
            continue  # the place kept is another one, settled
        states = list(dict.fromkeys(p.state for p in by_likelihood(entry.places)))
        if len(states) >= 2:
            shown = states[:PLACE_STATES_SHOWN]
            pairs = tuple((code, US_STATES.get(code, code)) for code in shown)
            return PlaceReading(found, entry.places[0].name, pairs)
    return PlaceReading(found)


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


def _area_code(phone: str) -> tuple[str, tuple[str, str, str, float, float]] | None:
    """A U.S. number's area code and what it covers (state, county, city, point)."""
    digits = re.sub(r"\D", "", phone)
    if len(digits) == 11 and digits[0] == "1":
        digits = digits[1:]
    elif len(digits) != 10 or phone.strip().startswith("+"):
        return None
    hit = area_codes().get(digits[:3])
    return (digits[:3], hit) if hit is not None else None


def _phone_state(phone: str) -> str | None:
    found = _area_code(phone)
    return found[1][0] if found is not None else None


def _from_phone(phone: str) -> Location | None:
    found = _area_code(phone)
    if found is None:
        return None
    code, (state, county, city, lat, lon) = found
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
        f"area code {code} ({city}, {state})",
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
    if text and (loc := extract_location(text, phone=phone)) is not None:
        return loc
    if phone:
        return _from_phone(phone)
    return None
