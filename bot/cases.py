"""The case service: the only writer of cases' contents (statuses move in `bot.lifecycle`).

`save_report` is case first: the first message that reports something opens the case, in
status `intake`, and every later answer updates the same case — triage (intent, priority,
reasons), location resolution, routing to a desk (with `central` in front of closed or
overloaded desks for critical cases), a first-response deadline. When the flow ends the case
leaves intake and is linked: raid reports close in place and time join one incident, and
reports about the same detained person join one case. A report made before the privacy
notice is accepted is *anonymous*: intent, priority, desk and a coarse place, no words.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from types import SimpleNamespace
from typing import Any, Final

from sqlalchemy import (
    Row,
    bindparam,
    case as sql_case,
    distinct,
    insert,
    select as core_select,
    text,
    update,
)
from sqlalchemy.orm.attributes import set_committed_value
from sqlmodel import Session, col, func, select

from bot import lifecycle
from bot.crypto import lookup_hash
from bot.engine.refs import new_ref
from bot.lifecycle import record as record_event
from bot.models import Case, CaseEvent, CaseStatus, Desk, Incident, IncidentState
from bot.routing import DeskDirectory, Location, extract_location, resolve_location, route
from bot.routing.incidents import (
    IncidentReport,
    corroboration_state,
    match_incident,
    person_key,
)
from bot.sla import SlaTargets, first_response_due
from bot.triage import classify
from bot.types import PRIORITY_RANK, Intent, Priority

REOPEN_WITHIN = timedelta(days=7)
_QUOTED_OR_NUMBERED = re.compile(r"['\"\d]")
OPEN_STATUSES = lifecycle.ACTIVE


@dataclass(frozen=True, slots=True)
class Report:
    """What a finished flow hands over to become a case."""

    ref: str
    contact_id: int
    channel: str
    lang: str
    flow: str
    intent: Intent | None  # the flow's own intent; None lets triage decide
    answers: Mapping[str, Any]
    text: str  # the person's own words, joined
    sender_phone: str | None = None  # SMS / WhatsApp: the area code is a weak location hint
    step: str | None = None  # the flow step reached; None when the report is complete
    anonymous: bool = False  # privacy notice not accepted: no words, no contact, coarse place
    floor: Priority | None = None  # at least this urgent (a panic alert)


@dataclass(frozen=True, slots=True)
class Assessment:
    """What triage and routing make of a report as it stands."""

    intent: Intent
    priority: Priority
    reasons: list[str]
    location: Location | None
    desk_id: str
    also_central: bool
    needs_review: bool


def locate(report: Report) -> Location | None:
    """Where the report is about: the answer given, a place in the text, or the area code."""
    answer = report.answers.get("location")
    location: Location | None = None
    if isinstance(answer, Mapping):
        lat, lon = answer.get("lat"), answer.get("lon")
        if isinstance(lat, int | float) and isinstance(lon, int | float):
            location = resolve_location(lat=float(lat), lon=float(lon))
        else:
            answer = answer.get("text") or answer.get("raw")
    if location is None and isinstance(answer, str) and answer.strip():
        location = extract_location(answer, phone=report.sender_phone)
    if location is None and report.text:
        location = extract_location(report.text, phone=report.sender_phone)
    if location is None and report.sender_phone:
        location = resolve_location(phone=report.sender_phone)
    return location


# The desk's open critical cases, counted up to its critical capacity: all routing needs to
# know (full or not), at a cost that does not grow with the surge (`ix_case_queue`). Written
# out once, statuses inline: it runs on every answer of a critical report.
_OPEN_CRITICAL = text(
    'SELECT count(*) FROM (SELECT 1 FROM "case" WHERE desk_id = :desk AND status IN ('
    + ", ".join(f"'{status.value}'" for status in OPEN_STATUSES)
    + f") AND priority_rank = {PRIORITY_RANK['critical']} LIMIT :capacity) AS open_critical"
)


_COUNTED: Final = "open critical counts"  # in Session.info: desk id → count


def open_critical_at(session: Session, desk_id: str, capacity: int) -> int:
    """The desk's open critical cases, up to `capacity`: counted once per transaction (a
    batch of the inbox writer), then kept up to date by this module as its cases change."""
    counted: dict[str, int] = session.info.setdefault(_COUNTED, {})
    if desk_id not in counted:
        params = {"desk": desk_id, "capacity": capacity}
        counted[desk_id] = int(session.connection().execute(_OPEN_CRITICAL, params).scalar_one())
    return min(counted[desk_id], capacity)


def _critical_moved(
    session: Session, before: tuple[str, str] | None, after: tuple[str, str] | None
) -> None:
    """A case's (priority, desk) changed: keep this transaction's open-critical counts."""
    counted: dict[str, int] | None = session.info.get(_COUNTED)
    if not counted or before == after:
        return
    for change, step in ((before, -1), (after, 1)):
        if change is not None and change[0] == "critical" and change[1] in counted:
            counted[change[1]] += step


def assess(session: Session, report: Report, desks: DeskDirectory, now: datetime) -> Assessment:
    """Triage and route the report as it stands."""
    answers = {**report.answers, "flow": report.flow}
    triage = classify(report.text, answers, now=now)
    priority: Priority = triage.priority
    reasons = list(triage.reasons)
    if report.floor is not None and PRIORITY_RANK[report.floor] < PRIORITY_RANK[priority]:
        priority = report.floor
        reasons.append(f"raised to {priority}: alert sent by the person")
    location = locate(report)
    counts = None
    if priority == "critical" and location is not None and location.desk_id in desks:
        desk = desks.get(location.desk_id)
        counts = {desk.id: open_critical_at(session, desk.id, desk.critical_capacity)}
    decision = route(location, priority, now, counts, desks=desks)
    reasons += _without_place(decision.reasons, location)
    if location is not None:
        reasons.append(f"location: {location.method}, confidence {location.confidence}")
    if report.anonymous:  # before the person agreed: no words, no ZIP or area code
        reasons = [r for r in reasons if not _QUOTED_OR_NUMBERED.search(r)]
        reasons.append("privacy notice not accepted yet: no words or contact kept")
    return Assessment(
        intent=report.intent or triage.intent,
        priority=priority,
        reasons=reasons,
        location=location,
        desk_id=desks.get(decision.desk_id).id,
        also_central=decision.also_central,
        needs_review=triage.needs_review,
    )


def _without_place(reasons: tuple[str, ...], location: Location | None) -> list[str]:
    """Routing's reasons with the place's name taken out: reasons say how the desk was
    chosen; the place itself is the case's `location_label`, and nowhere else."""
    if location is None or not location.label:
        return list(reasons)
    return [reason.replace(location.label, "the place") for reason in reasons]


