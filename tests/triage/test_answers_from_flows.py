"""Answers exactly as the shipped flows store them raise or lower urgency."""

from __future__ import annotations

from datetime import UTC, datetime

from bot.triage import classify

NOW = datetime(2026, 11, 23, 18, 0, tzinfo=UTC)


def test_raid_flow_answers_now_with_someone_taken_is_critical() -> None:
    """The raid flow's parsed time and yes/no answers make a vague text critical."""
    answers = {
        "flow": "raid",
        "when": {"when": "now", "raw": "ahorita"},
        "taken": True,
        "children": False,
        "safe": True,
    }
    result = classify("hay agentes", answers, now=NOW)
    assert (result.intent, result.priority) == ("raid", "critical")


def test_raid_flow_rumor_is_not_critical() -> None:
    """A raid the person only heard about is not treated as happening now."""
    answers = {"flow": "raid", "when": {"when": "rumor"}, "taken": False, "safe": True}
    assert classify("dicen que viene la migra", answers, now=NOW).priority != "critical"


def test_unsafe_person_is_critical() -> None:
    """'Are you safe?' answered no raises the report to critical."""
    answers = {"flow": "harassment", "danger_now": True, "kind": "threat_report"}
    assert classify("me amenazan", answers, now=NOW).priority == "critical"


def test_detention_days_ago_from_parsed_date() -> None:
    """A detention whose parsed date is days ago is not critical but still urgent."""
    answers = {"flow": "detention", "when": {"when": "days_ago", "days": 3, "date": "2026-11-20"}}
    result = classify("detuvieron a mi hermano y no sabemos nada", answers, now=NOW)
    assert result.intent == "detention" and result.priority == "high"


def test_the_raid_count_of_people_taken_counts_as_someone_taken() -> None:
    """'¿Se llevaron a alguien? Escriba cuántas' — 3, "muchos" or 0 (nobody)."""
    from bot.triage.answers import read_answers

    assert "taken" in read_answers({"flow": "raid", "taken_count": 3}, None).add
    many = {"flow": "raid", "taken_count": {"approx": "many", "raw": "muchos"}}
    assert "taken" in read_answers(many, None).add
    nobody = read_answers({"flow": "raid", "taken_count": 0}, None)
    assert "taken" not in nobody.add and "taken" in nobody.remove
