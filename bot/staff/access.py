"""Desk walls and the audit trail.

A staff member sees and acts on their own desk's cases only. Supervisors of `central` and
admins see every desk; cases marked `also_central` are also visible to everyone at `central`;
a case whose legal-aid consultation another desk holds (central's remote ones) is also
visible to that desk's legal-aid staff and supervisors. A screening's answers (with the
person's words, the transcript and the history that repeat them) are for the legal-aid staff
of its desk or of the desk holding its consultation, and for supervisors and admins who see
the case: `may_read_answers` is that one rule. Consultation slots are managed by the desk's
supervisors and by admins. Every view of and action on a case is written to `AuditEntry`
(ids and codes, never personal data).
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime
from typing import Any, Final

from sqlmodel import Session

from bot.appointments import consultation_desks
from bot.errors import Forbidden
from bot.models import AuditEntry, Case, Incident, Staff, StaffRole

CENTRAL: Final = "central"
SCREENING: Final = "screening"  # the flow whose answers only legal-aid staff read


def sees_all(staff: Staff) -> bool:
    """True for admins and supervisors of the central desk."""
    return staff.role == StaffRole.admin or (
        staff.role == StaffRole.supervisor and staff.desk_id == CENTRAL
    )


def is_supervisor(staff: Staff) -> bool:
    """True for supervisors and admins."""
    return staff.role in (StaffRole.supervisor, StaffRole.admin)


def may_see_case(staff: Staff, case: Case, hosts: Collection[str] = ()) -> bool:
    """Whether the staff member may see and act on the case; `hosts` are the desks holding
    its consultations (`hosts_of`), whose legal-aid staff and supervisors see it too."""
    if sees_all(staff) or case.desk_id == staff.desk_id:
        return True
    if staff.desk_id in hosts and (staff.legal_aid or is_supervisor(staff)):
        return True
    return case.also_central and staff.desk_id == CENTRAL


def may_read_answers(staff: Staff, case: Case, hosts: Collection[str] = ()) -> bool:
    """Whether the staff member may read the case's answers: any case they see, but a
    screening only when they hold legal-aid consultations at its desk (or at the desk
    holding its consultation) or are a supervisor or admin who sees it."""
    if not may_see_case(staff, case, hosts):
        return False
    if case.flow != SCREENING or is_supervisor(staff):
        return True
    return staff.legal_aid and (staff.desk_id == case.desk_id or staff.desk_id in hosts)


def hosts_of(session: Session, case: Case) -> set[str]:
    """The desks holding the case's consultations (for `may_see_case`, `may_read_answers`)."""
    return consultation_desks(session, case.ref)


def may_manage_slots(staff: Staff, desk_id: str) -> bool:
    """Whether the staff member may change the desk's consultation slots: its supervisors,
    and admins at any desk."""
    if staff.role == StaffRole.admin:
        return True
    return staff.role == StaffRole.supervisor and staff.desk_id == desk_id


def may_see_desk(staff: Staff, desk_id: str) -> bool:
    """Whether the staff member may see the desk's queue and figures."""
    return sees_all(staff) or desk_id == staff.desk_id


def may_see_incident(staff: Staff, incident: Incident) -> bool:
    """Whether the staff member may see and verify the incident (central agents see only the
    cases sent to them, not every desk's incidents)."""
    return sees_all(staff) or incident.desk_id == staff.desk_id


def require_case(staff: Staff, case: Case, hosts: Collection[str] = ()) -> None:
    """Raise Forbidden unless the staff member may see the case."""
    if not may_see_case(staff, case, hosts):
        raise Forbidden("this case belongs to another desk")


def require_answers(staff: Staff, case: Case, hosts: Collection[str] = ()) -> None:
    """Raise Forbidden unless the staff member may read the case's answers."""
    if not may_read_answers(staff, case, hosts):
        raise Forbidden("a screening's answers are for the desk's legal-aid staff")


def require_slots(staff: Staff, desk_id: str) -> None:
    """Raise Forbidden unless the staff member may manage the desk's slots."""
    if not may_manage_slots(staff, desk_id):
        raise Forbidden("only the desk's supervisors manage its consultation slots")


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