# A report's case on SQLAlchemy Core: every answer of a report reads a few columns of its
# case (locked, the person's words left sealed: they are replaced, never read) and writes it
# in one statement. The ORM comes in only when intake ends (status, links).
_T: Any = Case.__table__  # type: ignore[attr-defined]
_CURRENT = (
    core_select(
        _T.c.id,
        _T.c.status,
        _T.c.erased_at,
        _T.c.priority,
        _T.c.desk_id,
        _T.c.first_response_at,
        _T.c.parent_id,
        _T.c.intent,
        _T.c.intake_step,
        _T.c.also_central,
        _T.c.answers.is_(None).label("blank"),
    )
    .where(_T.c.ref == bindparam("ref"))
    .with_for_update()
)
_INSERT = insert(_T).returning(_T.c.id)
_SET = update(_T).where(_T.c.id == bindparam("case_id"))  # the columns are the values given


def save_report(
    session: Session,
    *,
    report: Report,
    desks: DeskDirectory,
    targets: SlaTargets,
    now: datetime,
) -> int:
    """Open the report's case (in intake while the person is still answering) or bring the
    existing one up to date; a complete report leaves intake and is linked. Returns the
    case's id."""
    current = session.connection().execute(_CURRENT, {"ref": report.ref}).first()
    if current is None:
        case_id = _create(session, report, desks, targets, now)
    elif current.status == CaseStatus.erased or current.erased_at is not None:
        return int(current.id)
    else:
        case_id = current.id
        held = session.identity_map.get(session.identity_key(Case, case_id))
        if held is not None and session.is_modified(held):
            session.flush()  # what the ORM holds goes first; the update below is newer
        _update(session, current, report, desks, targets, now)
        if held is not None:
            session.expire(held)
    if report.step is None:
        case = session.get(Case, case_id)
        assert case is not None
        _finish_intake(session, case, now)
    return int(case_id)


