"""Incidents (pure part): grouping raid reports, the verification rule, and the key that
links detention reports about the same person.

A new raid report joins an incident when it is at the same ZIP or within ``max_km``, and
within ``window`` of the incident's reports. Verification: ``unverified`` becomes
``corroborated`` once reporters with different contacts agree; ``confirmed`` and ``false``
are set by staff and never changed here.

Two shapes of the same rule: ``RaidReport``/``Incident``/``find_incident``/``add_report``
for plain values, and ``IncidentReport``/``match_incident``/``corroboration_state`` for
stored rows (anything with ``zip, lat, lon, first_report_at, last_report_at``; naive
datetimes, as SQLite returns them, are taken as UTC).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, timedelta
from typing import Final, Literal, Protocol, TypeVar

from bot.routing.geo import km, lookup_zip
from bot.routing.names import norm_place

Verification = Literal["unverified", "corroborated", "confirmed", "false"]
STAFF_SET: Final[frozenset[Verification]] = frozenset({"confirmed", "false"})
MAX_KM: Final = 5.0  # ZIP centroids of neighbouring ZIPs are 3–6 km apart
WINDOW: Final = timedelta(hours=4)
CORROBORATING_REPORTERS: Final = 2
_NAME_PARTICLES: Final = frozenset(
    {"de", "del", "la", "las", "los", "y", "da", "dos", "van", "von"}
)


@dataclass(frozen=True, slots=True)
class RaidReport:
    """One person's raid report: who (a contact id or its hash), when, where."""

    reporter: str
    at: datetime
    zip: str | None = None
    lat: float | None = None
    lon: float | None = None


@dataclass(frozen=True, slots=True)
class Incident:
    """Raid reports grouped as one event."""

    id: str
    first_at: datetime
    last_at: datetime
    zip: str | None
    lat: float | None
    lon: float | None
    reporters: frozenset[str]
    status: Verification = "unverified"


def _point(
    zip_code: str | None, lat: float | None, lon: float | None
) -> tuple[float, float] | None:
    if lat is not None and lon is not None:
        return lat, lon
    rec = lookup_zip(zip_code) if zip_code else None
    return (rec.lat, rec.lon) if rec else None


def _km_between(
    zip_a: str | None,
    lat_a: float | None,
    lon_a: float | None,
    zip_b: str | None,
    lat_b: float | None,
    lon_b: float | None,
) -> float | None:
    if zip_a and zip_a == zip_b:
        return 0.0
    a = _point(zip_a, lat_a, lon_a)
    b = _point(zip_b, lat_b, lon_b)
    return km(*a, *b) if a and b else None


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def _in_window(at: datetime, first: datetime, last: datetime, window: timedelta) -> bool:
    return _aware(first) - window <= _aware(at) <= _aware(last) + window


def distance_km(report: RaidReport, incident: Incident) -> float | None:
    """Distance between a report and an incident; 0 at the same ZIP, None if unknown."""
    return _km_between(report.zip, report.lat, report.lon, incident.zip, incident.lat, incident.lon)


def joins(
    report: RaidReport, incident: Incident, *, max_km: float = MAX_KM, window: timedelta = WINDOW
) -> bool:
    """Whether the report belongs to the incident (same place, close in time)."""
    if incident.status == "false":
        return False
    if not _in_window(report.at, incident.first_at, incident.last_at, window):
        return False
    d = distance_km(report, incident)
    return d is not None and d <= max_km


def find_incident(
    report: RaidReport,
    incidents: Iterable[Incident],
    *,
    max_km: float = MAX_KM,
    window: timedelta = WINDOW,
) -> Incident | None:
    """The nearest incident the report joins (then the latest), or None for a new one."""
    fits = [i for i in incidents if joins(report, i, max_km=max_km, window=window)]
    if not fits:
        return None
    return min(
        fits,
        key=lambda i: (
            distance_km(report, i) or 0.0,
            -abs((report.at - i.last_at).total_seconds()),
        ),
    )


