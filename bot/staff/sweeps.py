"""The staff side's scheduled sweeps: plain functions over rows, given `now`.

Each is idempotent and safe in several processes: candidate cases are locked with
`FOR UPDATE SKIP LOCKED` on PostgreSQL (SQLite runs them under `Database.write()`'s lock)
and every change also clears the condition that selected it (`escalated_at`,
`followup_sent_at`, …); the daily digest claims its desk and day by inserting a `SweepMark`.

- `escalate_breached`: first-response target passed (in intake, queued or held) → one
  priority level up, shown to central, one alert message listing the cases.
- `release_case_leases`: claims whose lease ran out go back to the queue.
- `send_followups`: once, a day after resolution, ask the person whether they got help.
- `send_daily_digests`: each desk's figures once per local day, to the alert contacts.
- `purge_expired` (bot.staff.retention): erase personal data past the retention period.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Final
from zoneinfo import ZoneInfo

from sqlmodel import Session, col, select
from sqlmodel.sql.expression import SelectOfScalar

from bot import i18n, lifecycle
from bot.config import Settings
from bot.contacts import get_or_create_contact
from bot.db import Database
from bot.engine.model import Reply
from bot.erasure import ERASED_OUTCOME
from bot.marks import claim_mark
from bot.models import Case, CaseStatus, Contact, Desk
from bot.outgoing import queue_replies
from bot.staff.actions import as_lang, raise_priority
from bot.staff.queue import release_expired_leases
from bot.staff.retention import purge_expired
from bot.staff.views import desk_figures

logger = logging.getLogger(__name__)

BATCH: Final = 200
FOLLOWUP_AFTER: Final = timedelta(hours=24)
FOLLOWUP_UNTIL: Final = timedelta(days=7)  # older resolutions get no follow-up any more
DIGEST_HOUR: Final = 8  # local time at the desk
ALERT_LANG: Final = "es"
MAX_REFS_PER_ALERT: Final = 20


@dataclass(frozen=True, slots=True)
class AlertTarget:
    """Where staff alerts go: a Telegram chat or an SMS number."""

    channel: str
    address: str


def alert_targets(settings: Settings) -> list[AlertTarget]:
    """The configured alert contacts (HOTLINE_ALERT_TELEGRAM_CHAT_ID, HOTLINE_ALERT_SMS_NUMBER)."""
    targets = []
    if settings.alert_telegram_chat_id:
        targets.append(AlertTarget("telegram", settings.alert_telegram_chat_id))
    if settings.alert_sms_number:
        targets.append(AlertTarget("sms", settings.alert_sms_number))
    return targets


def _alert(session: Session, targets: Sequence[AlertTarget], text: str, now: datetime) -> int:
    """Store one alert message per target in the outbox; return how many rows."""
    count = 0
    for target in targets:
        contact = get_or_create_contact(session, target.channel, target.address, now, ALERT_LANG)
        assert contact.id is not None
        count += len(
            queue_replies(
                session,
                contact_id=contact.id,
                channel=target.channel,
                replies=[Reply(text)],
                now=now,
                kind="alert",
            )
        )
    return count


def _locked(db: Database, query: SelectOfScalar[Case]) -> SelectOfScalar[Case]:
    """The query with FOR UPDATE SKIP LOCKED on PostgreSQL (SQLite holds the write lock)."""
    return query if db.is_sqlite else query.with_for_update(skip_locked=True)


def escalate_breached(db: Database, *, now: datetime, alerts: Sequence[AlertTarget] = ()) -> int:
    """Escalate open cases past their first-response target; return how many."""
    query = (
        select(Case)
        .where(
            col(Case.parent_id).is_(None),
            col(Case.erased_at).is_(None),
            col(Case.status).in_((*lifecycle.CLAIMABLE, CaseStatus.claimed)),
            col(Case.first_response_at).is_(None),
            col(Case.escalated_at).is_(None),
            col(Case.sla_due_at) < now,
        )
        .order_by(col(Case.priority_rank), col(Case.sla_due_at))
        .limit(BATCH)
    )
    with db.write() as session:
        cases = list(session.exec(_locked(db, query)).all())
        for case in cases:
            before = case.priority
            raise_priority(case)
            case.escalated_at, case.also_central, case.updated_at = now, True, now
            lifecycle.record(
                session,
                case,
                "escalated",
                "system",
                now,
                {"from": before, "to": case.priority, "why": "first response overdue"},
            )
        if cases and alerts:
            refs = [f"{c.ref} ({c.desk_id}, {c.priority})" for c in cases[:MAX_REFS_PER_ALERT]]
            more = " …" if len(cases) > MAX_REFS_PER_ALERT else ""
            text = i18n.t(
                "staff.alert.breached",
                as_lang(ALERT_LANG),
                count=len(cases),
                refs=", ".join(refs) + more,
            )
            _alert(session, alerts, text, now)
    if cases:
        logger.info("escalated %s case(s) past their first-response target", len(cases))
    return len(cases)


def release_case_leases(db: Database, *, now: datetime) -> int:
    """Return claimed cases whose lease ran out to their queue; return how many."""
    return release_expired_leases(db, now=now)


def send_followups(db: Database, *, now: datetime, after: timedelta = FOLLOWUP_AFTER) -> int:
    """Ask once, `after` a resolution, whether the person got the help they needed."""
    query = (
        select(Case)
        .where(
            Case.status == CaseStatus.resolved,
            col(Case.followup_sent_at).is_(None),
            col(Case.parent_id).is_(None),
            col(Case.erased_at).is_(None),
            col(Case.resolved_at) <= now - after,
            col(Case.resolved_at) > now - FOLLOWUP_UNTIL,
        )
        .order_by(col(Case.resolved_at))
        .limit(BATCH)
    )
    sent = 0
    with db.write() as session:
        for case in session.exec(_locked(db, query)).all():
            case.followup_sent_at = now
            if case.outcome in ("duplicate", ERASED_OUTCOME) or case.contact_id is None:
                continue
            contact = session.get(Contact, case.contact_id)
            if contact is None or contact.address is None or contact.opted_out:
                continue
            assert contact.id is not None
            text = i18n.t("staff.followup", as_lang(case.lang), ref=case.ref)
            queue_replies(
                session,
                contact_id=contact.id,
                channel=contact.channel,
                replies=[Reply(text)],
                now=now,
                case_id=case.id,
            )
            lifecycle.record(session, case, "followup", "system", now)
            sent += 1
    if sent:
        logger.info("sent %s follow-up(s)", sent)
    return sent


def send_daily_digests(
    db: Database, *, now: datetime, alerts: Sequence[AlertTarget], hour: int = DIGEST_HOUR
) -> int:
    """Once per desk and local day (from `hour` on), send the desk's figures; return how many
    desks got one."""
    if not alerts:
        return 0
    with db.read() as session:
        desks = list(session.exec(select(Desk).where(col(Desk.active).is_(True))).all())
    sent = 0
    for desk in desks:
        local = now.astimezone(ZoneInfo(desk.timezone))
        if local.hour < hour:
            continue
        with db.write() as session:
            if not claim_mark(session, "daily_digest", f"{desk.id}:{local.date()}", now):
                continue
            figures = desk_figures(session, [desk.id], now)[0]
            queued = figures.intake + figures.open + figures.claimed
            busy = queued + figures.waiting + figures.resolved_24h
            if not busy:
                continue
            text = i18n.t(
                "staff.alert.digest",
                as_lang(ALERT_LANG),
                desk=desk.id,
                open=queued,
                breached=figures.breached,
                resolved=figures.resolved_24h,
            )
            _alert(session, alerts, text, now)
            sent += 1
    return sent


__all__ = [
    "AlertTarget",
    "alert_targets",
    "escalate_breached",
    "purge_expired",
    "release_case_leases",
    "send_daily_digests",
    "send_followups",
]
