"""The outbox: claim due messages under a lease, and record what happened to each one.

Every reply is an `OutboundMessage` row before anything is sent. A sender claims due rows
atomically (`pending`, or `sending` whose lease ran out) and sets them `sending` with a lease
in `next_attempt_at`; on PostgreSQL the candidates are locked with `FOR UPDATE SKIP LOCKED`,
on SQLite one `UPDATE … RETURNING` runs inside `Database.write()` (which holds the write
lock). Only the oldest open row of each contact is claimable, so a person's replies go out
in order. Delivery statuses only move forward:

    pending → sending → sent → delivered | undelivered | failed → read
    pending → suppressed (opted out)                         (terminal)
"""

from __future__ import annotations

import random
from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Final, cast

from sqlalchemy import (
    CursorResult,
    and_,
    bindparam,
    case as sql_case,
    exists,
    func,
    or_,
    select,
    update,
)
from sqlmodel import Session

from bot.channels.registry import PUSHED
from bot.db import Database
from bot.models import Contact, InboundMessage, InboundStatus, OutboundMessage, OutboundStatus

LEASE: Final = timedelta(seconds=60)
MAX_AGE: Final = timedelta(hours=72)  # a transient failure is retried this long, then `failed`
BACKOFF_BASE: Final = 2.0  # seconds before the first retry; doubles each attempt
BACKOFF_CAP: Final = 300.0
PUSHED_CHANNELS: Final = PUSHED  # the rest (web chat, terminal, calls) pull their replies

_T: Any = OutboundMessage.__table__  # type: ignore[attr-defined]
_OPEN = (OutboundStatus.pending.value, OutboundStatus.sending.value)
RANK: Final[dict[str, int]] = {
    "pending": 0,
    "sending": 1,
    "sent": 2,
    "delivered": 3,
    "undelivered": 3,
    "failed": 3,
    "read": 4,
    "suppressed": 9,
}
# Twilio's MessageStatus values mapped onto ours; the rest (receiving, received) are ignored.
PROVIDER_STATUS: Final[dict[str, str]] = {
    "accepted": "sent",
    "scheduled": "sent",
    "queued": "sent",
    "sending": "sent",
    "sent": "sent",
    "delivered": "delivered",
    "undelivered": "undelivered",
    "failed": "failed",
    "canceled": "failed",
    "read": "read",
}


@dataclass(frozen=True, slots=True)
class Claim:
    """One claimed row: what to send, to whom, and how many times it was tried."""

    id: int
    contact_id: int
    channel: str
    text: str
    options: list[dict[str, str]]
    attempts: int
    created_at: datetime
    kind: str = "reply"
    lease_until: datetime | None = None  # past this the row may be someone else's: don't send
    priority_rank: int = 2  # 0 = critical: sent before the others of the same claim


OPT_OUT_NOTICE: Final = "opt_out_notice"  # the one message sent after an opt-out


def backoff(attempts: int, *, base: float = BACKOFF_BASE, cap: float = BACKOFF_CAP) -> float:
    """Seconds to wait after the `attempts`-th failure: exponential, capped, ±20 % jitter."""
    delay = min(cap, base * 2.0 ** max(0, attempts - 1))
    return float(delay * random.uniform(0.8, 1.2))


def claim_due(
    db: Database,
    *,
    now: datetime,
    channels: Collection[str] = PUSHED_CHANNELS,
    limit: int = 20,
    lease: timedelta = LEASE,
) -> list[Claim]:
    """Atomically take up to `limit` due rows (the oldest open one per contact) for sending,
    most urgent first (a reply in a critical conversation before one about documents)."""
    earlier = _T.alias("earlier")
    blocked = exists().where(
        earlier.c.contact_id == _T.c.contact_id,
        earlier.c.id < _T.c.id,
        earlier.c.status.in_(_OPEN),
    )
    candidates = (
        select(_T.c.id)
        .where(
            _T.c.status.in_(_OPEN),
            _T.c.next_attempt_at <= now,
            _T.c.channel.in_(list(channels)),
            ~blocked,
        )
        .order_by(_T.c.priority_rank, _T.c.next_attempt_at, _T.c.id)
        .limit(limit)
    )
    if not db.is_sqlite:
        candidates = candidates.with_for_update(skip_locked=True, of=_T)
    statement = (
        update(_T)
        .where(_T.c.id.in_(candidates.scalar_subquery()))
        .values(
            status=OutboundStatus.sending.value,
            attempts=_T.c.attempts + 1,
            next_attempt_at=now + lease,
            updated_at=now,
        )
        .returning(
            _T.c.id,
            _T.c.contact_id,
            _T.c.channel,
            _T.c.text,
            _T.c.options,
            _T.c.attempts,
            _T.c.created_at,
            _T.c.kind,
            _T.c.priority_rank,
        )
    )
    with db.write() as session:
        rows = session.execute(statement).all()
    claims = [
        Claim(
            r.id,
            r.contact_id,
            r.channel,
            r.text,
            list(r.options or []),
            r.attempts,
            r.created_at,
            r.kind,
            now + lease,
            r.priority_rank,
        )
        for r in rows
    ]
    return sorted(claims, key=lambda c: (c.priority_rank, c.id))  # critical first


