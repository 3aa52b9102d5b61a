"""Desk walls and the audit trail.

A staff member sees and acts on their own desk's cases only. Supervisors of `central` and
admins see every desk; cases marked `also_central` are also visible to everyone at `central`.
Every view of and action on a case is written to `AuditEntry` (ids and codes, never
personal data).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Final

from sqlmodel import Session

from bot.errors import Forbidden
from bot.models import AuditEntry, Case, Incident, Staff, StaffRole

CENTRAL: Final = "central"


def sees_all(staff: Staff) -> bool:
    """True for admins and supervisors of the central desk."""
    return staff.role == StaffRole.admin or (
        staff.role == StaffRole.supervisor and staff.desk_id == CENTRAL
    )


def is_supervisor(staff: Staff) -> bool:
    """True for supervisors and admins."""
    return staff.role in (StaffRole.supervisor, StaffRole.admin)


def may_see_case(staff: Staff, case: Case) -> bool:
    """Whether the staff member may see and act on the case."""
    if sees_all(staff) or case.desk_id == staff.desk_id:
        return True
    return case.also_central and staff.desk_id == CENTRAL


def may_see_desk(staff: Staff, desk_id: str) -> bool:
    """Whether the staff member may see the desk's queue and figures."""
    return sees_all(staff) or desk_id == staff.desk_id


def may_see_incident(staff: Staff, incident: Incident) -> bool:
    """Whether the staff member may see and verify the incident (central agents see only the
    cases sent to them, not every desk's incidents)."""
    return sees_all(staff) or incident.desk_id == staff.desk_id


def require_case(staff: Staff, case: Case) -> None:
    """Raise Forbidden unless the staff member may see the case."""
    if not may_see_case(staff, case):
        raise Forbidden("this case belongs to another desk")


def require_desk(staff: Staff, desk_id: str) -> None:
    """Raise Forbidden unless the staff member may see the desk."""
    if not may_see_desk(staff, desk_id):
        raise Forbidden("this desk is not yours")


def audit(
    session: Session,
    staff: Staff | None,
    action: str,
    now: datetime,
    *,
    case: Case | None = None,
    incident_id: int | None = None,
    desk_id: str | None = None,
    detail: dict[str, Any] | None = None,
) -> None:
    """Append one audit entry (detail holds codes and ids only, no personal data)."""
    session.add(
        AuditEntry(
            at=now,
            staff_id=staff.id if staff else None,
            action=action,
            case_id=case.id if case else None,
            incident_id=incident_id,
            desk_id=desk_id or (case.desk_id if case else None),
            detail=detail,
        )
    )
