"""The one orchestrator: stored inbound messages in, replies in the outbox out.

`Hotline.process_batch` runs stored inbox rows through the pure engine inside the caller's
write transaction (the inbox writer's, `bot.channels.pipeline`, which stores them in the
same transaction) and applies what the engine decided — state, cases, replies — so a crash
leaves either all of a batch or none of it (and the next start or the inbox sweep runs the
messages again). `Hotline.process` is a batch of one in a transaction of its own, and counts
a failed attempt. Flows, catalogs and desks are loaded once, in `Hotline.load`.

The hot path is SQLAlchemy Core: a handful of prebuilt statements per batch (the people and
their conversations, read and locked in one query; their pending messages in one; the
inbox, contact, conversation and outbox rows written with one multi-row statement each).
The cases' service (`bot.cases`), the consultation desk and the rarer effects keep the ORM
session, which shares the transaction and is flushed after each message.

Order and exactly once, across processes: a batch first locks its people's contact rows (in
id order, `FOR NO KEY UPDATE` on PostgreSQL; SQLite has one writer), then reads *all* their
pending messages and runs them oldest first. Every message is processed under its person's
lock and only while `pending`, and it leaves `pending` in the transaction that writes its
effects: no message runs twice, and none runs before an older pending message of the same
person — whichever process stored it.
"""

from __future__ import annotations

import dataclasses
import functools
import logging
import re
import traceback
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from types import MappingProxyType
from typing import Any, Final

from sqlalchemy import bindparam, insert, or_, select as core_select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session, col, select

from bot import i18n, lifecycle
from bot.appointments import ConsultationDesk
from bot.cases import (
    Report,
    case_in_conversation,
    find_case,
    latest_open_case,
    link_at_end,
    link_waiting,
    reopen_on_message,
    save_report,
    sync_desks,
    withdraw_report,
)
from bot.channels.registry import phone_number, reachable_by_writing
from bot.config import PROJECT_ROOT, Settings
from bot.contacts import get_or_create_contact
from bot.db import Database
from bot.engine import advance, load_flows
from bot.engine.commands import command_of
from bot.engine.extract import danger
from bot.engine.flows import Flows
from bot.engine.model import (
    AttachEvidence,
    Context,
    ConversationState,
    EraseData,
    Hints,
    Inbound,
    LookupStatus,
    Media,
    Reply,
    RequestHuman,
    SaveReport,
)
from bot.engine.refs import new_ref
from bot.engine.text import normalize
from bot.engine.walk import report_text
from bot.erasure import erase_contact
from bot.inbox import sender_key, sender_keys
from bot.lifecycle import record as record_event
from bot.models import (
    Case,
    CaseStatus,
    Contact,
    Conversation,
    InboundMessage,
    InboundStatus,
    SweepMark,
    utcnow,
)
from bot.outgoing import insert_outbox, outbox_rows, queue_replies
from bot.routing import (
    DeskDirectory,
    PlaceReading,
    load_desks,
    place_states,
    read_place,
    resolve_location,
)
from bot.sla import SlaTargets
from bot.triage import classify
from bot.types import Lang, as_channel, as_lang

logger = logging.getLogger(__name__)

_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u200b-\u200f\u202a-\u202e\u2066-\u2069]")
MAX_ATTEMPTS = 3
BUSY_NOTICE_WINDOW = timedelta(minutes=10)


@dataclass(frozen=True, slots=True)
class FloodLimits:
    """How many messages one sender may have processed per minute."""

    per_sender_per_minute: int = 20


def clean_text(text: str) -> str:
    """Normalise and strip control characters (newlines and tabs stay)."""
    return _CONTROL.sub("", unicodedata.normalize("NFC", text)).strip()


def hints_for(text: str, phone: str | None = None) -> Hints:
    """What free text says: intent and priority from triage, a place from routing — a town
    that several states share read in the state of the writer's ``phone`` (area code)."""
    hints = _hints(text)
    if phone is None:
        return hints
    place = _place_prefill(read_place(text, phone=phone))
    if place is None or place == hints.prefill.get("location"):
        return hints  # the phone only ever chooses among towns the text names
    prefill = MappingProxyType({**hints.prefill, "location": place})
    return dataclasses.replace(hints, prefill=prefill)


def _place_prefill(reading: PlaceReading) -> str | None:
    """The place a first message gives its report: "Hillsboro, OR" — or the bare town when
    several states have it and nothing said which, for the report to ask which state."""
    if reading.town is not None:
        return reading.town
    return reading.location.label if reading.location is not None else None


