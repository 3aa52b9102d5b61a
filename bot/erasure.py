"""Erasing a person's data at their request ("BORRAR") or when retention runs out.

What goes: their name, their words (inbound texts, our replies, case summaries and answers,
case history details, locations), their conversation state. What stays: anonymous figures
(a case's intent, priority, desk and dates) so the consulate can still count. The address
(phone number or chat id) is kept only until the confirmation of the erasure is sent; the
retention sweep clears it after that.
"""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Session, col, select, update

from bot import lifecycle
from bot.models import (
    Case,
    CaseEvent,
    CaseStatus,
    Contact,
    Conversation,
    InboundMessage,
    OutboundMessage,
    OutboundStatus,
)

ERASED_OUTCOME = "erased_by_person"


def erase_contact(session: Session, contact: Contact, now: datetime) -> None:
    """Erase everything personal stored about the contact, keeping anonymous figures."""
    assert contact.id is not None
    session.flush()  # the message being processed must be linked before the bulk updates
    contact.display_name = None
    contact.erased_at = now
    session.exec(
        update(Conversation)
        .where(col(Conversation.contact_id) == contact.id)
        .values(state=None, flow=None, step=None)
    )
    session.exec(
        update(InboundMessage)
        .where(col(InboundMessage.contact_id) == contact.id)
        .values(text="", sender="", payload=None)
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
        update(OutboundMessage).where(col(OutboundMessage.contact_id) == contact.id).values(text="")
    )
    cases = session.exec(select(Case).where(Case.contact_id == contact.id)).all()
    for case in cases:
        erase_case(session, case, now)


def erase_case(
    session: Session, case: Case, now: datetime, *, outcome: str = ERASED_OUTCOME
) -> None:
    """Clear a case's personal fields and history details and move it to `erased` (a case
    not yet resolved gets `outcome`). Other people's reports linked to it stay in the
    queue: the oldest becomes their new head."""
    assert case.id is not None
    _hand_over_linked_reports(session, case, now)
    case.answers = None
    case.summary = None
    case.location_label = None
    case.person_hash = None
    case.reasons = ["erased at the person's request"]  # the cues quoted their words
    case.zip, case.lat, case.lon = None, None, None
    case.erased_at = now
    case.updated_at = now
    session.exec(update(CaseEvent).where(col(CaseEvent.case_id) == case.id).values(data=None))
    if case.status != CaseStatus.erased:
        kept = case.outcome if case.status == CaseStatus.resolved else outcome
        lifecycle.move(session, case, CaseStatus.erased, actor="system", now=now, outcome=kept)


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
