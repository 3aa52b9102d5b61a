"""Erasing a person's data at their request ("BORRAR") or when retention runs out.

What goes: their name, their words (inbound texts, our replies and the options they
offered, case summaries and answers, case history details), their places (when retention
erases, a ZIP3 stays: the first three digits of a ZIP code, a county-sized area), their
conversation state, and every keyed hash that would let someone holding the key show that
a number or a person was here: the contact's and the inbox's address hashes become random
values (`unlinkable_hash`), cases' person hashes go. What stays: anonymous figures (a
case's intent, priority, desk and dates) so the consulate can still count. The address (phone
number or chat id) is kept, encrypted, only until the confirmation of the erasure is sent;
the retention sweep clears it after that.

What a provider still holds goes too: each voicemail recording, each evidence file, and the
record of each SMS / WhatsApp message and call the person exchanged with us (Twilio keeps
their text and the phone number) is queued as a `ProviderErasure` row (in the same
transaction), which the Twilio sender deletes there
(`bot.channels.twilio_voice.recordings.delete_at_twilio`); the erasure's own confirmation,
sent afterwards (and a reply that was in flight), is queued by retention when it clears the
address (`queue_provider_records` again). Evidence files kept here (`Media`) are deleted
with the case or the person.
"""

from __future__ import annotations

import re
import secrets
from datetime import datetime, timedelta
from typing import Any, Final

from sqlalchemy import delete, or_
from sqlmodel import Session, col, select, update

from bot import appointments, lifecycle
from bot.db import Database
from bot.models import (
    Case,
    CaseEvent,
    CaseStatus,
    Contact,
    Conversation,
    InboundMessage,
    Incident,
    Media,
    OutboundMessage,
    OutboundStatus,
    ProviderErasure,
    SweepMark,
)

ERASED_OUTCOME = "erased_by_person"
ERASED_HASH_PREFIX: Final = "erased-"  # never the start of a real hash (hex digits only)
RECORDING_SID: Final = re.compile(r"^RE[0-9a-fA-F]{32}$")
# Twilio's ids of a message (SM… / MM…) and of a call (CA…, a call's turns stored as CA…:n).
MESSAGE_SID: Final = re.compile(r"^(?:SM|MM)[0-9a-fA-F]{32}$")
CALL_SID: Final = re.compile(r"^(CA[0-9a-fA-F]{32})(?::\d+)?$")
ERASURE_LEASE: Final = timedelta(minutes=2)
ERASURE_RETRY_CAP: Final = timedelta(hours=1)


def erase_contact(
    session: Session, contact: Contact, now: datetime, *, coarse_place: bool = False
) -> None:
    """Erase everything personal stored about the contact, keeping anonymous figures (and,
    with `coarse_place`, each case's ZIP3)."""
    assert contact.id is not None
    session.flush()  # the message being processed must be linked before the bulk updates
    contact.display_name = None
    contact.erased_at = now
    known_as, contact.address_hash = contact.address_hash, unlinkable_hash()
    session.exec(
        update(Conversation)
        .where(col(Conversation.contact_id) == contact.id)
        .values(state=None, flow=None, step=None)
    )
    appointments.forget_person(session, contact.id, now)
    session.exec(
        update(InboundMessage)
        .where(col(InboundMessage.contact_id) == contact.id)
        .values(text="", sender="", payload=None, sender_hash=contact.address_hash)
    )
    session.exec(
        update(OutboundMessage)
        .where(
            col(OutboundMessage.contact_id) == contact.id,
            col(OutboundMessage.status).in_((OutboundStatus.pending, OutboundStatus.sending)),
        )
        .values(status=OutboundStatus.suppressed, text="", updated_at=now)
    )
    session.exec(
        update(OutboundMessage)
        .where(col(OutboundMessage.contact_id) == contact.id)
        .values(text="", options=[], last_error=None)  # a provider's error may quote the number
    )
    # Once-only marks keyed by the sender's hash (the busy notice's) would still name them.
    session.exec(delete(SweepMark).where(col(SweepMark.key).contains(known_as)))
    cases = session.exec(select(Case).where(Case.contact_id == contact.id)).all()
    for case in cases:
        erase_case(session, case, now, coarse_place=coarse_place)
    _erase_media(session, _media_of(contact.id), now)
    queue_provider_records(session, contact.id, now)


def queue_provider_records(session: Session, contact_id: int, now: datetime) -> int:
    """Queue for deletion at Twilio the records of the contact's messages and calls; return
    how many. Queuing one twice costs a DELETE that finds nothing (404 counts as done)."""
    received = select(InboundMessage.provider_id).where(
        col(InboundMessage.contact_id) == contact_id
    )
    sent = select(OutboundMessage.provider_id).where(
        col(OutboundMessage.contact_id) == contact_id,
        col(OutboundMessage.provider_id).is_not(None),
    )
    resources: set[str] = set()
    for sid in [*session.exec(received).all(), *session.exec(sent).all()]:
        if sid is None:
            continue
        if MESSAGE_SID.match(sid):
            resources.add(f"Messages/{sid}")
        elif call := CALL_SID.match(sid):
            resources.add(f"Calls/{call.group(1)}")
    for resource in sorted(resources):
        _queue(session, "twilio", resource, now)
    return len(resources)


