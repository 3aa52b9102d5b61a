"""Database-free parts of the ``hotline classify`` and ``hotline route`` commands."""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from typing import Any

from bot.routing.places import Location, extract_location, resolve_location
from bot.triage import classify

USAGE_ROUTE = "usage: hotline route LOCATION   (a ZIP code or a place, e.g. 'Houston, TX')"


def _error(message: str) -> str:
    return json.dumps({"error": message}, ensure_ascii=False)


def _classify_one(line: str) -> str:
    if not line.strip():
        return _error("empty line")
    try:
        obj: Any = json.loads(line)
    except json.JSONDecodeError as exc:
        return _error(f"invalid JSON: {exc.msg} (column {exc.colno})")
    if not isinstance(obj, dict):
        return _error("expected a JSON object")
    text = obj.get("text")
    if not isinstance(text, str):
        return _error('"text" must be a string')
    zip_value = obj.get("zip")
    if zip_value is not None and (
        isinstance(zip_value, bool) or not isinstance(zip_value, str | int)
    ):
        return _error('"zip" must be a string')
    triage = classify(text)
    location: Location | None = None
    if zip_value is not None:
        location = resolve_location(
            zip=str(zip_value) if isinstance(zip_value, str) else f"{zip_value:05d}"
        )
    if location is None:
        location = extract_location(text)
    reasons = list(triage.reasons)
    if location is not None and location.abroad:
        reasons.append(f"location {location.label}: outside the U.S. → no consulate desk")
    elif location is not None:
        reasons.append(f"location {location.label} ({location.method}) → {location.desk_id}")
    return json.dumps(
        {
            "intent": triage.intent,
            "priority": triage.priority,
            "desk": location.desk_id if location and not location.abroad else None,
            "reasons": reasons,
        },
        ensure_ascii=False,
    )


def classify_lines(lines: Iterable[str]) -> Iterator[str]:
    """JSON Lines in, one JSON line out per input line, same order (``hotline classify``)."""
    for line in lines:
        yield _classify_one(line)


def route_command(location: str) -> tuple[int, str]:
    """Exit code and the line to print for ``hotline route LOCATION``: the desk id."""
    if not location or not location.strip():
        return 2, USAGE_ROUTE
    found = resolve_location(location.strip())
    if found is None:
        return 1, (
            f"unknown location: {location.strip()!r} (ask the person; cases with no "
            "known place go to the central desk)"
        )
    if found.abroad:
        return 1, f"outside the U.S.: {found.label} (no consulate desk; the central desk sees it)"
    return 0, found.desk_id