def _create(
    session: Session, report: Report, desks: DeskDirectory, targets: SlaTargets, now: datetime
) -> int:
    verdict = assess(session, report, desks, now)
    desk = desks.get(verdict.desk_id)
    values = {
        "ref": report.ref,
        "channel": report.channel,
        "lang": report.lang,
        "status": lifecycle.initial(intake=True),
        "intake_step": report.step or "",
        "desk_id": desk.id,
        "also_central": verdict.also_central,
        "flow": report.flow,
        "intent": verdict.intent,
        "priority": verdict.priority,
        "priority_rank": PRIORITY_RANK[verdict.priority],
        "needs_review": verdict.needs_review,
        "reasons": verdict.reasons,
        "created_at": now,
        "updated_at": now,
        "sla_due_at": first_response_due(verdict.priority, now, desk.timezone, targets),
        **_contents(report, verdict.location, verdict.intent),
    }
    case_id = int(session.connection().execute(_INSERT, values).scalar_one())
    _critical_moved(session, None, (verdict.priority, desk.id))
    record_event(
        session,
        case_id,
        "created",
        "person",
        now,
        {
            "intent": verdict.intent,
            "priority": verdict.priority,
            "reasons": verdict.reasons,
            "step": report.step,
            "anonymous": report.anonymous,
        },
    )
    return case_id


def _contents(report: Report, location: Location | None, intent: str) -> dict[str, Any]:
    """What the person said, as case columns, or only a coarse place when anonymous."""
    if report.anonymous:
        coarse = location.city and f"{location.city}, {location.state}" if location else None
        return {
            "answers": None,
            "summary": None,
            "zip": None,
            "lat": None,
            "lon": None,
            "location_label": coarse or (location.state if location else None),
            "location_confidence": location.confidence if location else None,
        }
    answers = {**report.answers, "flow": report.flow}
    return {
        "contact_id": report.contact_id,
        "answers": answers,
        "summary": report.text or None,
        "location_label": location.label if location else None,
        "location_confidence": location.confidence if location else None,
        "zip": location.zip if location else None,
        "lat": round(location.lat, 2) if location and location.lat is not None else None,
        "lon": round(location.lon, 2) if location and location.lon is not None else None,
        "person_hash": person_hash_of(answers) if intent == "detention" else None,
    }


def _update(
    session: Session,
    current: Row[*tuple[Any, ...]],
    report: Report,
    desks: DeskDirectory,
    targets: SlaTargets,
    now: datetime,
) -> None:
    """A new answer: the words join the case; priority may rise or fall and the desk may
    change while nobody holds the case (each change is a case event)."""
    verdict = assess(session, report, desks, now)
    changes: dict[str, Any] = {}
    values: dict[str, Any] = {
        "case_id": current.id,
        "also_central": current.also_central or verdict.also_central,
        "reasons": verdict.reasons,
        "needs_review": verdict.needs_review,
        "updated_at": now,
    }
    if verdict.priority != current.priority:
        changes["priority"] = [current.priority, verdict.priority]
        values["priority"] = verdict.priority
        values["priority_rank"] = PRIORITY_RANK[verdict.priority]
        if current.first_response_at is None:
            timezone = desks.get(current.desk_id).timezone
            values["sla_due_at"] = first_response_due(verdict.priority, now, timezone, targets)
    movable = current.status in (CaseStatus.intake, CaseStatus.open) and current.parent_id is None
    if verdict.desk_id != current.desk_id and movable and not _transferred(session, current.id):
        changes["desk"] = [current.desk_id, verdict.desk_id]
        values["desk_id"] = verdict.desk_id
    intent = current.intent
    if report.intent is None and verdict.intent != current.intent:
        changes["intent"] = [current.intent, verdict.intent]
        values["intent"] = intent = verdict.intent
    if current.intake_step is not None and report.step is not None:
        values["intake_step"] = report.step
    if not report.anonymous or current.blank:  # words once given are never wiped
        values.update(_contents(report, verdict.location, intent))
    session.connection().execute(_SET, values)
    if current.status in OPEN_STATUSES:
        before = (current.priority, current.desk_id)
        _critical_moved(
            session, before, (values.get("priority", before[0]), values.get("desk_id", before[1]))
        )
    if changes:
        record_event(session, current.id, "triage_changed", "system", now, changes)