@functools.lru_cache(maxsize=4096)
def _hints(text: str) -> Hints:
    """The hints of a text alone (pure, so kept for the last few thousand texts: in a surge
    the writer reads a message for urgency before the engine reads it again)."""
    triage = classify(text)
    prefill: dict[str, object] = {}
    place = _place_prefill(read_place(text))
    if place is not None:
        prefill["location"] = place
    return Hints(
        intent=triage.intent,
        priority=triage.priority,
        prefill=MappingProxyType(prefill),  # shared by every reader of the cached hints
        sure=not triage.needs_review,
    )


class Hotline:
    """Flows, catalogs and desks loaded once; processes stored inbound messages."""

    def __init__(self, *, flows: Flows, desks: DeskDirectory, settings: Settings) -> None:
        self.flows = flows
        self.desks = desks
        self.settings = settings
        self.expire_after = timedelta(hours=settings.conversation_timeout_hours)
        self.flood = FloodLimits(settings.flood_per_sender_per_minute)
        self.sla = SlaTargets(
            critical_minutes=settings.sla_critical_minutes,
            high_minutes=settings.sla_high_minutes,
            normal_business_days=settings.sla_normal_business_days,
            low_business_days=settings.sla_low_business_days,
        )

    @classmethod
    def load(cls, settings: Settings) -> Hotline:
        """Load and validate flows, catalogs and desks (raises with file and reason)."""
        i18n.catalog()
        hints_for("77036 Houston")  # load the ZIP data now, not on the first person's message
        resolve_location(phone="+17135550100")  # and the area codes (a report without a place)
        return cls(flows=load_flows(PROJECT_ROOT / "flows"), desks=load_desks(), settings=settings)

    def prepare(self, db: Database) -> None:
        """Bring the desk table in line with the routing data (run once at start)."""
        with db.write() as session:
            sync_desks(session, self.desks)

    def process(self, db: Database, inbound_id: int, *, now: datetime | None = None) -> list[int]:
        """Run one stored message (and any older pending one of the same person) in a
        transaction of its own; return the ids of its replies in the outbox. A failure is
        counted on the message, which stays pending for the sweep until the last attempt."""
        now = now or utcnow()
        try:
            with db.write() as session:
                return self.process_batch(session, [inbound_id], now=now).get(inbound_id, [])
        except Exception as exc:
            logger.error(
                "processing inbound %s failed: %s\n%s",
                inbound_id,
                type(exc).__name__,
                "".join(traceback.format_tb(exc.__traceback__)),
            )
            with db.write() as session:
                return self._record_failure(session, inbound_id, type(exc).__name__, now)

    def process_pending(
        self,
        db: Database,
        *,
        now: datetime | None = None,
        older_than: timedelta = timedelta(seconds=30),
        limit: int = 200,
    ) -> int:
        """Process stored messages still pending after `older_than` (crash recovery)."""
        now = now or utcnow()
        with db.read() as session:
            ids = session.exec(
                select(InboundMessage.id)
                .where(
                    InboundMessage.status == InboundStatus.pending,
                    col(InboundMessage.received_at) <= now - older_than,
                )
                .order_by(col(InboundMessage.id))
                .limit(limit)
            ).all()
        for inbound_id in ids:
            assert inbound_id is not None
            self.process(db, inbound_id, now=now)
        return len(ids)

    def process_batch(
        self,
        session: Session,
        inbound_ids: Sequence[int],
        *,
        now: datetime,
        notify: Sequence[int] = (),
    ) -> dict[int, list[int]]:
        """Run the stored messages `inbound_ids` — with every other pending message of the
        same people, oldest first — inside the caller's write transaction; send the surge
        notice for the stored messages in `notify` (they wait for a later batch). Return the
        outbox ids of each message processed, in send order."""
        if notify:
            self._busy_notices(session, notify, now)
        if not inbound_ids:
            return {}
        connection = session.connection()
        dialect = connection.dialect.name
        heads = connection.execute(_HEADS, {"ids": list(inbound_ids)}).all()
        if not heads:
            return {}
        people, known = _lock_people(session, heads, now)
        hashes = sorted({key for _, key in known})
        pending = connection.execute(_PENDING[dialect], {"hashes": hashes}).all()
        batch = _Batch(refs=_fresh_refs(session, len(pending)), people=list(people.values()))
        link_at_end(session)
        for row in pending:
            who = known.get((row.channel, row.sender_hash))
            person = people.get(who) if who is not None else None
            if person is None:
                continue  # another channel's sender with the same hash: not in this batch
            message = _Message(row.id, row.channel, row.sender, row.text, row.payload or {})
            batch.messages.append(message)
            with session.no_autoflush:  # read everything first, write once at the end
                self._step(session, batch, message, person, now)
            session.flush()  # this message's case changes, before the next message reads
        link_waiting(session, now)
        return batch.write(session)

    def _step(
        self, session: Session, batch: _Batch, message: _Message, person: _Person, now: datetime
    ) -> None:
        """One message of the batch: flood window, a reply to staff, or the engine's turn."""
        payload = message.payload
        if person.erased_at is not None:  # erased earlier and writing again: a fresh start
            person.address, person.erased_at, person.restored = message.sender, None, True
        message.contact_id, message.processed_at = person.id, now
        if person.opted_out and reachable_by_writing(person.channel):
            person.opted_out = False  # e.g. unblocked the Telegram bot and wrote again
        burst = self._count_burst(person, now)
        person.last_inbound_at = now
        if burst > self.flood.per_sender_per_minute:
            message.status = InboundStatus.flooded
            if burst <= self.flood.per_sender_per_minute + 1:  # one notice per flood
                notice = Reply(i18n.t("common.too_fast", as_lang(person.lang)))
                batch.reply(message, person, [notice], now)
            return
        state = ConversationState.from_dict(person.state or {"lang": person.lang})
        person.touched, person.conversation_at = True, now
        talking = self._talking_with_staff(session, batch, person.id, state, message, now)
        if talking is not None:  # a reply to staff: it goes to the case, not the menu
            reopen_on_message(session, person.id, now)
            record_event(session, talking, "message", "person", now, {"inbound_id": message.id})
            message.status, message.case_id = InboundStatus.processed, talking.id
            forwarded = Reply(i18n.t("case.forwarded", state.lang, ref=talking.ref))
            batch.reply(message, person, [forwarded], now, render_as=payload.get("render_as"))
            return
        step = advance(
            self.flows,
            state,
            _inbound(message, payload),
            Context(
                now=now,
                new_ref=batch.new_ref(),
                classify=functools.partial(
                    hints_for, phone=phone_number(person.channel, message.sender)
                ),
                places=functools.partial(
                    place_states, phone=phone_number(person.channel, message.sender)
                ),
                expire_after=self.expire_after,
                appointments=ConsultationDesk(session, person.id, now),
            ),
        )
        replies = list(step.replies)
        case_id: int | None = None
        if step.effects:
            batch.cases_changed.add(person.id)
        for effect in step.effects:
            more, about = self._apply(session, batch, effect, person, message, step.state, now)
            replies.extend(more)
            case_id = about if about is not None else case_id
        if case_id is None:  # an answer in a report that changed nothing on its case
            case_id = batch.case_id(session, step.state.case_ref or state.case_ref)
        if _erased_in_step(person, now):
            person.state, person.flow, person.step = None, None, None
        else:
            person.state = step.state.to_dict()
            person.flow, person.step = step.state.flow, step.state.step
        person.lang = step.state.lang
        message.status, message.case_id = InboundStatus.processed, case_id
        batch.reply(
            message,
            person,
            replies,
            now,
            render_as=payload.get("render_as"),
            critical=step.state.critical,  # 911 first, and sent before other replies
        )

    def urgent(self, text: str) -> bool:
        """Whether a message reads as critical: in a surge the inbox writer runs those first
        (critical first), so a person in danger is not in line behind questions."""
        return hints_for(clean_text(text)).priority == "critical"

    def acknowledge_busy(
        self, db: Database, inbound_id: int, *, now: datetime | None = None
    ) -> list[int]:
        """In a surge: tell the person at once that their message is safe and in line.

        Sent at most once per person per ten minutes, before their message is processed;
        the message itself stays in the inbox and is processed in its turn.
        """
        now = now or utcnow()
        with db.write() as session:
            return self._busy_notices(session, [inbound_id], now)

    def _busy_notices(
        self, session: Session, inbound_ids: Sequence[int], now: datetime
    ) -> list[int]:
        """`acknowledge_busy` for stored messages, inside the caller's transaction and a few
        statements for all of them (in a surge, every new writer's message): one mark per
        person and ten minutes (a `SweepMark`, whose insert is the claim), their contacts, the
        notices. Returns the notices' outbox ids."""
        connection = session.connection()
        dialect = connection.dialect.name
        heads = connection.execute(_HEADS, {"ids": list(inbound_ids)}).all()
        window = int(now.timestamp() // BUSY_NOTICE_WINDOW.total_seconds())
        keyed = {f"{h.channel}:{h.sender_hash}:{window}": h for h in heads}
        if not keyed:
            return []
        marks = [{"name": "busy_notice", "key": key, "at": now} for key in keyed]
        claimed = connection.execute(_MARK_NEW[dialect], marks).scalars().all()
        told = [keyed[key] for key in claimed]
        if not told:
            return []
        people, _ = _lock_people(session, told, now, lock=False)  # only their address
        rows = []
        for head in told:
            person = people[(head.channel, head.sender)]
            render_as = (head.payload or {}).get("render_as")
            rows += outbox_rows(
                contact_id=person.id,
                channel=person.channel,
                replies=[Reply(i18n.t("common.busy", as_lang(person.lang)))],
                now=now,
                render_as=str(render_as) if render_as else None,
            )
        return insert_outbox(session, rows)

    def _talking_with_staff(
        self,
        session: Session,
        batch: _Batch,
        contact_id: int,
        state: ConversationState,
        message: _Message,
        now: datetime,
    ) -> Case | None:
        """The case this message continues, when the person is answering staff."""
        text = clean_text(message.text)
        if state.flow is not None or state.pending is not None:
            return None
        if not (text or message.payload) or command_of(text) is not None:
            return None
        if danger(normalize(text)) is not None:
            return None  # danger goes through the engine: 911 first, then a report
        if not batch.may_be_talking(session, contact_id):
            return None
        case = case_in_conversation(session, contact_id, now)
        if case is not None and case.status == CaseStatus.resolved:
            # After resolution, only what is not a new report reopens the old case.
            if hints_for(text).intent not in ("other", "status"):
                return None
        return case

    def _count_burst(self, person: _Person, now: datetime) -> int:
        """Count this message in the sender's current one-minute window; return the count."""
        started = person.burst_started_at
        if started is None or now - started >= timedelta(minutes=1):
            person.burst_started_at, person.burst_count = now, 1
        else:
            person.burst_count += 1
        return person.burst_count

    def _apply(
        self,
        session: Session,
        batch: _Batch,
        effect: object,
        person: _Person,
        message: _Message,
        state: ConversationState,
        now: datetime,
    ) -> tuple[list[Reply], int | None]:
        """Carry out one effect; return any replies the service itself owes the person, and
        the id of the case the message was about."""
        lang = state.lang
        if isinstance(effect, SaveReport):
            report = Report(
                ref=effect.ref,
                contact_id=person.id,
                channel=person.channel,
                lang=lang,
                flow=effect.flow,
                intent=effect.intent,
                answers=effect.answers,
                text=effect.text,
                sender_phone=phone_number(person.channel, message.sender),
                step=None if effect.done else (effect.step or ""),
                anonymous=effect.anonymous,
                floor=effect.floor,
            )
            if effect.withdrawn:
                withdraw_report(session, effect.ref, now)
                return [], None
            saved = save_report(session, report=report, desks=self.desks, targets=self.sla, now=now)
            return [], saved
        if isinstance(effect, RequestHuman):
            reply, flagged = self._request_human(session, effect, person, message, lang, now)
            return [reply], flagged.id
        if isinstance(effect, LookupStatus):
            found = find_case(session, effect.ref)
            mine = found is not None and (found.contact_id == person.id or effect.own)
            if found is None or not mine or found.status == CaseStatus.erased:
                return [Reply(i18n.t("status.not_found", lang, ref=effect.ref))], None
            return [Reply(i18n.t(f"status.{found.status}", lang, ref=found.ref))], None
        if isinstance(effect, AttachEvidence):
            case = find_case(session, effect.ref)
            if case is None or case.contact_id != person.id:
                return [], None
            record_event(
                session,
                case,
                "evidence",
                "person",
                now,
                {"media": [_media_dict(m) for m in effect.media]},
            )
            return [], case.id
        if isinstance(effect, EraseData):
            # The erasure's bulk updates must find every row of the batch so far, this
            # message's link to the person included (`write` keeps it for the end); the ORM
            # contact is let go afterwards so the batch's own write of it is the last word.
            batch.write(session)
            contact = session.get(Contact, person.id, populate_existing=True)
            assert contact is not None
            erase_contact(session, contact, now)
            session.flush()
            person.erased_at = contact.erased_at
            session.expunge(contact)
            return [], None
        raise TypeError(f"unknown effect {type(effect).__name__}")

    def _request_human(
        self,
        session: Session,
        effect: RequestHuman,
        person: _Person,
        message: _Message,
        lang: Lang,
        now: datetime,
    ) -> tuple[Reply, Case]:
        """Flag the person's case for a human, or open one. A report in progress keeps its
        case (opened at its first message) or becomes one now, with everything said so far;
        either way intake ends there and staff take it from the queue."""
        in_progress = bool(effect.flow and effect.answers)
        case = find_case(session, effect.ref) if effect.ref else None
        if case is None and not in_progress:
            case = latest_open_case(session, person.id)
        if case is None or in_progress:
            text = report_text(effect.answers) or clean_text(message.text)
            report = Report(
                ref=case.ref if case is not None else new_ref(),
                contact_id=person.id,
                channel=person.channel,
                lang=lang,
                flow=effect.flow or "human",
                intent=None if case is not None else classify(text, effect.answers).intent,
                answers={**effect.answers, "human_requested": True, "reason": effect.reason},
                text=text,
                sender_phone=phone_number(person.channel, message.sender),
            )
            saved = save_report(session, report=report, desks=self.desks, targets=self.sla, now=now)
            case = session.get(Case, saved)
            assert case is not None
        elif case.status == CaseStatus.waiting:
            lifecycle.move(session, case, CaseStatus.open, actor="person", now=now)
        case.updated_at = now
        record_event(session, case, "human_requested", "person", now, {"reason": effect.reason})
        return Reply(i18n.t("human.requested", lang, ref=case.ref)), case

    def _record_failure(
        self, session: Session, inbound_id: int, error: str, now: datetime
    ) -> list[int]:
        """Count the failed attempt; after the last one, apologise and keep the message."""
        message = session.get(InboundMessage, inbound_id, with_for_update=True)
        if message is None or message.status != InboundStatus.pending:
            return []
        message.attempts += 1
        message.error = error[:200]
        if message.attempts < MAX_ATTEMPTS:
            return []
        message.status = InboundStatus.failed
        contact = get_or_create_contact(session, message.channel, message.sender, now)
        assert contact.id is not None
        message.contact_id = contact.id
        return queue_replies(
            session,
            contact_id=contact.id,
            channel=contact.channel,
            replies=[Reply(i18n.t("common.error", as_lang(contact.lang)))],
            now=now,
            inbound_id=message.id,
        )


_CONTACT: Any = Contact.__table__  # type: ignore[attr-defined]
_CONVERSATION: Any = Conversation.__table__  # type: ignore[attr-defined]
_INBOX: Any = InboundMessage.__table__  # type: ignore[attr-defined]
_CASE: Any = Case.__table__  # type: ignore[attr-defined]
_MARKS: Any = SweepMark.__table__  # type: ignore[attr-defined]


@dataclass(slots=True)
class _Message:
    """An inbox row as the batch processes it (read with Core, written back at the end)."""

    id: int
    channel: str
    sender: str
    text: str
    payload: dict[str, Any]
    status: str = InboundStatus.pending.value
    contact_id: int | None = None
    processed_at: datetime | None = None
    case_id: int | None = None


@dataclass(slots=True)
class _Person:
    """A contact and its conversation as the batch holds them: read under the person's
    lock, changed in memory by each of their messages in turn, written once."""

    id: int
    channel: str
    lang: str
    opted_out: bool
    last_inbound_at: datetime | None
    burst_started_at: datetime | None
    burst_count: int
    erased_at: datetime | None
    conversation_id: int | None
    state: dict[str, Any] | None
    flow: str | None
    step: str | None
    conversation_at: datetime | None = None
    touched: bool = False  # the conversation changed (or is new)
    address: str | None = None
    restored: bool = False  # erased earlier and writing again: the address comes back


@dataclass(slots=True)
class _Batch:
    """What one batch processed and still has to write."""

    refs: list[str]
    messages: list[_Message] = field(default_factory=list)
    people: list[_Person] = field(default_factory=list)
    replies: list[tuple[int, list[dict[str, Any]]]] = field(default_factory=list)
    case_ids: dict[str, int | None] = field(default_factory=dict)
    staff_touched: set[int] | None = None  # people whose case staff have acted on
    cases_changed: set[int] = field(default_factory=set)  # people whose cases changed here

    def may_be_talking(self, session: Session, contact_id: int) -> bool:
        """False when the person cannot be answering staff: `case_in_conversation` only ever
        returns a case whose queue item waits for the person, was answered by staff or was
        resolved, and none of the person's cases is such (read once for the whole batch),
        nor did an earlier message of this batch change their cases."""
        if contact_id in self.cases_changed:
            return True
        if self.staff_touched is None:
            people = sorted(p.id for p in self.people)
            found = session.connection().execute(_STAFF_TOUCHED, {"ids": people}).scalars()
            self.staff_touched = set(found)
        return contact_id in self.staff_touched

    def new_ref(self) -> str:
        """A case reference no case has (checked for the whole batch at once)."""
        return self.refs.pop() if self.refs else new_ref()

    def case_id(self, session: Session, ref: str | None) -> int | None:
        """The id of the case with this reference (cached for the batch)."""
        if ref is None:
            return None
        if ref not in self.case_ids:
            self.case_ids[ref] = session.exec(select(Case.id).where(Case.ref == ref)).first()
        return self.case_ids[ref]

    def reply(
        self,
        message: _Message,
        person: _Person,
        replies: Sequence[Reply],
        now: datetime,
        *,
        render_as: object = None,
        critical: bool = False,
    ) -> None:
        """Render the replies to `message` for the person's channel; stored by `write`."""
        rows = outbox_rows(
            contact_id=person.id,
            channel=person.channel,
            replies=replies,
            now=now,
            inbound_id=message.id,
            case_id=message.case_id,
            render_as=str(render_as) if render_as else None,
            priority="critical" if critical else "normal",
        )
        self.replies.append((message.id, rows))

    def write(self, session: Session) -> dict[int, list[int]]:
        """Write what the batch changed, one statement per kind of row; return the outbox
        ids per inbound message."""
        connection = session.connection()
        done = [m for m in self.messages if m.contact_id is not None]
        if done:
            connection.execute(_INBOX_DONE, [_message_values(m) for m in done])
        self.messages = [m for m in self.messages if m.status == InboundStatus.pending]
        if self.people:
            connection.execute(_CONTACT_DONE, [_person_values(p) for p in self.people])
        restored = [p for p in self.people if p.restored]
        if restored:
            connection.execute(
                _CONTACT_ADDRESS, [{"b_id": p.id, "address": p.address} for p in restored]
            )
        for person in restored:
            person.restored = False
        _write_conversations(session, [p for p in self.people if p.touched])
        rows = [row for _, part in self.replies for row in part]
        ids = iter(insert_outbox(session, rows))
        sent: dict[int, list[int]] = {}
        for inbound_id, part in self.replies:
            sent.setdefault(inbound_id, []).extend(next(ids) for _ in part)
        self.replies = []
        return sent


def _erased_in_step(person: _Person, now: datetime) -> bool:
    """True when the person asked for erasure in this very message."""
    return person.erased_at is not None and person.erased_at >= now


def _message_values(message: _Message) -> dict[str, Any]:
    return {
        "b_id": message.id,
        "status": str(message.status),
        "contact_id": message.contact_id,
        "processed_at": message.processed_at,
        "case_id": message.case_id,
    }


def _person_values(person: _Person) -> dict[str, Any]:
    return {
        "b_id": person.id,
        "lang": person.lang,
        "opted_out": person.opted_out,
        "last_inbound_at": person.last_inbound_at,
        "burst_started_at": person.burst_started_at,
        "burst_count": person.burst_count,
        "erased_at": person.erased_at,
    }


def _write_conversations(session: Session, people: Iterable[_Person]) -> None:
    """Update the conversations that exist and insert the new ones."""
    connection = session.connection()
    known, new = [], []
    for person in people:
        values = {
            "state": person.state,
            "flow": person.flow,
            "step": person.step,
            "updated_at": person.conversation_at,
        }
        if person.conversation_id is None:
            new.append((person, {"contact_id": person.id, **values}))
        else:
            known.append({"b_id": person.conversation_id, **values})
        person.touched = False
    if known:
        connection.execute(_CONVERSATION_DONE, known)
    if new:
        ids = connection.execute(_CONVERSATION_NEW, [values for _, values in new]).scalars()
        for (person, _), conversation_id in zip(new, ids, strict=True):
            person.conversation_id = int(conversation_id)


def _lock_people(
    session: Session, heads: Sequence[Any], now: datetime, *, lock: bool = True
) -> tuple[dict[tuple[str, str], _Person], dict[tuple[str, str], tuple[str, str]]]:
    """The people who wrote `heads`, created on first contact, each locked (in id order, so
    two batches never deadlock on them; `lock=False` only reads) and read with their
    conversation. Returns them by (channel, address), and every (channel, keyed hash) of
    theirs — under each key of the keyring, as a key rotation may have left rows hashed
    under an older one — to that."""
    connection = session.connection()
    dialect = connection.dialect.name
    read = _PEOPLE[dialect] if lock else _PEOPLE["sqlite"]  # the same without a lock clause
    first: dict[tuple[str, str], Any] = {}
    known: dict[tuple[str, str], tuple[str, str]] = {}
    for head in heads:
        who = (head.channel, head.sender)
        first.setdefault(who, head)
        for key in sender_keys(head.channel, head.sender):
            known[(head.channel, key)] = who
    hashes = sorted({key for _, key in known})
    rows = list(connection.execute(read, {"hashes": hashes}).all())
    found = {
        known[(r.channel, r.address_hash)] for r in rows if (r.channel, r.address_hash) in known
    }
    missing = [head for who, head in first.items() if who not in found]
    if missing:
        connection.execute(
            _CONTACT_NEW[dialect],
            [
                {
                    "channel": h.channel,
                    "address_hash": sender_key(h.channel, h.sender),
                    "address": h.sender,
                    "lang": as_lang((h.payload or {}).get("lang_hint")),
                    "opted_out": False,
                    "burst_count": 0,
                    "created_at": now,
                }
                for h in missing
            ],
        )
        more = sorted({sender_key(h.channel, h.sender) for h in missing})
        rows += connection.execute(read, {"hashes": more}).all()
    people: dict[tuple[str, str], _Person] = {}
    for r in rows:
        owner = known.get((r.channel, r.address_hash))
        if owner is None or owner in people:
            continue
        people[owner] = _Person(
            id=r.id,
            channel=r.channel,
            lang=r.lang,
            opted_out=r.opted_out,
            last_inbound_at=r.last_inbound_at,
            burst_started_at=r.burst_started_at,
            burst_count=r.burst_count,
            erased_at=r.erased_at,
            conversation_id=r.conversation_id,
            state=r.state,
            flow=r.flow,
            step=r.step,
            conversation_at=r.updated_at,
        )
    return people, known


def _fresh_refs(session: Session, count: int) -> list[str]:
    """`count` case references that no case has (one query), for the batch's new cases."""
    refs = {new_ref() for _ in range(max(1, count))}
    taken = set(session.connection().execute(_REFS_TAKEN, {"refs": sorted(refs)}).scalars())
    return sorted(refs - taken)


def _build_statements() -> dict[str, Any]:
    """The hot path's statements, built once (per dialect where they differ)."""
    people = (
        core_select(
            _CONTACT.c.id,
            _CONTACT.c.channel,
            _CONTACT.c.address_hash,
            _CONTACT.c.lang,
            _CONTACT.c.opted_out,
            _CONTACT.c.last_inbound_at,
            _CONTACT.c.burst_started_at,
            _CONTACT.c.burst_count,
            _CONTACT.c.erased_at,
            _CONVERSATION.c.id.label("conversation_id"),
            _CONVERSATION.c.state,
            _CONVERSATION.c.flow,
            _CONVERSATION.c.step,
            _CONVERSATION.c.updated_at,
        )
        .select_from(_CONTACT.outerjoin(_CONVERSATION, _CONVERSATION.c.contact_id == _CONTACT.c.id))
        .where(_CONTACT.c.address_hash.in_(bindparam("hashes", expanding=True)))
        .order_by(_CONTACT.c.id)
    )
    pending = (
        core_select(
            _INBOX.c.id,
            _INBOX.c.channel,
            _INBOX.c.sender_hash,
            _INBOX.c.sender,
            _INBOX.c.text,
            _INBOX.c.payload,
        )
        .where(
            _INBOX.c.status == InboundStatus.pending.value,
            _INBOX.c.sender_hash.in_(bindparam("hashes", expanding=True)),
        )
        .order_by(_INBOX.c.id)
    )
    head = _CASE.alias("head")
    touched = or_(
        _CASE.c.status == CaseStatus.waiting.value,
        _CASE.c.first_response_at.is_not(None),
        _CASE.c.resolved_at.is_not(None),
        head.c.status == CaseStatus.waiting.value,
        head.c.first_response_at.is_not(None),
        head.c.resolved_at.is_not(None),
    )
    return {
        "staff_touched": core_select(_CASE.c.contact_id)
        .select_from(_CASE.outerjoin(head, head.c.id == _CASE.c.parent_id))
        .where(
            _CASE.c.contact_id.in_(bindparam("ids", expanding=True)),
            _CASE.c.erased_at.is_(None),
            touched,
        )
        .distinct(),
        "heads": core_select(
            _INBOX.c.id, _INBOX.c.channel, _INBOX.c.sender_hash, _INBOX.c.sender, _INBOX.c.payload
        ).where(
            _INBOX.c.id.in_(bindparam("ids", expanding=True)),
            _INBOX.c.status == InboundStatus.pending.value,
        ),
        # NO KEY UPDATE: outbox inserts (staff replies) still take their foreign-key share
        # lock on the contact, so they never wait for a batch.
        "people": {
            "postgresql": people.with_for_update(of=_CONTACT, key_share=True),
            "sqlite": people,
        },
        # The contact lock is held: nobody else processes these rows; waiting (not skipping)
        # covers a retention sweep or a failure being recorded on one of them.
        "pending": {"postgresql": pending.with_for_update(of=_INBOX), "sqlite": pending},
        "refs_taken": core_select(_CASE.c.ref).where(
            _CASE.c.ref.in_(bindparam("refs", expanding=True))
        ),
        "mark_new": {
            name: module.insert(_MARKS)
            .on_conflict_do_nothing(index_elements=["name", "key"])
            .returning(_MARKS.c.key)
            for name, module in (("postgresql", postgresql), ("sqlite", sqlite))
        },
        "contact_new": {
            name: module.insert(_CONTACT).on_conflict_do_nothing(
                index_elements=["channel", "address_hash"]
            )
            for name, module in (("postgresql", postgresql), ("sqlite", sqlite))
        },
        "inbox_done": update(_INBOX)
        .where(_INBOX.c.id == bindparam("b_id"))
        .values(
            status=bindparam("status"),
            contact_id=bindparam("contact_id"),
            processed_at=bindparam("processed_at"),
            case_id=bindparam("case_id"),
        ),
        "contact_done": update(_CONTACT)
        .where(_CONTACT.c.id == bindparam("b_id"))
        .values(
            lang=bindparam("lang"),
            opted_out=bindparam("opted_out"),
            last_inbound_at=bindparam("last_inbound_at"),
            burst_started_at=bindparam("burst_started_at"),
            burst_count=bindparam("burst_count"),
            erased_at=bindparam("erased_at"),
        ),
        "contact_address": update(_CONTACT)
        .where(_CONTACT.c.id == bindparam("b_id"))
        .values(address=bindparam("address")),
        "conversation_done": update(_CONVERSATION)
        .where(_CONVERSATION.c.id == bindparam("b_id"))
        .values(
            state=bindparam("state"),
            flow=bindparam("flow"),
            step=bindparam("step"),
            updated_at=bindparam("updated_at"),
        ),
        "conversation_new": insert(_CONVERSATION).returning(
            _CONVERSATION.c.id, sort_by_parameter_order=True
        ),
    }


_STATEMENTS: Final = _build_statements()
_HEADS: Final = _STATEMENTS["heads"]
_STAFF_TOUCHED: Final = _STATEMENTS["staff_touched"]
_PEOPLE: Final[dict[str, Any]] = _STATEMENTS["people"]
_PENDING: Final[dict[str, Any]] = _STATEMENTS["pending"]
_REFS_TAKEN: Final = _STATEMENTS["refs_taken"]
_CONTACT_NEW: Final[dict[str, Any]] = _STATEMENTS["contact_new"]
_MARK_NEW: Final[dict[str, Any]] = _STATEMENTS["mark_new"]
_INBOX_DONE: Final = _STATEMENTS["inbox_done"]
_CONTACT_DONE: Final = _STATEMENTS["contact_done"]
_CONTACT_ADDRESS: Final = _STATEMENTS["contact_address"]
_CONVERSATION_DONE: Final = _STATEMENTS["conversation_done"]
_CONVERSATION_NEW: Final = _STATEMENTS["conversation_new"]


def _inbound(message: _Message, payload: dict[str, Any]) -> Inbound:
    media = tuple(
        Media(ref=str(m.get("ref", "")), content_type=str(m.get("content_type", "")))
        for m in payload.get("media") or []
        if isinstance(m, dict)
    )
    location = payload.get("location")
    where = None
    if isinstance(location, dict) and {"lat", "lon"} <= location.keys():
        where = (float(location["lat"]), float(location["lon"]))
    return Inbound(
        text=clean_text(message.text),
        channel=as_channel(message.channel),
        media=media,
        location=where,
        lang_hint=payload.get("lang_hint"),
    )


def _media_dict(media: Media) -> dict[str, str]:
    return {"ref": media.ref, "content_type": media.content_type}
