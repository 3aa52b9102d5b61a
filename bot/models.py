"""The tables. Personal data goes through the encrypted column types of `bot.crypto`.

Data flow over these rows: a provider message lands in `InboundMessage` (the inbox, unique
on the provider's id) → processing finds or creates the `Contact` and advances its
`Conversation` → a finished report becomes a `Case` (with `CaseEvent`s as its append-only
history, optionally grouped into an `Incident`) in a `Desk`'s queue → `Staff` claim and
answer it → every reply is an `OutboundMessage` (the outbox) that a sender delivers.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, Column, Index, LargeBinary, String, UniqueConstraint, func, text
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator
from sqlmodel import Field, SQLModel

from bot.crypto import EncryptedJSON, EncryptedText, SealedJSON, keyring


def utcnow() -> datetime:
    """The current time, timezone-aware."""
    return datetime.now(UTC)


class EncryptedBytes(TypeDecorator[bytes]):
    """A binary column stored encrypted (photos, voice notes): the sealing of
    `bot.crypto.EncryptedText`, over bytes instead of text."""

    impl = LargeBinary
    cache_ok = True

    def process_bind_param(self, value: bytes | None, dialect: Dialect) -> bytes | None:
        return None if value is None else keyring().encrypt(bytes(value))

    def process_result_value(self, value: bytes | None, dialect: Dialect) -> bytes | None:
        return None if value is None else keyring().decrypt(bytes(value))


class InboundStatus(StrEnum):
    pending = "pending"  # stored, not yet processed
    processed = "processed"
    flooded = "flooded"  # over the sender's rate: stored, answered with one notice, not run
    failed = "failed"  # processing kept failing; kept for an operator


class OutboundStatus(StrEnum):
    pending = "pending"  # waiting for the sender (or for its next attempt)
    sending = "sending"  # taken by a sender
    sent = "sent"  # the provider accepted it
    delivered = "delivered"
    read = "read"
    undelivered = "undelivered"
    failed = "failed"  # gave up: permanent error or attempts exhausted
    suppressed = "suppressed"  # never sent: the person opted out


class CaseStatus(StrEnum):
    """Where a case stands; every move between these goes through `bot.lifecycle.move`."""

    intake = "intake"  # the person is still answering (or stopped); already in the queue
    open = "open"  # in the desk's queue
    claimed = "claimed"  # a staff member holds it under a lease
    waiting = "waiting"  # answered; waiting for the person
    resolved = "resolved"
    erased = "erased"  # the person's data was erased; kept only as a count


class IncidentState(StrEnum):
    unverified = "unverified"
    corroborated = "corroborated"  # independent reporters agree
    confirmed = "confirmed"  # set by staff
    false = "false"  # set by staff


class StaffRole(StrEnum):
    agent = "agent"
    supervisor = "supervisor"
    admin = "admin"


class Desk(SQLModel, table=True):
    """A consulate desk (or `central`); synced from the routing data at start."""

    id: str = Field(primary_key=True, max_length=40)
    name_es: str
    name_en: str
    city: str
    state: str = Field(max_length=2)
    timezone: str
    phone: str | None = None
    is_central: bool = False
    critical_capacity: int = 10
    active: bool = True


class Contact(SQLModel, table=True):
    """A person on one channel (a Telegram chat, a phone number, a web-chat session)."""

    __table_args__ = (UniqueConstraint("channel", "address_hash"),)

    id: int | None = Field(default=None, primary_key=True)
    channel: str = Field(max_length=16)
    address_hash: str = Field(max_length=64)
    address: str | None = Field(default=None, sa_type=EncryptedText)
    display_name: str | None = Field(default=None, sa_type=EncryptedText)
    lang: str = Field(default="es", max_length=2)
    opted_out: bool = False
    created_at: datetime = Field(default_factory=utcnow)
    last_inbound_at: datetime | None = None
    burst_started_at: datetime | None = None  # flood window: when this minute's count began
    burst_count: int = Field(default=0, sa_column_kwargs={"server_default": "0"})
    erased_at: datetime | None = None


class Conversation(SQLModel, table=True):
    """A contact's durable flow state: any worker can continue it after a restart."""

    id: int | None = Field(default=None, primary_key=True)
    contact_id: int = Field(foreign_key="contact.id", unique=True)
    flow: str | None = Field(default=None, max_length=40)
    step: str | None = Field(default=None, max_length=60)
    state: dict[str, Any] | None = Field(default=None, sa_type=EncryptedJSON)
    updated_at: datetime = Field(default_factory=utcnow, index=True)