def _transferred(session: Session, case_id: int) -> bool:
    """True when staff moved the case to its desk (the person's answers never undo that)."""
    return (
        session.exec(
            select(CaseEvent.id).where(
                CaseEvent.case_id == case_id, CaseEvent.kind == "transferred"
            )
        ).first()
        is not None
    )


def withdraw_report(session: Session, ref: str, now: datetime) -> None:
    """The person left a report before saying anything in it: its case leaves the queue."""
    case = session.exec(select(Case).where(Case.ref == ref).with_for_update()).first()
    if case is None or case.status != CaseStatus.intake:
        return
    lifecycle.move(session, case, CaseStatus.resolved, actor="person", now=now, outcome="withdrawn")
    _critical_moved(session, (case.priority, case.desk_id), None)


def unused_ref(session: Session) -> str:
    """A fresh case reference no case has (collisions are rare, never merged)."""
    while True:
        ref = new_ref()
        if session.exec(select(Case.id).where(Case.ref == ref)).first() is None:
            return ref


def _finish_intake(session: Session, case: Case, now: datetime) -> None:
    """The person answered the last question (or the report needs no questions)."""
    if case.intake_step is None and case.status != CaseStatus.intake:
        return
    case.intake_step = None
    if case.status == CaseStatus.intake:
        lifecycle.move(session, case, CaseStatus.open, actor="person", now=now)
    else:  # staff already hold or answered it: intake ends, the status stays
        record_event(session, case, "intake_done", "person", now)
    if case.parent_id is None and case.incident_id is None:
        later: list[Case] | None = session.info.get(_LINK_LATER)
        if later is None:
            _link(session, [case], now)
        else:
            later.append(case)


def person_hash_of(answers: Mapping[str, Any]) -> str | None:
    """The keyed hash that joins reports about one detained person (A-number, or name and
    date of birth), under the keyring's current secret; None without enough to tell."""
    key = person_key(
        _text(answers.get("a_number")), _text(answers.get("name")), _text(answers.get("dob"))
    )
    return None if key is None else lookup_hash(f"person:{key}")


def _text(value: object) -> str | None:
    if isinstance(value, Mapping):
        value = value.get("value") or value.get("raw")
    return value if isinstance(value, str) and value else None


_LINK_LATER: Final = "cases to link"  # in Session.info: cases whose intake ended, in order


def link_at_end(session: Session) -> None:
    """From now on in this transaction, reports whose intake ends are linked (to an earlier
    report about the same person, to a raid's incident) by `link_waiting`, not at once."""
    session.info.setdefault(_LINK_LATER, [])


_DESK_LINK_LOCK: Final = text("SELECT pg_advisory_xact_lock(hashtext(:key))")


def link_waiting(session: Session, now: datetime) -> None:
    """Link the reports `link_at_end` kept, desk by desk in the desks' order. On PostgreSQL
    each desk's linking is taken in turn across processes (an advisory lock per desk, held
    to the commit): linking updates an incident and the report heading it, and two batches
    linking reports of two desks in opposite orders would otherwise wait on each other in a
    circle until the server kills one of them."""
    waiting = session.info.pop(_LINK_LATER, None)
    if not waiting:
        return
    cases = sorted(waiting, key=lambda case: (case.desk_id, case.id or 0))
    if session.connection().dialect.name == "postgresql":
        for desk_id in sorted({case.desk_id for case in cases}):
            session.execute(_DESK_LINK_LOCK, {"key": f"link:{desk_id}"})
    _link(session, cases, now)


