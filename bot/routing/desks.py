"""Desks: the consulate desks, their business hours, capacity and jurisdictions.

Built from ``data/routing/`` (``desks.csv``, ``jurisdiction.csv``, ``desk_settings.yaml``,
which may also give a desk an ``on_duty_phone``: the number the phone line rings when a
caller asks for a person while the desk is open) and validated at load: every U.S. state,
DC and PR is covered, no county is claimed by two desks, every desk id is known. A mistake
raises ``DeskDataError`` naming the file, the row and the reason.
"""

from __future__ import annotations

import dataclasses
import functools
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, time
from pathlib import Path
from typing import Final
from zoneinfo import ZoneInfo

import yaml

from bot.errors import DeskDataError as DeskDataError  # re-exported for routing callers
from bot.routing.geo import km

DATA_DIR: Final = Path(__file__).resolve().parents[2] / "data" / "routing"
CENTRAL: Final = "central"
WEEKDAYS: Final = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_US_PHONE: Final = re.compile(r"^\+1[2-9][0-9]{9}$")


@dataclass(frozen=True, slots=True)
class WeeklyHours:
    """Opening hours per weekday (Monday first), as (start, end) local times."""

    days: tuple[tuple[tuple[time, time], ...], ...]
    always: bool = False

    def is_open_at(self, local: datetime) -> bool:
        """Whether ``local`` (already in the desk's time zone) falls in opening hours."""
        if self.always:
            return True
        now = local.time().replace(tzinfo=None)
        return any(start <= now < end for start, end in self.days[local.weekday()])

    def describe(self) -> str:
        """Short human text, e.g. "mon 08:00-14:00; tue 08:00-14:00"."""
        if self.always:
            return "24/7"
        parts = [
            f"{day} " + ",".join(f"{s:%H:%M}-{e:%H:%M}" for s, e in spans)
            for day, spans in zip(WEEKDAYS, self.days, strict=True)
            if spans
        ]
        return "; ".join(parts) or "closed"


ALWAYS_OPEN: Final = WeeklyHours(days=((),) * 7, always=True)


@dataclass(frozen=True, slots=True)
class Desk:
    """A consulate desk (or the 24-hour central desk, whose lat/lon are None)."""

    id: str
    name_es: str
    name_en: str
    city: str
    state: str
    timezone: str
    phone: str | None
    lat: float | None
    lon: float | None
    hours: WeeklyHours
    critical_capacity: int
    is_central: bool
    on_duty_phone: str | None = None  # rung by the phone line while the desk is open

    def is_open(self, now: datetime) -> bool:
        """Whether the desk is open at ``now`` (aware), in its own time zone."""
        if self.is_central:
            return True
        if now.tzinfo is None:
            raise ValueError("now must be timezone-aware")
        return self.hours.is_open_at(now.astimezone(ZoneInfo(self.timezone)))


@dataclass(frozen=True, slots=True)
class DeskDirectory:
    """All desks plus the jurisdiction table (state or state+county → desk id)."""

    desks: Mapping[str, Desk]
    by_state: Mapping[str, str]
    by_county: Mapping[tuple[str, str], str]
    state_desks: Mapping[str, tuple[str, ...]]

    def get(self, desk_id: str) -> Desk:
        """The desk with this id; ``KeyError`` if there is none."""
        return self.desks[desk_id]

    def all(self) -> list[Desk]:
        """Every desk, central last."""
        return sorted(self.desks.values(), key=lambda d: (d.is_central, d.id))

    @property
    def ids(self) -> frozenset[str]:
        """Every desk id, including ``central``."""
        return frozenset(self.desks)

    def __contains__(self, desk_id: object) -> bool:
        return desk_id in self.desks

    def splits(self, state: str) -> bool:
        """Whether ``state`` is divided among several desks by county."""
        return state not in self.by_state and state in self.state_desks

    def desk_for(
        self,
        state: str,
        county: str | None = None,
        lat: float | None = None,
        lon: float | None = None,
    ) -> str | None:
        """The desk serving a place; in a split state without a known county, the
        nearest desk serving the state (given lat/lon), else None."""
        if state in self.by_state:
            return self.by_state[state]
        if county:
            hit = self.by_county.get((state, county.strip().lower()))
            if hit:
                return hit
        candidates = [self.desks[d] for d in self.state_desks.get(state, ())]
        if lat is None or lon is None or not candidates:
            return None
        return min(candidates, key=lambda d: km(lat, lon, d.lat or 0.0, d.lon or 0.0)).id


@functools.cache
def _load(data_dir: Path) -> DeskDirectory:
    from bot.routing.deskdata import build_directory

    directory = build_directory(data_dir)
    phones = _on_duty_phones(data_dir / "desk_settings.yaml")
    if not phones:
        return directory
    desks = {
        desk_id: dataclasses.replace(desk, on_duty_phone=phones.get(desk_id))
        for desk_id, desk in directory.desks.items()
    }
    return dataclasses.replace(directory, desks=desks)


def _on_duty_phones(path: Path) -> dict[str, str]:
    """``desks.<id>.on_duty_phone`` (a +1 number; spaces, dashes and dots allowed)."""
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError) as exc:  # build_directory has reported it already
        raise DeskDataError(path, 0, f"cannot read: {exc}") from exc
    found: dict[str, str] = {}
    for desk_id, values in ((data.get("desks") if isinstance(data, dict) else None) or {}).items():
        raw = values.get("on_duty_phone") if isinstance(values, dict) else None
        if raw is None:
            continue
        number = re.sub(r"[\s().-]", "", str(raw))
        if not _US_PHONE.match(number):
            raise DeskDataError(path, 0, f"{desk_id}: on_duty_phone must be a +1 number")
        found[str(desk_id)] = number
    return found


@functools.cache
def _load_default() -> DeskDirectory:
    return _load(DATA_DIR.resolve())


def load_desks(path: Path | None = None) -> DeskDirectory:
    """Load and validate the desk data in ``path`` (a directory, or a file in it); cached."""
    if path is None:
        return _load_default()  # no look at the file system on every routing decision
    base = Path(path)
    if base.is_file():
        base = base.parent
    return _load(base.resolve())