class InboundMessage(SQLModel, table=True):
    """The inbox: a message as the provider sent it, stored before we answer 2xx."""

    __table_args__ = (
        UniqueConstraint("channel", "provider_id"),
        Index("ix_inbound_pending", "status", "received_at"),
        # A person's pending messages: what the inbox writer reads (and locks) per batch.
        Index("ix_inbound_sender_status", "sender_hash", "status"),
    )

    id: int | None = Field(default=None, primary_key=True)
    channel: str = Field(max_length=16)
    provider_id: str = Field(max_length=80)
    sender_hash: str = Field(max_length=64, index=True)
    sender: str = Field(sa_type=EncryptedText)
    text: str = Field(default="", sa_type=EncryptedText)
    payload: dict[str, Any] | None = Field(default=None, sa_type=EncryptedJSON)
    truncated_from: int | None = None  # original length when the text was cut
    received_at: datetime = Field(default_factory=utcnow)
    status: InboundStatus = Field(default=InboundStatus.pending, sa_type=String(16))
    attempts: int = 0
    processed_at: datetime | None = None
    contact_id: int | None = Field(default=None, foreign_key="contact.id", index=True)
    error: str | None = Field(default=None, max_length=200)  # exception class only: no data
    # The case the message belongs to, linked when it is processed: a case's transcript is
    # the messages linked to it, never another case's.
    case_id: int | None = Field(default=None, foreign_key="case.id", index=True)