def _link(session: Session, cases: list[Case], now: datetime) -> None:
    """Join each case to an earlier open case about the same person, and raid reports to
    their incidents: all of a desk's together, in a few statements per incident rather than
    per report (a raid wave ends dozens of reports about one raid in one batch)."""
    cases = [c for c in cases if c.parent_id is None and c.incident_id is None and not c.erased_at]
    for case in cases:
        if case.person_hash is not None:
            params = {"hash": case.person_hash, "case": case.id}
            earlier = session.connection().execute(_SAME_PERSON, params).scalar()
            if earlier is not None:
                _attach(session, earlier, [case], now, "same person")
    raids: dict[str, list[Case]] = {}
    for case in cases:
        if case.intent == "raid":
            raids.setdefault(case.desk_id, []).append(case)
    for desk_id, reports in raids.items():
        _join_incidents(session, desk_id, reports, now)


# Linking on Core: a raid wave links thousands of reports to one incident and the report at
# its head, each a few statements on a few columns (the ORM read whole rows and unsealed
# every one of their encrypted columns).
_SAME_PERSON = (
    core_select(_T.c.id)
    .where(
        _T.c.person_hash == bindparam("hash"),
        _T.c.id != bindparam("case"),
        _T.c.parent_id.is_(None),
        _T.c.status.in_([status.value for status in OPEN_STATUSES]),
    )
    .order_by(_T.c.created_at)
    .limit(1)
)
_PARENT = (
    core_select(
        _T.c.ref,
        _T.c.status,
        _T.c.desk_id,
        _T.c.priority,
        _T.c.priority_rank,
        _T.c.sla_due_at,
        _T.c.also_central,
    )
    .where(_T.c.id == bindparam("id"))
    .with_for_update()
)
# More reports in the group; the columns a more urgent report raises are the values given.
_FOLDED = (
    update(_T)
    .where(_T.c.id == bindparam("case_id"))
    .values(report_count=_T.c.report_count + bindparam("folded"))
)


def _attach(session: Session, parent_id: int, reports: list[Case], now: datetime, why: str) -> None:
    """Fold `reports` into the case `parent_id`: counted there, and raising its priority
    when one is more urgent."""
    _flush_held(session, parent_id)
    connection = session.connection()
    parent = connection.execute(_PARENT, {"id": parent_id}).one()
    folded = SimpleNamespace(**parent._asdict())  # the parent as each report leaves it
    raised: dict[str, Any] = {}
    for case in reports:  # a more urgent report raises the group
        more = lifecycle.merged_priority(folded, case)
        raised.update(more)
        vars(folded).update(more)
    params = {"case_id": parent_id, "folded": len(reports), "updated_at": now, **raised}
    connection.execute(_FOLDED, params)
    _set_each(session, [(case, {"parent_id": parent_id}) for case in reports])
    if parent.status in OPEN_STATUSES:
        after = raised.get("priority", parent.priority)
        _critical_moved(session, (parent.priority, parent.desk_id), (after, parent.desk_id))
    entries: list[tuple[int, dict[str, Any] | None]] = []
    for case in reports:
        assert case.id is not None
        entries += [
            (parent_id, {"ref": case.ref, "why": why}),
            (case.id, {"ref": parent.ref, "why": why}),
        ]
    lifecycle.record_all(session, entries, "linked", "system", now)


def _flush_held(session: Session, case_id: int) -> None:
    """What the ORM holds of that case goes first; then it reads again what Core wrote."""
    held = session.identity_map.get(session.identity_key(Case, case_id))
    if held is not None:
        if session.is_modified(held):
            session.flush()
        session.expire(held)


def _set_each(session: Session, changes: list[tuple[Case, dict[str, Any]]]) -> None:
    """Write columns of cases the session holds, on Core, in one statement (the same
    columns for each), and tell the session so."""
    if not changes:
        return
    rows = [{"case_id": case.id, **values} for case, values in changes]
    session.connection().execute(_SET, rows)
    for case, values in changes:
        for name, value in values.items():
            set_committed_value(case, name, value)


