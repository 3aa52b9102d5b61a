"""A case's status, in one place: which moves are allowed and what each move writes.

    intake ──> open ──> claimed ──> waiting ──> resolved ──> (reopened) open
       │         ▲         │           │            │
       └─────────┴─────────┴───────────┴────────────┴──> erased (final)

`move(session, case, to, …)` is the only way code changes `Case.status`: it checks the move
against `TRANSITIONS`, sets the fields that belong to the new status, and appends the case
event. An illegal move raises `IllegalTransition` (the staff API answers 409). Bulk moves
that must be one atomic statement (claiming the next case, releasing lapsed leases) take
their `WHERE status IN (…)` from `sources(to)`, so the map stays the single owner.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any, Final

from sqlalchemy import insert
from sqlmodel import Session

from bot.errors import IllegalTransition
from bot.models import Case, CaseEvent, CaseStatus

S = CaseStatus
TRANSITIONS: Final[Mapping[CaseStatus, frozenset[CaseStatus]]] = {
    S.intake: frozenset({S.open, S.claimed, S.waiting, S.resolved, S.erased}),
    S.open: frozenset({S.claimed, S.waiting, S.resolved, S.erased}),
    S.claimed: frozenset({S.open, S.waiting, S.resolved, S.erased}),
    S.waiting: frozenset({S.open, S.claimed, S.resolved, S.erased}),
    S.resolved: frozenset({S.open, S.erased}),
    S.erased: frozenset(),
}
_RECORD: Final = insert(CaseEvent.__table__)  # type: ignore[attr-defined]
# The statuses of a case that is still somebody's work (in a queue, held, or answered).
ACTIVE: Final = (S.intake, S.open, S.claimed, S.waiting)
# What a desk's queue offers to the next agent: unclaimed, not finished.
CLAIMABLE: Final = (S.intake, S.open)
# The event each move writes, when the caller does not name a more specific one.
_EVENT: Final[Mapping[tuple[CaseStatus, CaseStatus], str]] = {
    (S.intake, S.open): "intake_done",
    (S.claimed, S.open): "released",
    (S.waiting, S.open): "reopened",
    (S.resolved, S.open): "reopened",
}
_EVENT_TO: Final[Mapping[CaseStatus, str]] = {
    S.claimed: "claimed",
    S.waiting: "replied",
    S.resolved: "resolved",
    S.erased: "erased",
}


def initial(*, intake: bool) -> CaseStatus:
    """The status a new case is born with: `intake` while the person is still answering."""
    return S.intake if intake else S.open


def allowed(source: CaseStatus | str, target: CaseStatus | str) -> bool:
    """True when a case may move from `source` to `target`."""
    return S(target) in TRANSITIONS[S(source)]


def sources(target: CaseStatus) -> tuple[str, ...]:
    """The statuses from which a case may move to `target` (for atomic bulk updates)."""
    return tuple(s.value for s, targets in TRANSITIONS.items() if target in targets)


def event_kind(source: CaseStatus | str, target: CaseStatus | str) -> str:
    """The case-event kind a move from `source` to `target` is recorded as."""
    pair = (S(source), S(target))
    return _EVENT.get(pair) or _EVENT_TO.get(pair[1], str(pair[1]))


def move(
    session: Session,
    case: Case,
    to: CaseStatus,
    *,
    actor: str,
    now: datetime,
    event: str | None = None,
    data: dict[str, Any] | None = None,
    claimed_by: int | None = None,
    lease_until: datetime | None = None,
    outcome: str | None = None,
) -> None:
    """Move `case` to `to`, set what belongs to the new status, and record the event.

    `intake_step` (the person is still answering) survives claims and replies: only the
    person finishing (`bot.cases`), a resolution or an erasure ends intake."""
    source = S(case.status)
    if to not in TRANSITIONS[source]:
        raise IllegalTransition(f"a case cannot go from {source} to {to}")
    case.status, case.updated_at = to, now
    if to == S.claimed:
        case.claimed_by, case.lease_expires_at = claimed_by, lease_until
    else:
        case.claimed_by, case.lease_expires_at = None, None
    if to == S.resolved:
        case.resolved_at, case.outcome = now, outcome
    elif to == S.open:
        case.resolved_at, case.outcome = None, None
    elif to == S.erased:
        case.resolved_at = case.resolved_at or now
        case.outcome = outcome or case.outcome
    if to in (S.resolved, S.erased):
        case.intake_step = None  # the person may still be answering otherwise: keep tracking
    record(session, case, event or event_kind(source, to), actor, now, data)


def record(
    session: Session,
    case: Case | int,
    kind: str,
    actor: str,
    now: datetime,
    data: dict[str, Any] | None = None,
) -> None:
    """Append one entry to the history of `case` (or of the case with that id); no status
    change. Written at once, on Core: it runs on most answers of a report."""
    case_id = case if isinstance(case, int) else case.id
    assert case_id is not None
    values = {"case_id": case_id, "at": now, "kind": kind, "actor": actor, "data": data}
    session.connection().execute(_RECORD, values)


def record_all(
    session: Session,
    entries: Sequence[tuple[int, dict[str, Any] | None]],
    kind: str,
    actor: str,
    now: datetime,
) -> None:
    """`record` for many cases at once, in one statement: (case id, data) in order."""
    if entries:
        rows = [
            {"case_id": case_id, "at": now, "kind": kind, "actor": actor, "data": data}
            for case_id, data in entries
        ]
        session.connection().execute(_RECORD, rows)


def merged_priority(parent: Any, report: Any) -> dict[str, Any]:
    """What a report folded into `parent` changes on it (either a case or a row of its
    columns): shown to central when either is, and the more urgent priority with its earlier
    first-response target."""
    values: dict[str, Any] = {}
    if report.also_central and not parent.also_central:
        values["also_central"] = True
    if report.priority_rank < parent.priority_rank:
        values["priority"], values["priority_rank"] = report.priority, report.priority_rank
        if report.sla_due_at is not None and (
            parent.sla_due_at is None or report.sla_due_at < parent.sla_due_at
        ):
            values["sla_due_at"] = report.sla_due_at
    return values


def merge_priority(parent: Case, report: Case) -> None:
    """Let a report folded into `parent` count for it (see `merged_priority`)."""
    for name, value in merged_priority(parent, report).items():
        setattr(parent, name, value)


def bulk_values(
    to: CaseStatus,
    *,
    now: datetime,
    claimed_by: int | None = None,
    lease_until: datetime | None = None,
) -> dict[str, Any]:
    """The columns a move to `to` writes, for one atomic `UPDATE case … WHERE status IN
    (…sources(to))` (claiming a case, releasing lapsed leases): what `move` would set."""
    if to == S.claimed:
        return {
            "status": to.value,
            "claimed_by": claimed_by,
            "lease_expires_at": lease_until,
            "updated_at": now,
        }
    if to == S.open:  # from claimed: the lease goes; intake, if unfinished, stays unfinished
        return {
            "status": to.value,
            "claimed_by": None,
            "lease_expires_at": None,
            "resolved_at": None,
            "outcome": None,
            "updated_at": now,
        }
    raise ValueError(f"no bulk move to {to}")