class OutboundMessage(SQLModel, table=True):
    """The outbox: every reply and staff message, stored before a sender delivers it."""

    __table_args__ = (
        UniqueConstraint("inbound_id", "seq"),
        Index("ix_outbound_due", "status", "next_attempt_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    contact_id: int = Field(foreign_key="contact.id", index=True)
    channel: str = Field(max_length=16)
    inbound_id: int | None = Field(default=None, foreign_key="inboundmessage.id")
    seq: int = 0  # position among the replies to one inbound message
    # "reply" (the bot), "staff", "alert", or "opt_out_notice": the one message an opted-out
    # person still receives, confirming the opt-out.
    kind: str = Field(default="reply", max_length=24, sa_column_kwargs={"server_default": "reply"})
    # 0 = critical … 3 = low, as cases: a 911 notice or a reply in a critical conversation
    # goes out before a reply about documents when the provider's pace is the bottleneck.
    priority_rank: int = Field(default=2, sa_column_kwargs={"server_default": "2"})
    case_id: int | None = Field(default=None, foreign_key="case.id", index=True)
    text: str = Field(sa_type=EncryptedText)
    # The choices offered with the message: sealed, since they tell which question the
    # person reached (stored as JSON, as when it held them in clear).
    options: list[dict[str, str]] = Field(default_factory=list, sa_column=Column(SealedJSON))
    status: OutboundStatus = Field(default=OutboundStatus.pending, sa_type=String(16))
    attempts: int = 0
    next_attempt_at: datetime = Field(default_factory=utcnow)
    provider_id: str | None = Field(default=None, max_length=80, index=True)
    last_error: str | None = Field(default=None, max_length=200)
    created_at: datetime = Field(default_factory=utcnow)
    sent_at: datetime | None = None
    updated_at: datetime = Field(default_factory=utcnow)
    # Sent as this approved WhatsApp template (a Content SID, HX…): the 24-hour window was
    # closed. None for a free-form message.
    template: str | None = Field(default=None, max_length=40)


class Incident(SQLModel, table=True):
    """Raid reports close in place and time, grouped so staff see one event."""

    id: int | None = Field(default=None, primary_key=True)
    desk_id: str = Field(foreign_key="desk.id", index=True)
    zip: str | None = Field(default=None, max_length=5)
    lat: float | None = None  # rounded to about 1 km
    lon: float | None = None
    label: str | None = Field(default=None, sa_type=EncryptedText)
    first_report_at: datetime = Field(default_factory=utcnow)
    last_report_at: datetime = Field(default_factory=utcnow, index=True)
    report_count: int = 0
    reporter_count: int = 0
    state: IncidentState = Field(default=IncidentState.unverified, sa_type=String(16))
    note: str | None = Field(default=None, sa_type=EncryptedText)
    verified_by: int | None = Field(default=None, foreign_key="staff.id")
    verified_at: datetime | None = None


class Case(SQLModel, table=True):
    """A report in a desk's queue: what happened, how urgent, and who is handling it."""

    __table_args__ = (Index("ix_case_queue", "desk_id", "status", "priority_rank", "sla_due_at"),)

    id: int | None = Field(default=None, primary_key=True)
    ref: str = Field(max_length=9, unique=True)  # HL-XXXXXX
    contact_id: int | None = Field(default=None, foreign_key="contact.id", index=True)
    channel: str = Field(max_length=16)
    lang: str = Field(default="es", max_length=2)
    desk_id: str = Field(foreign_key="desk.id")
    also_central: bool = False  # critical and the desk is closed or over capacity
    flow: str = Field(max_length=40)
    intent: str = Field(max_length=16)
    priority: str = Field(max_length=8)
    priority_rank: int = Field(default=3)  # 0 = critical … 3 = low; the queue sorts on it
    # Why this intent, priority and desk: rule and cue names, never the person's words;
    # sealed all the same (they still tell what happened: children alone, an arrest).
    reasons: list[str] = Field(default_factory=list, sa_column=Column(SealedJSON))
    status: CaseStatus = Field(default=CaseStatus.open, sa_type=String(16), index=True)
    answers: dict[str, Any] | None = Field(default=None, sa_type=EncryptedJSON)
    summary: str | None = Field(default=None, sa_type=EncryptedText)  # the person's own words
    location_label: str | None = Field(default=None, sa_type=EncryptedText)
    location_confidence: str | None = Field(default=None, max_length=8)
    zip: str | None = Field(default=None, max_length=5)
    lat: float | None = None  # rounded to about 1 km
    lon: float | None = None
    incident_id: int | None = Field(default=None, foreign_key="incident.id", index=True)
    # A later report about the same detained person or the same raid points at the first
    # report's case; the queue shows only cases without a parent, with their linked reports.
    parent_id: int | None = Field(default=None, foreign_key="case.id", index=True)
    person_hash: str | None = Field(default=None, max_length=64, index=True)
    report_count: int = 1  # this report plus the reports linked to it
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)
    sla_due_at: datetime | None = None
    first_response_at: datetime | None = None
    claimed_by: int | None = Field(default=None, foreign_key="staff.id")
    lease_expires_at: datetime | None = None
    escalated_at: datetime | None = None
    resolved_at: datetime | None = None
    outcome: str | None = Field(default=None, max_length=40)
    followup_sent_at: datetime | None = None  # "did you get the help you needed?"
    erased_at: datetime | None = None
    # While the person is still answering: the flow step reached (None once intake ends).
    intake_step: str | None = Field(default=None, max_length=40)
    needs_review: bool = False  # triage was unsure: staff check intent and priority first


# The queue in its own order (bot.staff.queue.QUEUE_ORDER) over the cases that can be
# claimed: a claim takes the first unlocked entry instead of sorting the desk's queue. The
# statuses are written out: the claim states them as literals, so the planner can use it.
_CLAIMABLE_CASE = text("parent_id IS NULL AND status IN ('intake', 'open')")
Index(
    "ix_case_claimable",
    Case.__table__.c.desk_id,  # type: ignore[attr-defined]
    Case.__table__.c.priority_rank,  # type: ignore[attr-defined]
    Case.__table__.c.needs_review.desc(),  # type: ignore[attr-defined]
    Case.__table__.c.sla_due_at,  # type: ignore[attr-defined]
    Case.__table__.c.created_at,  # type: ignore[attr-defined]
    Case.__table__.c.id,  # type: ignore[attr-defined]
    postgresql_where=_CLAIMABLE_CASE,
    sqlite_where=_CLAIMABLE_CASE,
)


class CaseEvent(SQLModel, table=True):
    """One entry of a case's append-only history (never updated, never deleted)."""

    id: int | None = Field(default=None, primary_key=True)
    case_id: int = Field(foreign_key="case.id", index=True)
    at: datetime = Field(default_factory=utcnow)
    kind: str = Field(max_length=24)  # created, message, reply, note, claimed, transferred, …
    actor: str = Field(max_length=40)  # "person", "system" or "staff:<id>"
    data: dict[str, Any] | None = Field(default=None, sa_type=EncryptedJSON)


class Staff(SQLModel, table=True):
    """A consular staff member: desk, role, hashed API token and password."""

    # Staff log in by name, case-insensitively: one account per name.
    __table_args__ = (Index("ux_staff_name_lower", func.lower(text("name")), unique=True),)

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=120)
    desk_id: str = Field(foreign_key="desk.id", index=True)
    role: StaffRole = Field(default=StaffRole.agent, sa_type=String(16))
    token_hash: str = Field(max_length=64, unique=True)
    # The API token stops working at this time (None: no usable token); see `bot.staff.auth`.
    token_expires_at: datetime | None = None
    password_hash: str | None = Field(default=None, max_length=200)
    active: bool = True
    created_at: datetime = Field(default_factory=utcnow)
    # Logout, a password change and deactivation bump it: every dashboard session cookie
    # carrying an older epoch is refused at once (`bot.staff.session`).
    session_epoch: int = Field(default=0, sa_column_kwargs={"server_default": "0"})
    # Holds legal-aid consultations: sees the deportation-risk screening answers.
    legal_aid: bool = Field(default=False, sa_column_kwargs={"server_default": "0"})