# Who stands behind an incident, counted in the database (a raid wave's incident gathers
# thousands of reports): its reporters (an anonymous report counts as one), those not on the
# web chat, and whether any report came from the web chat. Anyone can open web-chat sessions
# at will, so all web reports together count as one independent source: they corroborate
# only with another channel (or staff confirm).
_ANYONE: Final = func.coalesce(Case.contact_id, 0)
_INCIDENT_SOURCES = select(
    func.count(distinct(_ANYONE)),
    func.count(distinct(sql_case((col(Case.channel) != "web", _ANYONE)))),
    func.max(sql_case((col(Case.channel) == "web", 1), else_=0)),
).where(col(Case.incident_id) == bindparam("incident"))


# The report heading the incident: its first that is not linked to another.
_INCIDENT_HEAD = (
    select(Case.id)
    .where(col(Case.incident_id) == bindparam("incident"), col(Case.parent_id).is_(None))
    .order_by(col(Case.created_at), col(Case.id))
    .limit(1)
)

_I: Any = Incident.__table__  # type: ignore[attr-defined]
_RECENT_INCIDENTS = core_select(
    _I.c.id,
    _I.c.zip,
    _I.c.lat,
    _I.c.lon,
    _I.c.first_report_at,
    _I.c.last_report_at,
    _I.c.state,
).where(_I.c.desk_id == bindparam("desk"), _I.c.last_report_at >= bindparam("since"))
_NEW_INCIDENT = insert(_I).returning(_I.c.id)
# The count and the time always; the state only if staff did not set one meanwhile.
_INCIDENT_COUNTED = (
    update(_I)
    .where(_I.c.id == bindparam("b_id"))
    .values(
        report_count=_I.c.report_count + bindparam("added"),
        reporter_count=bindparam("reporters"),
        last_report_at=bindparam("now"),
        state=sql_case((_I.c.state == bindparam("was"), bindparam("state")), else_=_I.c.state),
    )
)


def _join_incidents(session: Session, desk_id: str, reports: list[Case], now: datetime) -> None:
    """Group a desk's raid reports with reports close in place and time (see
    routing.incidents): each report joins the nearest recent incident — one an earlier
    report of this batch may have opened — and is linked to the report heading it."""
    connection = session.connection()
    since = now - timedelta(hours=12)
    recent = [
        SimpleNamespace(**row._asdict())
        for row in connection.execute(_RECENT_INCIDENTS, {"desk": desk_id, "since": since})
    ]
    joined: dict[int, list[Case]] = {}
    for case in reports:
        report = IncidentReport(zip=case.zip, lat=case.lat, lon=case.lon, at=now)
        incident = match_incident(report, recent)
        if incident is None:
            incident = SimpleNamespace(
                id=None,
                zip=case.zip,
                lat=case.lat,
                lon=case.lon,
                first_report_at=now,
                last_report_at=now,
                state=IncidentState.unverified.value,
            )
            incident.id = connection.execute(
                _NEW_INCIDENT,
                {
                    "desk_id": desk_id,
                    "zip": case.zip,
                    "lat": case.lat,
                    "lon": case.lon,
                    "label": case.location_label,
                    "first_report_at": now,
                    "last_report_at": now,
                    "report_count": 0,
                    "reporter_count": 0,
                    "state": incident.state,
                },
            ).scalar_one()
            recent.append(incident)
        incident.last_report_at = now  # as the next report of the batch finds it
        joined.setdefault(incident.id, []).append(case)
    # They count among their incidents' own before the incidents are counted.
    _set_each(session, [(c, {"incident_id": i}) for i, cases in joined.items() for c in cases])
    was = {incident.id: str(incident.state) for incident in recent}
    for incident_id, cases in joined.items():
        sources = connection.execute(_INCIDENT_SOURCES, {"incident": incident_id}).one()
        reporters, others, web = sources
        connection.execute(
            _INCIDENT_COUNTED,
            {
                "b_id": incident_id,
                "added": len(cases),
                "reporters": int(reporters),
                "now": now,
                "was": was[incident_id],
                "state": corroboration_state(was[incident_id], int(others) + int(web or 0)),
            },
        )
        head = connection.execute(_INCIDENT_HEAD, {"incident": incident_id}).scalar()
        followers = [case for case in cases if case.id != head]
        if head is not None and followers:
            _attach(session, head, followers, now, "same incident")


