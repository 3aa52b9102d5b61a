"""Offline U.S. ZIP data from the ``zipcodes`` package: ZIP look-up (a dict built at first
use), nearest ZIP to a point (coarse grid index), and area-code and city indexes.

Malformed or unknown ZIP codes give None. A few records carry the point (0, 0): they are
looked up by code but left out of every index built on coordinates.
"""

from __future__ import annotations

import functools
import math
import re
from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Final

import zipcodes

# zipcodes has no type hints; name the function used with its real shape.
_list_all: Callable[[], list[dict[str, Any]]] = zipcodes.list_all

_ZIP = re.compile(r"^\s*(\d{5})(?:-\d{4})?\s*$")
_CELL_DEG: Final = 0.5
_MAX_NEAREST_KM: Final = 100.0


@dataclass(frozen=True, slots=True)
class ZipRecord:
    """One ZIP code: place, county and a representative point."""

    zip: str
    city: str
    state: str
    county: str
    lat: float
    lon: float
    kind: str
    area_codes: tuple[str, ...] = ()


def km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance in kilometres."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    a = (
        math.sin((p2 - p1) / 2) ** 2
        + math.cos(p1) * math.cos(p2) * math.sin(math.radians(lon2 - lon1) / 2) ** 2
    )
    return 2 * 6371.0 * math.asin(math.sqrt(min(1.0, a)))


def _record(raw: dict[str, Any]) -> ZipRecord | None:
    try:
        return ZipRecord(
            raw["zip_code"],
            raw["city"] or "",
            raw["state"] or "",
            raw["county"] or "",
            float(raw["lat"]),
            float(raw["long"]),
            raw["zip_code_type"] or "",
            tuple(raw.get("area_codes") or ()),
        )
    except (KeyError, TypeError, ValueError):
        return None


def clean_zip(value: str | int | None) -> str | None:
    """ "77036", "77036-1234" or 77036 → "77036"; anything else → None."""
    if value is None or isinstance(value, bool):
        return None
    text = f"{value:05d}" if isinstance(value, int) else str(value)
    m = _ZIP.match(text)
    return m.group(1) if m else None


def lookup_zip(value: str | int | None) -> ZipRecord | None:
    """The record of a ZIP code, or None when malformed or unknown."""
    code = clean_zip(value)
    if code is None:
        return None
    return _zip_table().get(code)


@functools.cache
def _zip_table() -> dict[str, ZipRecord]:
    return {rec.zip: rec for rec in all_records()}


@functools.cache
def all_records() -> tuple[ZipRecord, ...]:
    """Every ZIP record with coordinates (loaded once, about half a second)."""
    out = (_record(raw) for raw in _list_all())
    return tuple(r for r in out if r is not None)


def _located(rec: ZipRecord) -> bool:
    """Whether the record has a real point (a few carry 0, 0)."""
    return rec.lat != 0.0 or rec.lon != 0.0


def _cell(lat: float, lon: float) -> tuple[int, int]:
    return math.floor(lat / _CELL_DEG), math.floor(lon / _CELL_DEG)


@functools.cache
def _grid() -> dict[tuple[int, int], tuple[ZipRecord, ...]]:
    grid: dict[tuple[int, int], list[ZipRecord]] = defaultdict(list)
    for rec in all_records():
        if rec.kind != "MILITARY" and _located(rec):
            grid[_cell(rec.lat, rec.lon)].append(rec)
    return {k: tuple(v) for k, v in grid.items()}


def nearest_zip(lat: float, lon: float, max_km: float = _MAX_NEAREST_KM) -> ZipRecord | None:
    """The ZIP whose point is nearest to (lat, lon), if within ``max_km``."""
    if not (-90.0 <= lat <= 90.0 and -180.0 <= lon <= 180.0):
        return None
    grid = _grid()
    cy, cx = _cell(lat, lon)
    best: ZipRecord | None = None
    best_km = max_km
    ring_km = _CELL_DEG * 111.0 * max(0.2, math.cos(math.radians(lat)))
    rings = int(max_km / ring_km) + 2
    for r in range(rings):
        if best is not None and (r - 1) * ring_km > best_km:
            break
        for dy in range(-r, r + 1):
            for dx in range(-r, r + 1):
                if max(abs(dy), abs(dx)) != r:
                    continue
                for rec in grid.get((cy + dy, cx + dx), ()):
                    d = km(lat, lon, rec.lat, rec.lon)
                    if d <= best_km:
                        best, best_km = rec, d
    return best


