"""Reads and validates the desk data files into a ``DeskDirectory`` (see ``desks.py``)."""

from __future__ import annotations

import csv
import re
from datetime import time
from pathlib import Path
from typing import Any, Final
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml

from bot.routing.desks import (
    ALWAYS_OPEN,
    CENTRAL,
    WEEKDAYS,
    Desk,
    DeskDataError,
    DeskDirectory,
    WeeklyHours,
)
from bot.routing.names import US_STATES

_SLUG = re.compile(r"^[a-z]+(?:-[a-z]+)*$")
_SPAN = re.compile(r"^(\d{2}):(\d{2})-(\d{2}):(\d{2})$")
_DESK_COLUMNS: Final = (
    "id",
    "name_es",
    "name_en",
    "city",
    "state",
    "kind",
    "timezone",
    "lat",
    "lon",
    "phone",
)
_JURISDICTION_COLUMNS: Final = ("desk_id", "state", "county")


def _rows(path: Path, columns: tuple[str, ...]) -> list[tuple[int, dict[str, str]]]:
    try:
        with path.open(encoding="utf-8", newline="") as f:
            reader = csv.DictReader(f)
            missing = set(columns) - set(reader.fieldnames or ())
            if missing:
                raise DeskDataError(path, 1, f"missing column(s) {sorted(missing)}")
            return [
                (n, {k: (v or "").strip() for k, v in row.items() if k})
                for n, row in enumerate(reader, start=2)
            ]
    except OSError as exc:
        raise DeskDataError(path, 0, f"cannot read: {exc}") from exc


def _hours(value: Any, where: Path, key: str) -> WeeklyHours:
    if value == "always":
        return ALWAYS_OPEN
    if not isinstance(value, dict) or set(value) - set(WEEKDAYS):
        raise DeskDataError(where, 0, f"{key}: hours must be 'always' or weekday → ranges")
    days: list[tuple[tuple[time, time], ...]] = []
    for day in WEEKDAYS:
        spans = []
        for span in value.get(day) or ():
            m = _SPAN.match(str(span))
            if not m:
                raise DeskDataError(where, 0, f"{key}: {day} range {span!r} is not HH:MM-HH:MM")
            h1, m1, h2, m2 = (int(g) for g in m.groups())
            try:
                start, end = time(h1, m1), time(h2, m2) if (h2, m2) != (24, 0) else time.max
            except ValueError as exc:
                raise DeskDataError(where, 0, f"{key}: {day} range {span!r}: {exc}") from exc
            if not start < end:
                raise DeskDataError(where, 0, f"{key}: {day} range {span!r} ends before it starts")
            spans.append((start, end))
        days.append(tuple(spans))
    return WeeklyHours(days=tuple(days))


def _settings(path: Path) -> dict[str, Any]:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError) as exc:
        raise DeskDataError(path, 0, f"cannot read: {exc}") from exc
    if not isinstance(data, dict):
        raise DeskDataError(path, 0, "expected a mapping")
    return data