def find_case(session: Session, ref: str) -> Case | None:
    """The case with this reference (already normalised to HL-XXXXXX)."""
    return session.exec(select(Case).where(Case.ref == ref)).first()


def latest_open_case(session: Session, contact_id: int) -> Case | None:
    """The contact's most recent case that is not resolved."""
    return session.exec(
        select(Case)
        .where(Case.contact_id == contact_id, col(Case.status).in_(OPEN_STATUSES))
        .order_by(col(Case.created_at).desc())
    ).first()


def sync_desks(session: Session, desks: DeskDirectory) -> int:
    """Make the desk table match the routing data (add new desks, update changed ones).
    Workers starting together take turns: the second waits for the first's commit and then
    finds its desks (on SQLite the write transaction already serialises them)."""
    if session.connection().dialect.name == "postgresql":
        session.execute(text("LOCK TABLE desk IN SHARE ROW EXCLUSIVE MODE"))
    known = {desk.id: desk for desk in session.exec(select(Desk)).all()}
    changed = 0
    for desk in desks.all():
        values: dict[str, Any] = {
            "name_es": desk.name_es,
            "name_en": desk.name_en,
            "city": desk.city,
            "state": desk.state,
            "timezone": desk.timezone,
            "phone": desk.phone,
            "is_central": desk.is_central,
            "critical_capacity": desk.critical_capacity,
            "active": True,
        }
        row = known.get(desk.id)
        if row is None:
            session.add(Desk(id=desk.id, **values))
            changed += 1
        elif any(getattr(row, name) != value for name, value in values.items()):
            for name, value in values.items():
                setattr(row, name, value)
            changed += 1
    for desk_id, row in known.items():  # a desk removed from the data stays for its cases
        if desk_id not in desks.ids and row.active:
            row.active = False
            changed += 1
    return changed


def case_in_conversation(
    session: Session, contact_id: int, now: datetime, within: timedelta = REOPEN_WITHIN
) -> Case | None:
    """The person's own latest case, when staff and they are talking about it: its queue
    item (the case itself, or the report it is linked to) was answered by staff and is not
    closed, waits for the person, or was resolved within `within`. Decided on a few columns
    (it runs on most messages, and most people talk with no one yet); only a case in a
    conversation is loaded."""
    connection = session.connection()
    own = connection.execute(_LATEST_OWN, {"contact": contact_id}).first()
    if own is None:
        return None
    head = connection.execute(_QUEUE_ITEM, {"id": own.parent_id or own.id}).first()
    if head is None or head.erased_at is not None:
        return None
    talking = (
        head.status == CaseStatus.waiting
        or (
            head.status in (CaseStatus.open, CaseStatus.claimed)
            and head.first_response_at is not None
        )
        or (
            head.status not in (CaseStatus.open, CaseStatus.claimed)
            and head.resolved_at is not None
            and head.resolved_at >= now - within
        )
    )
    return session.get(Case, own.id) if talking else None


_LATEST_OWN = (
    select(Case.id, Case.parent_id)
    .where(col(Case.contact_id) == bindparam("contact"), col(Case.erased_at).is_(None))
    .order_by(col(Case.created_at).desc())
    .limit(1)
)
_QUEUE_ITEM = select(Case.status, Case.first_response_at, Case.resolved_at, Case.erased_at).where(
    col(Case.id) == bindparam("id")
)


def queue_item_of(session: Session, case: Case) -> Case | None:
    """The case that stands in the queue for this one: itself, or the report it joined."""
    return case if case.parent_id is None else session.get(Case, case.parent_id)


def reopen_on_message(
    session: Session, contact_id: int, now: datetime, *, within: timedelta = REOPEN_WITHIN
) -> Case | None:
    """Put the contact's latest case back in its queue when they write again about it: a
    case waiting for them, or one resolved within `within`. Returns the reopened queue item."""
    own = case_in_conversation(session, contact_id, now, within)
    case = queue_item_of(session, own) if own is not None else None
    if case is None or case.status not in (CaseStatus.waiting, CaseStatus.resolved):
        return None
    lifecycle.move(
        session, case, CaseStatus.open, actor="person", now=now, data={"from": str(case.status)}
    )
    return case
