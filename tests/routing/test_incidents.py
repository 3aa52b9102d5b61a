"""Incident grouping, verification and person keys."""

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

import pytest

from bot.routing.incidents import (
    Incident,
    IncidentReport,
    RaidReport,
    add_report,
    corroboration_state,
    find_incident,
    joins,
    match_incident,
    open_incident,
    person_key,
    verification,
)

T0 = datetime(2026, 3, 10, 15, 0, tzinfo=UTC)


def _incident(**kw: object) -> Incident:
    return open_incident("inc-1", RaidReport("alice", T0, zip="77036", **kw))  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("report", "joined"),
    [
        (RaidReport("bob", T0 + timedelta(hours=1), zip="77036"), True),  # same ZIP
        (RaidReport("bob", T0 + timedelta(hours=1), lat=29.70, lon=-95.55), True),  # ~1 km
        (RaidReport("bob", T0 + timedelta(hours=1), zip="77074"), True),  # next ZIP, ~3 km
        (RaidReport("bob", T0 + timedelta(hours=1), zip="77002"), False),  # downtown, ~16 km
        (RaidReport("bob", T0 + timedelta(hours=5), zip="77036"), False),  # too late
        (RaidReport("bob", T0 - timedelta(hours=3), zip="77036"), True),  # a bit earlier
        (RaidReport("bob", T0), False),  # no place
    ],
)
def test_joins(report: RaidReport, joined: bool) -> None:
    assert joins(report, _incident()) is joined


def test_false_incident_takes_no_reports() -> None:
    inc = _incident()
    inc = Incident(inc.id, inc.first_at, inc.last_at, inc.zip, None, None, inc.reporters, "false")
    assert not joins(RaidReport("bob", T0, zip="77036"), inc)


def test_find_incident_prefers_nearest() -> None:
    far = open_incident("far", RaidReport("x", T0, lat=29.72, lon=-95.54))
    near = open_incident("near", RaidReport("y", T0, lat=29.699, lon=-95.541))
    found = find_incident(RaidReport("z", T0, lat=29.698, lon=-95.5405), [far, near])
    assert found is not None and found.id == "near"
    assert find_incident(RaidReport("z", T0, zip="10001"), [far, near]) is None


def test_corroborated_by_independent_reporters_only() -> None:
    inc = _incident()
    same = add_report(inc, RaidReport("alice", T0 + timedelta(minutes=5), zip="77036"))
    assert same.status == "unverified"
    other = add_report(same, RaidReport("bob", T0 + timedelta(minutes=9), zip="77036"))
    assert other.status == "corroborated"
    assert other.reporters == frozenset({"alice", "bob"})
    assert other.last_at == T0 + timedelta(minutes=9)


@pytest.mark.parametrize(
    ("status", "reporters", "expected"),
    [
        ("unverified", ["a"], "unverified"),
        ("unverified", ["a", "a"], "unverified"),
        ("unverified", ["a", "b"], "corroborated"),
        ("confirmed", ["a"], "confirmed"),
        ("false", ["a", "b", "c"], "false"),
    ],
)
def test_verification(status, reporters, expected) -> None:
    assert verification(status, reporters) == expected


@pytest.mark.parametrize(
    ("args", "key"),
    [
        (("A-123-456-789", None, None), "a:123456789"),
        (("A12345678", None, None), "a:012345678"),
        ((None, "Juan Pérez García", date(1990, 3, 4)), "n:garcia juan perez|1990-03-04"),
        ((None, "PÉREZ GARCÍA, Juan", "1990-03-04"), "n:garcia juan perez|1990-03-04"),
        ((None, "Juan de la Cruz", "25/12/1985"), "n:cruz juan|1985-12-25"),
        ((None, "Juan Perez", "03/04/1990"), None),  # day/month ambiguous
        ((None, "Juan", "1990-03-04"), None),  # one name is not enough
        ((None, "Juan Perez", None), None),
        (("123", None, None), None),
    ],
)
def test_person_key(args, key) -> None:
    assert person_key(*args) == key


@dataclass
class Row:
    """Like the stored incident row: naive datetimes, as SQLite returns them."""

    zip: str | None
    lat: float | None
    lon: float | None
    first_report_at: datetime
    last_report_at: datetime
    state: str = "unverified"


def test_match_incident_on_stored_rows() -> None:
    naive = T0.replace(tzinfo=None)
    rows = [
        Row("77036", 29.7, -95.54, naive, naive),
        Row(None, 29.75, -95.36, naive, naive),
        Row("77036", None, None, naive, naive, state="false"),
    ]
    report = IncidentReport(at=T0 + timedelta(hours=1), zip="77036")
    assert match_incident(report, rows) is rows[0]
    later = IncidentReport(at=T0 + timedelta(hours=6), zip="77036")
    assert match_incident(later, rows) is None
    downtown = IncidentReport(at=T0, lat=29.752, lon=-95.362)
    assert match_incident(downtown, rows) is rows[1]


@pytest.mark.parametrize(
    ("state", "count", "expected"),
    [
        ("unverified", 1, "unverified"),
        ("unverified", 2, "corroborated"),
        ("corroborated", 1, "corroborated"),
        ("confirmed", 5, "confirmed"),
        ("false", 3, "false"),
    ],
)
def test_corroboration_state(state: str, count: int, expected: str) -> None:
    assert corroboration_state(state, count) == expected


def test_corroboration_state_keeps_enum_type() -> None:
    from enum import StrEnum

    class State(StrEnum):
        unverified = "unverified"
        corroborated = "corroborated"

    assert corroboration_state(State.unverified, 2) is State.corroborated
