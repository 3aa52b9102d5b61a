"""route(): which desk gets a case, and whether the central desk must see it too."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from bot.routing.desks import CENTRAL, DeskDirectory, load_desks
from bot.routing.places import Location
from bot.types import Priority


@dataclass(frozen=True, slots=True)
class RouteDecision:
    """The desk for a case; ``also_central`` puts it in the central queue as well."""

    desk_id: str
    also_central: bool
    reasons: tuple[str, ...]


def route(
    location: Location | None,
    priority: Priority,
    now: datetime,
    open_critical: Mapping[str, int] | None = None,
    *,
    desks: DeskDirectory | None = None,
) -> RouteDecision:
    """Route a case; critical cases also go to central when the desk is closed, full,
    or the location is only a guess (area code). A place outside the U.S. goes to central."""
    directory = desks or load_desks()
    if location is not None and location.abroad:
        return RouteDecision(
            CENTRAL, False, (f"{location.label}: outside the U.S. → central desk",)
        )
    if location is None or location.desk_id not in directory or location.desk_id == CENTRAL:
        return RouteDecision(CENTRAL, False, ("location unknown → central desk",))
    desk = directory.get(location.desk_id)
    reasons = [
        f"{location.label} → {desk.id} (by {location.method}, {location.confidence} confidence)"
    ]
    also_central = False
    if priority == "critical":
        if not desk.is_open(now):
            local = now.astimezone(ZoneInfo(desk.timezone))
            reasons.append(
                f"desk closed at {local:%a %H:%M} local (hours "
                f"{desk.hours.describe()}) → also central"
            )
            also_central = True
        count = (open_critical or {}).get(desk.id, 0)
        if count >= desk.critical_capacity:
            reasons.append(
                f"desk full: {count} open critical case(s), capacity "
                f"{desk.critical_capacity} → also central"
            )
            also_central = True
        if location.confidence == "low":
            reasons.append("location is a guess → also central")
            also_central = True
    return RouteDecision(desk.id, also_central, tuple(reasons))