class LoginThrottle(SQLModel, table=True):
    """Failed dashboard logins counted per client address, per account name and per trusted
    browser (`bot.staff.throttle`), shared by every process. The key is a kind and a keyed
    hash: no address or name is stored."""

    key: str = Field(primary_key=True, max_length=80)
    failures: int = 0
    last_failure_at: datetime = Field(default_factory=utcnow, index=True)
    blocked_until: datetime | None = None


class AuditEntry(SQLModel, table=True):
    """Who saw or did what, when: append-only, never updated, never deleted."""

    id: int | None = Field(default=None, primary_key=True)
    at: datetime = Field(default_factory=utcnow, index=True)
    staff_id: int | None = Field(default=None, foreign_key="staff.id", index=True)
    action: str = Field(max_length=32)  # view, claim, reply, note, transfer, resolve, login, …
    case_id: int | None = Field(default=None, foreign_key="case.id", index=True)
    incident_id: int | None = Field(default=None, foreign_key="incident.id")
    desk_id: str | None = Field(default=None, max_length=40)
    detail: dict[str, Any] | None = Field(default=None, sa_column=Column(JSON))  # no personal data


class SweepMark(SQLModel, table=True):
    """A sweep's once-only marker (e.g. the digest for one desk and day), so several
    processes running the same sweep do the work once: inserting the mark is the claim."""

    __table_args__ = (UniqueConstraint("name", "key"),)

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=40)
    key: str = Field(max_length=120)
    at: datetime = Field(default_factory=utcnow)


class Media(SQLModel, table=True):
    """A photo or voice note a person sent as evidence, fetched by the service from the
    provider and kept encrypted here (staff see it through the service, never a provider
    link). Deleted with the person's data."""

    id: int | None = Field(default=None, primary_key=True)
    inbound_id: int | None = Field(default=None, foreign_key="inboundmessage.id", index=True)
    case_id: int | None = Field(default=None, foreign_key="case.id", index=True)
    contact_id: int | None = Field(default=None, foreign_key="contact.id", index=True)
    channel: str = Field(max_length=16)
    content_type: str = Field(max_length=80)
    size: int = 0
    data: bytes | None = Field(default=None, sa_type=EncryptedBytes)
    # Where the provider still holds it (Twilio: "Messages/MM…/Media/ME…"), deleted there
    # with the person's data; None for Telegram (its files cannot be deleted by a bot).
    provider_ref: str | None = Field(default=None, sa_type=EncryptedText)
    created_at: datetime = Field(default_factory=utcnow)