def erase_case(
    session: Session,
    case: Case,
    now: datetime,
    *,
    outcome: str = ERASED_OUTCOME,
    coarse_place: bool = False,
) -> None:
    """Clear a case's personal fields and history details and move it to `erased` (a case
    not yet resolved gets `outcome`). Its place goes, or with `coarse_place` (retention)
    only its ZIP3 stays. Other people's reports linked to it stay in the queue: the oldest
    becomes their new head."""
    assert case.id is not None
    _hand_over_linked_reports(session, case, now)
    case.answers = None
    case.summary = None
    case.location_label = None
    case.person_hash = None
    case.reasons = ["personal data erased"]  # they described the person's report
    case.zip = coarse_zip(case.zip) if coarse_place else None
    case.lat, case.lon = None, None
    _release_incident(session, case, coarse_place)
    case.erased_at = now
    case.updated_at = now
    _erase_recordings(session, case, now)
    # This case's files only: the person's other, live cases keep their evidence (all of a
    # person's files go when the person is erased, in `erase_contact`).
    _erase_media(session, col(Media.case_id) == case.id, now)
    session.exec(update(CaseEvent).where(col(CaseEvent.case_id) == case.id).values(data=None))
    if case.status != CaseStatus.erased:
        kept = case.outcome if case.status == CaseStatus.resolved else outcome
        lifecycle.move(session, case, CaseStatus.erased, actor="system", now=now, outcome=kept)


def unlinkable_hash() -> str:
    """A random value in place of an erased person's keyed hash: unique like the hash it
    replaces, and linked to nothing, whoever holds the key."""
    return ERASED_HASH_PREFIX + secrets.token_hex(28)


def coarse_zip(zip_code: str | None) -> str | None:
    """A ZIP code's first three digits (its sectional center, a county-sized area): the only
    place kept once a report's personal data is gone."""
    return zip_code[:3] if zip_code and len(zip_code) >= 3 else None


def _release_incident(session: Session, case: Case, coarse_place: bool) -> None:
    """An incident that only this report still stands behind keeps no more place than the
    report does: no label, no coordinates, a ZIP3 at most (staff's note stays until
    retention)."""
    if case.incident_id is None:
        return
    others = select(Case.id).where(
        col(Case.incident_id) == case.incident_id,
        col(Case.id) != case.id,
        col(Case.erased_at).is_(None),
    )
    if session.exec(others.limit(1)).first() is not None:
        return
    incident = session.get(Incident, case.incident_id)
    if incident is not None:
        incident.label, incident.lat, incident.lon = None, None, None
        incident.zip = coarse_zip(incident.zip) if coarse_place else None


def _hand_over_linked_reports(session: Session, case: Case, now: datetime) -> None:
    """Make the oldest active report linked to `case` the head of the others."""
    children = session.exec(
        select(Case)
        .where(col(Case.parent_id) == case.id, col(Case.status).in_(lifecycle.ACTIVE))
        .order_by(col(Case.created_at))
    ).all()
    if not children:
        return
    head, rest = children[0], children[1:]
    head.parent_id, head.report_count, head.updated_at = None, 1 + len(rest), now
    for child in rest:
        child.parent_id = head.id
        lifecycle.merge_priority(head, child)
    lifecycle.record(session, head, "unlinked", "system", now)


def _erase_recordings(session: Session, case: Case, now: datetime) -> None:
    """Queue the case's voicemail recordings for deletion at Twilio (before the events that
    name them are cleared)."""
    events = session.exec(
        select(CaseEvent).where(col(CaseEvent.case_id) == case.id, CaseEvent.kind == "voicemail")
    ).all()
    for event in events:
        sid = (event.data or {}).get("recording")
        if isinstance(sid, str) and RECORDING_SID.match(sid):
            _queue(session, "twilio", f"Recordings/{sid}", now)


def _media_of(contact_id: int) -> Any:
    sent = select(InboundMessage.id).where(col(InboundMessage.contact_id) == contact_id)
    return or_(col(Media.contact_id) == contact_id, col(Media.inbound_id).in_(sent))


def _erase_media(session: Session, which: Any, now: datetime) -> None:
    """Delete evidence files kept here, and queue the provider's copies for deletion."""
    for media in session.exec(select(Media).where(which)).all():
        if media.provider_ref:
            _queue(session, "twilio", media.provider_ref, now)
    session.exec(delete(Media).where(which))


def _queue(session: Session, provider: str, resource: str, now: datetime) -> None:
    session.add(
        ProviderErasure(provider=provider, resource=resource, created_at=now, next_attempt_at=now)
    )


def claim_provider_erasures(
    db: Database, *, provider: str, now: datetime, limit: int = 20
) -> list[tuple[int, str, int]]:
    """Take due provider deletions under a short lease: (id, resource, attempts)."""
    query = (
        select(ProviderErasure)
        .where(ProviderErasure.provider == provider, col(ProviderErasure.next_attempt_at) <= now)
        .order_by(col(ProviderErasure.next_attempt_at))
        .limit(limit)
    )
    if not db.is_sqlite:
        query = query.with_for_update(skip_locked=True)
    with db.write() as session:
        rows = list(session.exec(query).all())
        for row in rows:
            row.next_attempt_at = now + ERASURE_LEASE
            row.attempts += 1
        return [(r.id, r.resource, r.attempts) for r in rows if r.id is not None]


def provider_erasure_done(db: Database, erasure_id: int) -> None:
    """The provider no longer holds the resource: forget it (the row named it)."""
    with db.write() as session:
        session.exec(delete(ProviderErasure).where(col(ProviderErasure.id) == erasure_id))


def provider_erasure_failed(
    db: Database, erasure_id: int, *, attempts: int, error: str, now: datetime
) -> None:
    """Try again later: one minute, doubling, at most an hour apart."""
    wait = min(timedelta(minutes=2 ** max(0, attempts - 1)), ERASURE_RETRY_CAP)
    with db.write() as session:
        session.exec(
            update(ProviderErasure)
            .where(col(ProviderErasure.id) == erasure_id)
            .values(next_attempt_at=now + wait, last_error=error[:200])
        )