def mark_delivered(session: Session, outbound_ids: Collection[int], *, now: datetime) -> None:
    """A pulled channel (web chat, terminal, a call) has shown these rows to the person."""
    if outbound_ids:
        session.execute(
            update(_T)
            .where(_T.c.id.in_(list(outbound_ids)), _T.c.status == OutboundStatus.pending.value)
            .values(status=OutboundStatus.delivered.value, sent_at=now, updated_at=now)
        )


def recipient(db: Database, contact_id: int) -> tuple[str | None, bool]:
    """The contact's address (None once erased) and whether they opted out."""
    return recipients(db, [contact_id]).get(contact_id, (None, False))


def recipients(db: Database, contact_ids: Collection[int]) -> dict[int, tuple[str | None, bool]]:
    """`recipient` for many contacts at once (one query for a claimed batch)."""
    if not contact_ids:
        return {}
    contact: Any = Contact.__table__  # type: ignore[attr-defined]
    statement = select(contact.c.id, contact.c.address, contact.c.opted_out).where(
        contact.c.id.in_(sorted(set(contact_ids)))
    )
    with db.read() as session:
        return {i: (address, bool(out)) for i, address, out in session.execute(statement).all()}


def _finish(db: Database, outbound_id: int, now: datetime, **values: Any) -> bool:
    statement = (
        update(_T)
        .where(_T.c.id == outbound_id, _T.c.status == OutboundStatus.sending.value)
        .values(updated_at=now, **values)
    )
    with db.write() as session:
        return _rowcount(session.execute(statement)) > 0


def mark_sent(db: Database, outbound_id: int, *, provider_id: str | None, now: datetime) -> None:
    """The provider accepted the message; a status callback may already have moved it on."""
    if _finish(
        db,
        outbound_id,
        now,
        status=OutboundStatus.sent.value,
        provider_id=provider_id,
        sent_at=now,
        last_error=None,
    ):
        return
    # A callback got there first (keep its status), or the lease ran out and the sweep put
    # the row back in line: it was sent, so it must not go out again.
    released = _T.c.status == OutboundStatus.pending.value
    with db.write() as session:
        session.execute(
            update(_T)
            .where(_T.c.id == outbound_id, _T.c.sent_at.is_(None))
            .values(
                status=sql_case((released, OutboundStatus.sent.value), else_=_T.c.status),
                provider_id=func.coalesce(_T.c.provider_id, provider_id),
                sent_at=now,
                updated_at=now,
            )
        )


def mark_sent_many(
    db: Database, sent: Collection[tuple[int, str | None]], *, now: datetime
) -> None:
    """`mark_sent` for every (row id, provider id) that a sender finished meanwhile, in one
    transaction: one statement for the rows still `sending`, one for the rest."""
    if not sent:
        return
    rows = [{"b_id": i, "b_provider_id": p} for i, p in sent]
    with db.write() as session:
        connection = session.connection()
        connection.execute(_SENT, [{**row, "b_now": now} for row in rows])
        connection.execute(_SENT_LATE, [{**row, "b_now": now} for row in rows])


# Built once. `_SENT` is mark_sent's first update; `_SENT_LATE` its second, which changes
# nothing on a row the first one marked (its sent_at is set).
_SENT: Final = (
    update(_T)
    .where(_T.c.id == bindparam("b_id"), _T.c.status == OutboundStatus.sending.value)
    .values(
        status=OutboundStatus.sent.value,
        provider_id=bindparam("b_provider_id"),
        sent_at=bindparam("b_now"),
        last_error=None,
        updated_at=bindparam("b_now"),
    )
)
_SENT_LATE: Final = (
    update(_T)
    .where(_T.c.id == bindparam("b_id"), _T.c.sent_at.is_(None))
    .values(
        status=sql_case(
            (_T.c.status == OutboundStatus.pending.value, OutboundStatus.sent.value),
            else_=_T.c.status,
        ),
        provider_id=func.coalesce(_T.c.provider_id, bindparam("b_provider_id")),
        sent_at=bindparam("b_now"),
        updated_at=bindparam("b_now"),
    )
)


def note_template(db: Database, outbound_id: int, template: str) -> None:
    """The row went as this approved template (WhatsApp, outside the 24-hour window)."""
    with db.write() as session:
        session.execute(update(_T).where(_T.c.id == outbound_id).values(template=template))