def _desks(data_dir: Path) -> dict[str, Desk]:
    path = data_dir / "desks.csv"
    settings_path = data_dir / "desk_settings.yaml"
    settings = _settings(settings_path)
    defaults = settings.get("defaults") or {}
    overrides = settings.get("desks") or {}
    default_hours = _hours(defaults.get("hours", "always"), settings_path, "defaults")
    capacity_by_kind = defaults.get("critical_capacity") or {}
    desks: dict[str, Desk] = {}
    for n, row in _rows(path, _DESK_COLUMNS):
        desk_id = row["id"]
        if not _SLUG.match(desk_id):
            raise DeskDataError(path, n, f"id {desk_id!r} is not a lowercase hyphenated slug")
        if desk_id in desks:
            raise DeskDataError(path, n, f"duplicate desk id {desk_id!r}")
        try:
            ZoneInfo(row["timezone"])
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise DeskDataError(path, n, f"unknown time zone {row['timezone']!r}") from exc
        central = desk_id == CENTRAL
        try:
            lat = float(row["lat"]) if row["lat"] or not central else None
            lon = float(row["lon"]) if row["lon"] or not central else None
        except ValueError as exc:
            raise DeskDataError(path, n, "lat/lon must be numbers") from exc
        own = overrides.get(desk_id) or {}
        hours = _hours(own["hours"], settings_path, desk_id) if "hours" in own else default_hours
        capacity = own.get("critical_capacity", capacity_by_kind.get(row["kind"], 5))
        if not isinstance(capacity, int) or capacity < 0:
            raise DeskDataError(
                settings_path, 0, f"{desk_id}: critical_capacity must be an int ≥ 0"
            )
        desks[desk_id] = Desk(
            desk_id,
            row["name_es"],
            row["name_en"],
            row["city"],
            row["state"],
            row["timezone"],
            row["phone"] or None,
            lat,
            lon,
            hours,
            capacity,
            central,
        )
    if CENTRAL not in desks:
        raise DeskDataError(path, 0, f"no '{CENTRAL}' desk")
    unknown = sorted(set(overrides) - set(desks))
    if unknown:
        raise DeskDataError(settings_path, 0, f"unknown desk id(s) {unknown}")
    return desks


def build_directory(data_dir: Path) -> DeskDirectory:
    """Read ``data_dir`` and check coverage; raise ``DeskDataError`` on any problem."""
    desks = _desks(data_dir)
    path = data_dir / "jurisdiction.csv"
    by_state: dict[str, str] = {}
    by_county: dict[tuple[str, str], str] = {}
    state_desks: dict[str, set[str]] = {}
    for n, row in _rows(path, _JURISDICTION_COLUMNS):
        desk_id, state, county = row["desk_id"], row["state"], row["county"].lower()
        if desk_id not in desks or desk_id == CENTRAL:
            raise DeskDataError(path, n, f"unknown desk id {desk_id!r}")
        if not re.fullmatch(r"[A-Z]{2}", state):
            raise DeskDataError(path, n, f"state {state!r} is not a two-letter code")
        if (state in by_state) or (not county and state in state_desks):
            raise DeskDataError(
                path, n, f"state {state} is claimed twice or both whole and by county"
            )
        if county:
            other = by_county.get((state, county))
            if other and other != desk_id:
                raise DeskDataError(
                    path, n, f"county {row['county']}, {state} is claimed by {other} and {desk_id}"
                )
            by_county[(state, county)] = desk_id
        else:
            by_state[state] = desk_id
        state_desks.setdefault(state, set()).add(desk_id)
    missing = sorted(set(US_STATES) - set(state_desks))
    if missing:
        raise DeskDataError(path, 0, f"no desk for state(s) {missing}")
    idle = sorted(set(desks) - {CENTRAL} - set().union(*state_desks.values()))
    if idle:
        raise DeskDataError(path, 0, f"desk(s) without any jurisdiction row: {idle}")
    _check_counties(path, by_state, by_county, state_desks)
    return DeskDirectory(
        desks, by_state, by_county, {s: tuple(sorted(d)) for s, d in state_desks.items()}
    )


def _check_counties(
    path: Path,
    by_state: dict[str, str],
    by_county: dict[tuple[str, str], str],
    state_desks: dict[str, set[str]],
) -> None:
    """Every county of a split state that appears in the ZIP data must have a desk."""
    from bot.routing.geo import all_records

    unclaimed = sorted(
        {
            (r.state, r.county)
            for r in all_records()
            if r.county
            and r.state in state_desks
            and r.state not in by_state
            and (r.state, r.county.lower()) not in by_county
        }
    )
    if unclaimed:
        shown = ", ".join(f"{c}, {s}" for s, c in unclaimed[:5])
        raise DeskDataError(
            path, 0, f"{len(unclaimed)} county(ies) of split states have no desk, e.g. {shown}"
        )
