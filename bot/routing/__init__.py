"""Routing: desks, jurisdictions, location resolution and the choice of desk for a case.

Pure and offline: desk data in ``data/routing/``, ZIP data from the ``zipcodes`` package,
no database, network or clock (pass ``now`` in).
"""

from bot.routing.desks import Desk, DeskDataError, DeskDirectory, WeeklyHours, load_desks
from bot.routing.places import (
    Location,
    PlaceReading,
    extract_location,
    place_states,
    read_place,
    resolve_location,
)
from bot.routing.route import RouteDecision, route

__all__ = [
    "Desk",
    "DeskDataError",
    "DeskDirectory",
    "Location",
    "PlaceReading",
    "RouteDecision",
    "WeeklyHours",
    "extract_location",
    "load_desks",
    "place_states",
    "read_place",
    "resolve_location",
    "route",
]
