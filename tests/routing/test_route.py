"""route(): desk choice, desk hours and overflow to the central desk, with a given `now`."""

from datetime import UTC, datetime

import pytest

from bot.routing import RouteDecision, resolve_location, route

# Tuesday 2026-03-10: 16:00 UTC is 11:00 in Houston (CDT), 23:00 UTC is 18:00.
OPEN = datetime(2026, 3, 10, 16, 0, tzinfo=UTC)
CLOSED = datetime(2026, 3, 10, 23, 0, tzinfo=UTC)
SATURDAY = datetime(2026, 3, 14, 16, 0, tzinfo=UTC)
HOUSTON = resolve_location(zip="77036")


def test_route_unknown_location_goes_to_central() -> None:
    decision = route(None, "critical", OPEN)
    assert decision == RouteDecision("central", False, ("location unknown → central desk",))


@pytest.mark.parametrize(
    ("priority", "now", "open_critical", "also_central"),
    [
        ("critical", OPEN, {}, False),
        ("critical", CLOSED, {}, True),
        ("critical", SATURDAY, None, True),
        ("critical", OPEN, {"houston": 8}, True),  # capacity 8 (default for a general desk)
        ("critical", OPEN, {"houston": 7, "dallas": 99}, False),
        ("high", CLOSED, {"houston": 99}, False),
        ("normal", SATURDAY, None, False),
    ],
)
def test_route_hours_and_capacity(priority, now, open_critical, also_central) -> None:
    decision = route(HOUSTON, priority, now, open_critical)
    assert decision.desk_id == "houston"
    assert decision.also_central is also_central, decision.reasons


def test_route_reasons_explain_overflow() -> None:
    decision = route(HOUSTON, "critical", CLOSED, {"houston": 10})
    text = " | ".join(decision.reasons)
    assert "Houston, TX 77036 → houston" in text
    assert "desk closed at Tue 18:00 local" in text
    assert "desk full: 10 open critical case(s), capacity 8" in text


def test_route_uses_the_desk_time_zone() -> None:
    # 15:30 UTC: 08:30 in Phoenix (no DST, open) but 11:30 in New York; 13:30 UTC is 06:30 in
    # Phoenix (closed) while New York is open.
    phoenix = resolve_location(zip="85004")
    new_york = resolve_location(zip="10001")
    early = datetime(2026, 3, 10, 13, 30, tzinfo=UTC)
    assert route(phoenix, "critical", early).also_central
    assert not route(new_york, "critical", early).also_central


def test_route_low_confidence_critical_also_central() -> None:
    guess = resolve_location(phone="+17135550100")
    decision = route(guess, "critical", OPEN)
    assert decision.desk_id == "houston" and decision.also_central
    assert not route(guess, "normal", OPEN).also_central
