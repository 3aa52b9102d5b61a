"""First-response targets: when a case must have had its first answer from staff.

Critical and high cases count in minutes around the clock; normal and low cases count in
business days (Monday to Friday) in the desk's own time zone.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from bot.types import Priority


@dataclass(frozen=True, slots=True)
class SlaTargets:
    """How long each priority may wait for its first response."""

    critical_minutes: int = 15
    high_minutes: int = 120
    normal_business_days: int = 1
    low_business_days: int = 3


def add_business_days(start: datetime, days: int, timezone: str) -> datetime:
    """The same local time `days` working days later (weekends skipped), in UTC terms."""
    local = start.astimezone(ZoneInfo(timezone))
    if local.weekday() >= 5:  # reported on a weekend: count from Monday morning
        local = (local + timedelta(days=7 - local.weekday())).replace(
            hour=9, minute=0, second=0, microsecond=0
        )
    remaining = days
    while remaining > 0:
        local += timedelta(days=1)
        if local.weekday() < 5:
            remaining -= 1
    return local.astimezone(start.tzinfo)


def first_response_due(
    priority: Priority, created_at: datetime, timezone: str, targets: SlaTargets
) -> datetime:
    """When the case's first response is due."""
    if priority == "critical":
        return created_at + timedelta(minutes=targets.critical_minutes)
    if priority == "high":
        return created_at + timedelta(minutes=targets.high_minutes)
    days = targets.normal_business_days if priority == "normal" else targets.low_business_days
    return add_business_days(created_at, days, timezone)
