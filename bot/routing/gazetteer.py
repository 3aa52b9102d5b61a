"""Loads the place lists that are not in the ZIP data, each checked at load:

- ``gazetteer.csv``: neighbourhoods, districts and landmarks (ports of entry, courthouses,
  ICE offices, detention centres, markets) with the U.S. city (and ZIP) they lie in;
- ``abroad.yaml``: places outside the U.S. (Mexican states and cities, Central America...);
- ``words.txt``: ordinary words and personal names that are also place names.

A mistake raises ``DeskDataError`` naming the file, the row and the reason.
"""

from __future__ import annotations

import csv
import functools
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final, Literal

import yaml

from bot.routing.desks import DeskDataError
from bot.routing.geo import CityPlace, ZipRecord, city_index, km, lookup_zip
from bot.routing.names import US_STATES, norm_place

Level = Literal["country", "region", "city"]
SITE_KINDS: Final = frozenset(
    {
        "neighborhood",
        "district",
        "region",
        "landmark",
        "port_of_entry",
        "checkpoint",
        "courthouse",
        "ice_office",
        "detention_center",
        "market",
        "airport",
        "base",
    }
)
_MAX_ZIP_KM: Final = 80.0  # a site's ZIP lies in or near its city


@dataclass(frozen=True, slots=True)
class Site:
    """A neighbourhood or landmark in a U.S. city (``zip`` when known)."""

    name: str
    kind: str
    place: CityPlace
    zip: ZipRecord | None
    source: str


@dataclass(frozen=True, slots=True)
class Abroad:
    """A place outside the U.S.: a country, a region (state) or a city."""

    name: str
    level: Level
    country: str
    country_name: str
    region: str | None = None

    @property
    def label(self) -> str:
        """ "Tapachula, Chiapas, México"; "Guatemala"."""
        parts = [self.name, self.region, self.country_name]
        out: list[str] = []
        for part in parts:
            if part and part not in out:
                out.append(part)
        return ", ".join(out)


@dataclass(frozen=True, slots=True)
class Words:
    """Ordinary words (``words``) and personal names (``names``), normalised."""

    words: frozenset[str]
    names: frozenset[str]


def _site_place(path: Path, line: int, row: dict[str, str]) -> tuple[CityPlace, ZipRecord | None]:
    state = row["state"].strip()
    if state not in US_STATES:
        raise DeskDataError(path, line, f"unknown state {state!r}")
    key = norm_place(row["city"])
    place = next((p for p in city_index().get(key, ()) if p.state == state), None)
    if place is None:
        raise DeskDataError(path, line, f"{row['city']!r}, {state} is not a city in the ZIP data")
    code = row.get("zip", "").strip()
    if not code:
        return place, None
    rec = lookup_zip(code)
    if rec is None or rec.state != state:
        raise DeskDataError(path, line, f"ZIP {code!r} is unknown or not in {state}")
    if km(rec.lat, rec.lon, place.lat, place.lon) > _MAX_ZIP_KM:
        raise DeskDataError(path, line, f"ZIP {code} is far from {place.name}, {state}")
    return place, rec


@functools.cache
def load_sites(data_dir: Path) -> tuple[tuple[str, Site], ...]:
    """(normalised name or alias, site) pairs from ``gazetteer.csv`` (cached)."""
    path = data_dir / "gazetteer.csv"
    try:
        rows = list(csv.DictReader(path.read_text(encoding="utf-8").splitlines()))
    except OSError as exc:
        raise DeskDataError(path, 0, f"cannot read: {exc}") from exc
    out: list[tuple[str, Site]] = []
    for line, row in enumerate(rows, start=2):
        name, kind, source = row["name"].strip(), row["kind"].strip(), row["source"].strip()
        if not name or kind not in SITE_KINDS:
            raise DeskDataError(path, line, f"needs a name and a kind in {sorted(SITE_KINDS)}")
        if not source.startswith(("http://", "https://")):
            raise DeskDataError(path, line, "source must be a URL")
        place, rec = _site_place(path, line, row)
        site = Site(name, kind, place, rec, source)
        names = [name, *(a for a in (row.get("aliases") or "").split("|") if a.strip())]
        out.extend((norm_place(n), site) for n in names if norm_place(n))
    return tuple(out)


def _str_list(path: Path, where: str, value: Any) -> list[str]:
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise DeskDataError(path, 0, f"{where}: expected a list of names")
    return list(value)


@functools.cache
def load_abroad(data_dir: Path) -> tuple[tuple[str, Abroad], ...]:
    """(normalised name or alias, place) pairs from ``abroad.yaml`` (cached)."""
    path = data_dir / "abroad.yaml"
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError) as exc:
        raise DeskDataError(path, 0, f"cannot read: {exc}") from exc
    countries: dict[str, str] = {}
    out: list[tuple[str, Abroad]] = []
    for code, names in (data.get("countries") or {}).items():
        names = _str_list(path, f"countries.{code}", names)
        if not names:
            raise DeskDataError(path, 0, f"countries.{code}: no name")
        countries[str(code)] = names[0]
        place = Abroad(names[0], "country", str(code), names[0])
        out.extend((norm_place(n), place) for n in names)
    levels: tuple[tuple[Level, str], ...] = (("region", "regions"), ("city", "cities"))
    for level, key in levels:
        for code, places in (data.get(key) or {}).items():
            if str(code) not in countries:
                raise DeskDataError(path, 0, f"{key}.{code}: unknown country")
            for name, extra in (places or {}).items():
                extra = _str_list(path, f"{key}.{code}.{name}", extra)
                region = extra[0] if level == "city" and extra else None
                aliases = extra[1:] if level == "city" else extra
                ab = Abroad(str(name), level, str(code), countries[str(code)], region)
                out.extend((norm_place(n), ab) for n in [str(name), *aliases])
    return tuple(out)


@functools.cache
def load_words(data_dir: Path) -> Words:
    """The ``[words]`` and ``[names]`` sections of ``words.txt`` (cached)."""
    path = data_dir / "words.txt"
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise DeskDataError(path, 0, f"cannot read: {exc}") from exc
    sections: dict[str, set[str]] = {"words": set(), "names": set()}
    current: set[str] | None = None
    for line_no, line in enumerate(text.splitlines(), start=1):
        line = line.split("#", 1)[0].strip()
        if not line:
            continue
        if line.startswith("["):
            current = sections.get(line.strip("[]"))
            if current is None:
                raise DeskDataError(path, line_no, f"unknown section {line}")
            continue
        if current is None:
            raise DeskDataError(path, line_no, "words before a [section]")
        current.update(norm_place(w.replace("_", " ")) for w in line.split())
    return Words(frozenset(sections["words"]), frozenset(sections["names"]))
