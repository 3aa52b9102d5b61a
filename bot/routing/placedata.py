"""Loads ``data/routing/places.yaml`` (aliases, Spanish state names, words that need
context), checked against the ZIP data so that every alias points at a real place."""

from __future__ import annotations

import functools
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

import yaml

from bot.routing.desks import DeskDataError
from bot.routing.geo import CityPlace, ZipRecord, city_index, lookup_zip
from bot.routing.names import US_STATES, norm_place

# Two-letter state codes that are also Spanish or English words: taken as a state only
# after a comma or in capitals ("Portland, or" / "Portland OR", not "vivo en houston la casa").
AMBIGUOUS_CODES: Final = frozenset(
    {
        "al",
        "co",
        "de",
        "hi",
        "id",
        "in",
        "la",
        "ma",
        "me",
        "mi",
        "mo",
        "ne",
        "oh",
        "ok",
        "or",
        "pa",
        "va",
        "wa",
        "ga",
        "ms",
        "nc",
        "sc",
        "ct",
        "ks",
    }
)


@dataclass(frozen=True, slots=True)
class PlaceData:
    """Aliases resolved to places, state names (any language) → code, words that need
    context, and names never taken without their state."""

    aliases: Mapping[str, ZipRecord | CityPlace]
    exact: Mapping[str, ZipRecord | CityPlace]
    state_names: Mapping[str, str]
    stop_words: frozenset[str]
    ambiguous_codes: frozenset[str]
    not_places: frozenset[str] = frozenset()
    prefer: Mapping[str, ZipRecord | CityPlace] | None = None


def _target(path: Path, key: str, value: Any) -> ZipRecord | CityPlace:
    text = str(value).strip()
    rec = lookup_zip(text) if text.isdigit() else None
    if rec is not None:
        return rec
    city, _, state = text.rpartition(",")
    state = state.strip()
    for place in city_index().get(norm_place(city), ()):
        if place.state == state:
            return place
    raise DeskDataError(
        path, 0, f"alias {key!r}: {text!r} is not a ZIP or 'City, ST' known to the ZIP data"
    )


@functools.cache
def load_place_data(data_dir: Path) -> PlaceData:
    """Read and check places.yaml in ``data_dir`` (cached)."""
    path = data_dir / "places.yaml"
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError) as exc:
        raise DeskDataError(path, 0, f"cannot read: {exc}") from exc
    states = {norm_place(name): code for code, name in US_STATES.items()}
    for name, code in (data.get("state_names") or {}).items():
        if str(code) not in US_STATES:
            raise DeskDataError(path, 0, f"state_names {name!r}: unknown state {code!r}")
        states[norm_place(str(name))] = str(code)
    aliases = {
        norm_place(str(k)): _target(path, str(k), v) for k, v in (data.get("aliases") or {}).items()
    }
    return PlaceData(
        aliases=aliases,
        exact={
            norm_place(str(k)): _target(path, str(k), v)
            for k, v in (data.get("exact_aliases") or {}).items()
        },
        state_names=states,
        stop_words=frozenset(norm_place(str(w)) for w in data.get("stop_words") or ()),
        ambiguous_codes=AMBIGUOUS_CODES,
        not_places=frozenset(norm_place(str(w)) for w in data.get("not_places") or ()),
        prefer={
            norm_place(str(k)): _target(path, str(k), v)
            for k, v in (data.get("prefer") or {}).items()
        },
    )
