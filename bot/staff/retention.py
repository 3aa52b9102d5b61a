"""Retention: personal data goes after `retention_days`; anonymous figures stay.

`purge_expired` erases (with `bot.erasure`):
- cases resolved more than `retention_days` ago (`erase_case`: words, answers, location,
  history details; intent, priority, desk, dates and a ZIP3 stay);
- people with nothing live left: no unresolved case, no case resolved within the period,
  and no message or conversation activity within it (abandoned conversations included) —
  `erase_contact` clears their messages, conversation state and cases;
- the address (phone number, chat id) of contacts erased more than a day ago (kept that long
  so the erasure's confirmation can still be delivered); Twilio's records of their messages
  are queued for deletion there once more, the confirmation's now included;
- the keyed address hash of contacts erased by an earlier version, which kept it (anyone
  holding the key could show that a number wrote): replaced by `unlinkable_hash`;
- the busy notice's once-only marks older than a day (each names a sender by keyed hash);
- the place labels and notes of incidents whose last report is older than the period, and
  their place down to a ZIP3 (no coordinates): the only place kept is a coarse one.
Each step selects only rows not yet erased, so running it again (or in two processes) does
nothing twice.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Final

from sqlalchemy import and_, delete, exists, func, or_
from sqlmodel import col, select, update

from bot import lifecycle
from bot.db import Database
from bot.erasure import (
    ERASED_HASH_PREFIX,
    erase_case,
    erase_contact,
    queue_provider_records,
    unlinkable_hash,
)
from bot.models import Case, CaseStatus, Contact, Conversation, InboundMessage, Incident, SweepMark

logger = logging.getLogger(__name__)

BATCH: Final = 500
ADDRESS_GRACE: Final = timedelta(days=1)


def purge_expired(db: Database, *, now: datetime, retention_days: int) -> dict[str, int]:
    """Erase personal data older than the retention period; return counts per kind."""
    cutoff = now - timedelta(days=retention_days)
    counts = {
        "cases": _erase_cases(db, now, cutoff),
        "contacts": _erase_contacts(db, now, cutoff),
        "addresses": _clear_addresses(db, now),
        "hashes": _unlink_erased(db),
        "marks": _forget_marks(db, now),
        "incidents": _clear_incidents(db, cutoff),
    }
    if any(counts.values()):
        logger.info(
            "retention: erased %(cases)s case(s), %(contacts)s contact(s), "
            "%(addresses)s address(es), %(hashes)s address hash(es), %(marks)s mark(s), "
            "%(incidents)s incident place(s)",
            counts,
        )
    return counts


EXPIRED_OUTCOME = "expired_no_reply"  # a waiting case the retention period closed


def _erase_cases(db: Database, now: datetime, cutoff: datetime) -> int:
    query = (
        select(Case)
        .where(
            col(Case.erased_at).is_(None),
            or_(
                and_(col(Case.status) == CaseStatus.resolved, col(Case.resolved_at) < cutoff),
                # Answered by staff, and the person never wrote back in the whole period.
                and_(col(Case.status) == CaseStatus.waiting, col(Case.updated_at) < cutoff),
            ),
        )
        .limit(BATCH)
    )
    if not db.is_sqlite:
        query = query.with_for_update(skip_locked=True)
    with db.write() as session:
        cases = list(session.exec(query).all())
        for case in cases:
            erase_case(session, case, now, outcome=EXPIRED_OUTCOME, coarse_place=True)
    return len(cases)


def _erase_contacts(db: Database, now: datetime, cutoff: datetime) -> int:
    live_case = exists().where(
        col(Case.contact_id) == col(Contact.id),
        or_(col(Case.status).in_(lifecycle.ACTIVE), col(Case.resolved_at) >= cutoff),
    )
    recent_talk = exists().where(
        col(Conversation.contact_id) == col(Contact.id), col(Conversation.updated_at) >= cutoff
    )
    query = (
        select(Contact)
        .where(
            col(Contact.erased_at).is_(None),
            col(Contact.created_at) < cutoff,
            or_(col(Contact.last_inbound_at).is_(None), col(Contact.last_inbound_at) < cutoff),
            ~live_case,
            ~recent_talk,
        )
        .limit(BATCH)
    )
    if not db.is_sqlite:
        query = query.with_for_update(skip_locked=True, of=Contact)
    with db.write() as session:
        contacts = list(session.exec(query).all())
        for contact in contacts:
            erase_contact(session, contact, now, coarse_place=True)
    return len(contacts)


def _clear_addresses(db: Database, now: datetime) -> int:
    query = (
        select(Contact)
        .where(col(Contact.erased_at) < now - ADDRESS_GRACE, col(Contact.address).is_not(None))
        .limit(BATCH)
    )
    if not db.is_sqlite:
        query = query.with_for_update(skip_locked=True)
    with db.write() as session:
        contacts = list(session.exec(query).all())
        for contact in contacts:
            assert contact.id is not None and contact.erased_at is not None
            queue_provider_records(session, contact.id, now)
            contact.address, contact.display_name = None, None
    return len(contacts)


def _unlink_erased(db: Database) -> int:
    query = (
        select(Contact)
        .where(
            col(Contact.erased_at).is_not(None),
            ~col(Contact.address_hash).startswith(ERASED_HASH_PREFIX),
        )
        .limit(BATCH)
    )
    if not db.is_sqlite:
        query = query.with_for_update(skip_locked=True)
    with db.write() as session:
        contacts = list(session.exec(query).all())
        for contact in contacts:
            contact.address_hash = unlinkable_hash()
            session.exec(
                update(InboundMessage)
                .where(col(InboundMessage.contact_id) == contact.id)
                .values(sender_hash=contact.address_hash)
            )
    return len(contacts)


BUSY_NOTICE_MARK: Final = "busy_notice"  # `Hotline.acknowledge_busy`'s, keyed by sender hash


def _forget_marks(db: Database, now: datetime) -> int:
    statement = delete(SweepMark).where(
        col(SweepMark.name) == BUSY_NOTICE_MARK, col(SweepMark.at) < now - ADDRESS_GRACE
    )
    with db.write() as session:
        return int(session.exec(statement).rowcount)


def _clear_incidents(db: Database, cutoff: datetime) -> int:
    statement = (
        update(Incident)
        .where(
            col(Incident.last_report_at) < cutoff,
            or_(
                col(Incident.label).is_not(None),
                col(Incident.note).is_not(None),
                col(Incident.lat).is_not(None),
                col(Incident.lon).is_not(None),
                func.length(col(Incident.zip)) > 3,
            ),
        )
        .values(label=None, note=None, lat=None, lon=None, zip=func.substr(col(Incident.zip), 1, 3))
    )
    with db.write() as session:
        return int(session.exec(statement).rowcount)