@functools.cache
def area_codes() -> dict[str, tuple[str, str, str, float, float]]:
    """Area code → (state, county, city, lat, lon) of its most common ZIP county."""
    counts: dict[str, Counter[tuple[str, str]]] = defaultdict(Counter)
    points: dict[tuple[str, str, str], list[ZipRecord]] = defaultdict(list)
    for rec in all_records():
        if rec.kind != "STANDARD" or not _located(rec):
            continue
        for code in rec.area_codes:
            counts[code][(rec.state, rec.county)] += 1
            points[(code, rec.state, rec.county)].append(rec)
    out: dict[str, tuple[str, str, str, float, float]] = {}
    for code, counter in counts.items():
        (state, county), _ = counter.most_common(1)[0]
        recs = points[(code, state, county)]
        city = Counter(r.city for r in recs).most_common(1)[0][0]
        out[code] = (
            state,
            county,
            city,
            sum(r.lat for r in recs) / len(recs),
            sum(r.lon for r in recs) / len(recs),
        )
    return out


@dataclass(frozen=True, slots=True)
class CityPlace:
    """A city in one state: its most common county, mean point and ZIP count."""

    name: str
    state: str
    county: str
    lat: float
    lon: float
    zips: int


@functools.cache
def city_index() -> dict[str, tuple[CityPlace, ...]]:
    """Normalised city name → places with that name, most ZIPs first."""
    from bot.routing.names import norm_place

    groups: dict[tuple[str, str], list[ZipRecord]] = defaultdict(list)
    for rec in all_records():
        if rec.kind != "MILITARY" and rec.city and _located(rec):
            groups[(norm_place(rec.city), rec.state)].append(rec)
    index: dict[str, list[CityPlace]] = defaultdict(list)
    for (name, state), recs in groups.items():
        county = Counter(r.county for r in recs if r.county).most_common(1)
        index[name].append(
            CityPlace(
                recs[0].city,
                state,
                county[0][0] if county else "",
                sum(r.lat for r in recs) / len(recs),
                sum(r.lon for r in recs) / len(recs),
                len(recs),
            )
        )
    return {k: tuple(sorted(v, key=lambda p: -p.zips)) for k, v in index.items()}


@functools.cache
def alternate_city_index() -> dict[str, tuple[CityPlace, ...]]:
    """Other names the Postal Service accepts for a ZIP ("Cypress" for a Houston-area ZIP),
    for names that are not already a city in that state: name → places, most ZIPs first."""
    from bot.routing.names import norm_place

    primary = city_index()
    groups: dict[tuple[str, str], list[tuple[str, ZipRecord]]] = defaultdict(list)
    for raw in _list_all():
        rec = _record(raw)
        if rec is None or rec.kind == "MILITARY" or not _located(rec):
            continue
        for name in raw.get("acceptable_cities") or ():
            key = norm_place(name)
            if key and all(p.state != rec.state for p in primary.get(key, ())):
                groups[(key, rec.state)].append((name, rec))
    index: dict[str, list[CityPlace]] = defaultdict(list)
    for (key, state), named in groups.items():
        recs = [r for _, r in named]
        county = Counter(r.county for r in recs if r.county).most_common(1)
        index[key].append(
            CityPlace(
                Counter(n for n, _ in named).most_common(1)[0][0],
                state,
                county[0][0] if county else "",
                sum(r.lat for r in recs) / len(recs),
                sum(r.lon for r in recs) / len(recs),
                len(recs),
            )
        )
    return {k: tuple(sorted(v, key=lambda p: -p.zips)) for k, v in index.items()}