class ProviderErasure(SQLModel, table=True):
    """Personal data held at a provider (a voicemail recording, a message's media at
    Twilio) that an erasure asked to delete there. A sender deletes it and removes the row;
    a failure is retried later."""

    id: int | None = Field(default=None, primary_key=True)
    provider: str = Field(max_length=16)  # "twilio"
    resource: str = Field(sa_type=EncryptedText)  # e.g. "Recordings/RE…", under the account
    created_at: datetime = Field(default_factory=utcnow)
    next_attempt_at: datetime = Field(default_factory=utcnow, index=True)
    attempts: int = 0
    last_error: str | None = Field(default=None, max_length=200)


class AppointmentStatus(StrEnum):
    booked = "booked"
    held = "held"  # the consultation took place
    no_show = "no_show"
    cancelled = "cancelled"  # by the person, or moved to another slot


class SlotPattern(SQLModel, table=True):
    """A desk's weekly consultation availability, in its local time: every `weekday`
    (0 = Monday) from `start` to `end`, one slot each `minutes`. `bot.appointments.publish`
    turns it into `Slot` rows for the weeks ahead."""

    id: int | None = Field(default=None, primary_key=True)
    desk_id: str = Field(foreign_key="desk.id", index=True)
    weekday: int
    start: str = Field(max_length=5)  # "HH:MM"
    end: str = Field(max_length=5)
    minutes: int = 30
    created_at: datetime = Field(default_factory=utcnow)


class SlotClosure(SQLModel, table=True):
    """An exception to the weekly availability: the desk gives no consultations that
    local day (a holiday, a mobile consulate)."""

    __table_args__ = (UniqueConstraint("desk_id", "day"),)

    id: int | None = Field(default=None, primary_key=True)
    desk_id: str = Field(foreign_key="desk.id")
    day: date
    created_at: datetime = Field(default_factory=utcnow)


class Slot(SQLModel, table=True):
    """One consultation time a desk offers (central's are remote: by phone or video)."""

    __table_args__ = (UniqueConstraint("desk_id", "starts_at"),)

    id: int | None = Field(default=None, primary_key=True)
    desk_id: str = Field(foreign_key="desk.id", index=True)
    starts_at: datetime = Field(index=True)
    minutes: int = 30
    remote: bool = False
    created_at: datetime = Field(default_factory=utcnow)
    closed_at: datetime | None = None  # withdrawn by the desk: offered to nobody


class Appointment(SQLModel, table=True):
    """A person's consultation in a slot. At most one live appointment per slot and per
    case: two partial unique indexes, so two people choosing the last slot at once cannot
    both get it, whichever process they reach."""

    __table_args__ = (
        Index(
            "ux_appointment_slot_live",
            "slot_id",
            unique=True,
            sqlite_where=text("status <> 'cancelled'"),
            postgresql_where=text("status <> 'cancelled'"),
        ),
        Index(
            "ux_appointment_case_live",
            "case_ref",
            unique=True,
            sqlite_where=text("status = 'booked'"),
            postgresql_where=text("status = 'booked'"),
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    slot_id: int = Field(foreign_key="slot.id", index=True)
    case_ref: str = Field(max_length=9, index=True)
    contact_id: int | None = Field(default=None, foreign_key="contact.id", index=True)
    status: AppointmentStatus = Field(default=AppointmentStatus.booked, sa_type=String(16))
    booked_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)
    reminded_day_at: datetime | None = None  # the reminder 24 hours before
    reminded_hours_at: datetime | None = None  # the reminder 2 hours before


class RateCount(SQLModel, table=True):
    """How many requests one rate-limit key made in one fixed minute, shared by every
    process (`bot.channels.web.limits`). The bucket is a purpose and a keyed hash of the
    client's address (never the address itself), or a purpose and `*` for everyone; rows of
    past minutes are deleted as soon as a new minute starts."""

    bucket: str = Field(primary_key=True, max_length=64)
    minute: int = Field(primary_key=True, index=True)  # minutes since the Unix epoch
    count: int = 0