def verification(
    status: Verification, reporters: Iterable[str], *, needed: int = CORROBORATING_REPORTERS
) -> Verification:
    """The status after counting distinct reporters; staff-set statuses stay."""
    if status in STAFF_SET:
        return status
    return "corroborated" if len(set(reporters)) >= needed else status


def open_incident(incident_id: str, report: RaidReport) -> Incident:
    """A new incident started by this report."""
    return Incident(
        incident_id,
        report.at,
        report.at,
        report.zip,
        report.lat,
        report.lon,
        frozenset({report.reporter}),
    )


def add_report(incident: Incident, report: RaidReport) -> Incident:
    """The incident with this report added (times widened, status re-checked)."""
    reporters = incident.reporters | {report.reporter}
    return replace(
        incident,
        first_at=min(incident.first_at, report.at),
        last_at=max(incident.last_at, report.at),
        zip=incident.zip or report.zip,
        lat=incident.lat if incident.lat is not None else report.lat,
        lon=incident.lon if incident.lon is not None else report.lon,
        reporters=reporters,
        status=verification(incident.status, reporters),
    )


class StoredIncident(Protocol):
    """What ``match_incident`` reads from a stored incident row."""

    @property
    def zip(self) -> str | None: ...
    @property
    def lat(self) -> float | None: ...
    @property
    def lon(self) -> float | None: ...
    @property
    def first_report_at(self) -> datetime: ...
    @property
    def last_report_at(self) -> datetime: ...


StoredT = TypeVar("StoredT", bound=StoredIncident)


@dataclass(frozen=True, slots=True)
class IncidentReport:
    """A raid report's place and time, to match against stored incidents."""

    at: datetime
    zip: str | None = None
    lat: float | None = None
    lon: float | None = None


def match_incident(
    report: IncidentReport,
    incidents: Iterable[StoredT],
    *,
    max_km: float = MAX_KM,
    window: timedelta = WINDOW,
) -> StoredT | None:
    """The nearest stored incident the report joins (not ones staff marked false)."""
    best: tuple[float, StoredT] | None = None
    for inc in incidents:
        if str(getattr(inc, "state", "")) == "false":
            continue
        if not _in_window(report.at, inc.first_report_at, inc.last_report_at, window):
            continue
        d = _km_between(report.zip, report.lat, report.lon, inc.zip, inc.lat, inc.lon)
        if d is not None and d <= max_km and (best is None or d < best[0]):
            best = (d, inc)
    return best[1] if best else None


StateT = TypeVar("StateT", bound=str)


def corroboration_state(
    state: StateT, reporter_count: int, *, needed: int = CORROBORATING_REPORTERS
) -> StateT:
    """The state after counting distinct reporters (staff-set states stay); same type as
    ``state``, so a ``StrEnum`` member comes back as a member."""
    if state in STAFF_SET or state == "corroborated" or reporter_count < needed:
        return state
    return type(state)("corroborated")


def _dob(value: date | str | None) -> str | None:
    if isinstance(value, datetime):
        return value.date().isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if not value:
        return None
    text = value.strip()
    try:
        return date.fromisoformat(text).isoformat()
    except ValueError:
        pass
    m = re.fullmatch(r"(\d{1,2})[/.-](\d{1,2})[/.-](\d{4})", text)
    if not m:
        return None
    a, b, year = (int(g) for g in m.groups())
    if a > 12 >= b:
        day, month = a, b
    elif b > 12 >= a or a == b:
        month, day = a, b
    else:
        return None  # 03/04/1990: day and month cannot be told apart
    try:
        return date(year, month, day).isoformat()
    except ValueError:
        return None


def person_key(
    a_number: str | None, name: str | None = None, dob: date | str | None = None
) -> str | None:
    """A normalised key for one person: the A-number, else name + date of birth."""
    digits = re.sub(r"\D", "", a_number or "")
    if 8 <= len(digits) <= 9:
        return f"a:{digits.zfill(9)}"
    words = [
        w for w in norm_place(name or "").split() if w not in _NAME_PARTICLES and not w.isdigit()
    ]
    born = _dob(dob)
    if len(words) < 2 or born is None:
        return None
    return f"n:{' '.join(sorted(words))}|{born}"