def mark_retry(
    db: Database,
    claim: Claim,
    *,
    error: str,
    now: datetime,
    delay: float | None = None,
    base: float = BACKOFF_BASE,
    max_age: timedelta = MAX_AGE,
) -> bool:
    """Put the row back for a later attempt; past `max_age` it fails. False when it failed."""
    if now - claim.created_at > max_age:
        mark_failed(db, claim.id, error=error, now=now)
        return False
    wait = backoff(claim.attempts, base=base) if delay is None else delay
    _finish(
        db,
        claim.id,
        now,
        status=OutboundStatus.pending.value,
        last_error=error[:200],
        next_attempt_at=now + timedelta(seconds=wait),
    )
    return True


def mark_failed(db: Database, outbound_id: int, *, error: str, now: datetime) -> None:
    """Give up on the row for good (a permanent provider error)."""
    _finish(db, outbound_id, now, status=OutboundStatus.failed.value, last_error=error[:200])


def mark_suppressed(db: Database, outbound_id: int, *, reason: str, now: datetime) -> None:
    """Never send the row: the person opted out."""
    _finish(db, outbound_id, now, status=OutboundStatus.suppressed.value, last_error=reason)


def suppress_in(session: Session, outbound_id: int, *, reason: str, now: datetime) -> None:
    """`mark_suppressed` inside the caller's transaction."""
    session.execute(
        update(_T)
        .where(_T.c.id == outbound_id, _T.c.status == OutboundStatus.sending.value)
        .values(status=OutboundStatus.suppressed.value, last_error=reason, updated_at=now)
    )


def record_status(
    db: Database,
    *,
    provider_id: str,
    status: str,
    now: datetime,
    outbound_id: int | None = None,
    error_code: str | None = None,
) -> bool:
    """Apply a provider status callback, forward only; True when the row moved."""
    ours = PROVIDER_STATUS.get(status.lower())
    if ours is None:
        return False
    lower = [s for s, rank in RANK.items() if rank < RANK[ours]]
    which = _T.c.provider_id == provider_id
    if outbound_id is not None:
        which = or_(
            which,
            and_(
                _T.c.id == outbound_id,
                or_(_T.c.provider_id.is_(None), _T.c.provider_id == provider_id),
            ),
        )
    values: dict[str, Any] = {"status": ours, "updated_at": now, "provider_id": provider_id}
    if error_code:
        values["last_error"] = f"provider error {error_code}"[:200]
    with db.write() as session:
        moved = session.execute(update(_T).where(which, _T.c.status.in_(lower)).values(**values))
        return _rowcount(moved) > 0


def release_expired_leases(db: Database, *, now: datetime) -> int:
    """Put rows whose sender vanished (lease over) back to `pending`; return how many."""
    statement = (
        update(_T)
        .where(_T.c.status == OutboundStatus.sending.value, _T.c.next_attempt_at <= now)
        .values(status=OutboundStatus.pending.value, updated_at=now)
    )
    with db.write() as session:
        return _rowcount(session.execute(statement))


def pending_counts(db: Database) -> dict[tuple[str, str], int]:
    """How many rows each (channel, status) holds among the open ones."""
    statement = (
        select(_T.c.channel, _T.c.status, func.count())
        .where(_T.c.status.in_(_OPEN))
        .group_by(_T.c.channel, _T.c.status)
    )
    with db.read() as session:
        return {(c, s): int(n) for c, s, n in session.execute(statement).all()}


@dataclass(frozen=True, slots=True)
class Backlog:
    """What waits on one channel right now: messages stored and not processed yet, replies
    not handed to the provider yet, and since when the oldest of those replies waits."""

    channel: str
    messages: int
    replies: int
    oldest_reply_at: datetime | None


def channel_backlog(session: Session) -> list[Backlog]:
    """The backlog per channel (pushed channels' replies only: the web chat's and calls' wait
    for the person to fetch them), channels with nothing waiting left out."""
    inbox: Any = InboundMessage.__table__  # type: ignore[attr-defined]
    messages = {
        channel: int(count)
        for channel, count in session.execute(
            select(inbox.c.channel, func.count())
            .where(inbox.c.status == InboundStatus.pending.value)
            .group_by(inbox.c.channel)
        ).all()
    }
    replies = {
        channel: (int(count), oldest)
        for channel, count, oldest in session.execute(
            select(_T.c.channel, func.count(), func.min(_T.c.created_at))
            .where(_T.c.status.in_(_OPEN), _T.c.channel.in_(list(PUSHED_CHANNELS)))
            .group_by(_T.c.channel)
        ).all()
    }
    return [
        Backlog(channel, messages.get(channel, 0), *replies.get(channel, (0, None)))
        for channel in sorted(messages.keys() | replies.keys())
    ]


def _rowcount(result: Any) -> int:
    return int(cast(CursorResult[Any], result).rowcount or 0)
