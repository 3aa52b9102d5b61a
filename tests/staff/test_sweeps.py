"""The sweeps with a controllable clock: escalation, follow-up, digest, retention, reopening."""

from __future__ import annotations

from datetime import timedelta

from sqlmodel import select

from bot.cases import reopen_on_message
from bot.db import Database
from bot.models import (
    CaseEvent,
    Contact,
    Conversation,
    InboundMessage,
    Incident,
    OutboundMessage,
)
from bot.staff.sweeps import (
    AlertTarget,
    escalate_breached,
    purge_expired,
    release_case_leases,
    send_daily_digests,
    send_followups,
)

from .support import NOW, get_case, new_case, new_contact, outbound, seed_desks

ALERTS = [AlertTarget("telegram", "-100123")]


def _events(db: Database, kind: str) -> list[CaseEvent]:
    with db.read() as session:
        return list(session.exec(select(CaseEvent).where(CaseEvent.kind == kind)).all())


def test_breached_cases_are_escalated_once_with_an_alert(database: Database) -> None:
    """Past its target with no answer: one level up, shown to central, one alert; only once."""
    seed_desks(database)
    late = new_case(database, priority="normal", sla_due_at=NOW + timedelta(minutes=10))
    answered = new_case(
        database, priority="normal", sla_due_at=NOW + timedelta(minutes=10), first_response_at=NOW
    )
    on_time = new_case(database, priority="high", sla_due_at=NOW + timedelta(hours=1))
    assert escalate_breached(database, now=NOW, alerts=ALERTS) == 0
    later = NOW + timedelta(minutes=11)
    assert escalate_breached(database, now=later, alerts=ALERTS) == 1
    assert escalate_breached(database, now=later + timedelta(minutes=5), alerts=ALERTS) == 0
    case = get_case(database, late)
    assert (case.priority, case.priority_rank, case.also_central) == ("high", 1, True)
    assert case.escalated_at == later
    assert get_case(database, answered).escalated_at is None
    assert get_case(database, on_time).priority == "high"
    alerts = outbound(database)
    assert len(alerts) == 1 and alerts[0].channel == "telegram" and late in alerts[0].text
    assert len(_events(database, "escalated")) == 1


def test_case_leases_are_released_by_the_sweep(database: Database) -> None:
    """A claim whose lease ran out is open again."""
    seed_desks(database)
    ref = new_case(
        database, status="claimed", claimed_by=None, lease_expires_at=NOW - timedelta(seconds=1)
    )
    assert release_case_leases(database, now=NOW) == 1
    assert get_case(database, ref).status == "open"


def test_follow_up_goes_once_a_day_after_resolution(database: Database) -> None:
    """The person is asked once, a day after resolution, in their language."""
    seed_desks(database)
    contact = new_contact(database, channel="sms", lang="en")
    ref = new_case(
        database,
        contact_id=contact,
        lang="en",
        status="resolved",
        resolved_at=NOW,
        outcome="helped",
    )
    assert send_followups(database, now=NOW + timedelta(hours=23)) == 0
    assert send_followups(database, now=NOW + timedelta(hours=25)) == 1
    assert send_followups(database, now=NOW + timedelta(hours=26)) == 0
    [message] = outbound(database)
    assert message.contact_id == contact and ref in message.text and "help" in message.text
    assert get_case(database, ref).followup_sent_at == NOW + timedelta(hours=25)


def test_daily_digest_goes_once_per_desk_and_local_day(database: Database) -> None:
    """Two runs on the same local day send one digest per busy desk."""
    seed_desks(database)
    new_case(database, desk="los-angeles")
    new_case(database, desk="houston")
    morning = NOW.replace(hour=18)  # 10:00 in Los Angeles, 12:00 in Houston
    assert send_daily_digests(database, now=morning, alerts=[]) == 0
    assert send_daily_digests(database, now=morning, alerts=ALERTS) == 2
    assert send_daily_digests(database, now=morning + timedelta(hours=2), alerts=ALERTS) == 0
    texts = sorted(m.text for m in outbound(database))
    assert len(texts) == 2 and "houston" in texts[0] and "los-angeles" in texts[1]


def test_retention_erases_old_cases_and_abandoned_conversations(database: Database) -> None:
    """After the period: words and answers gone, anonymous figures kept; recent data stays."""
    seed_desks(database)
    old = NOW - timedelta(days=100)
    contact = new_contact(database, address="+13105550100")
    recent_contact = new_contact(database, address="+13105550111")
    idle = new_contact(database, address="+13105550122")
    with database.write() as session:
        for cid in (contact, idle):
            person = session.get(Contact, cid)
            assert person is not None
            person.created_at = person.last_inbound_at = old
        session.add(
            InboundMessage(
                channel="sms",
                provider_id="SM1",
                sender_hash="x",
                sender="+13105550100",
                text="me detuvieron",
                received_at=old,
                contact_id=contact,
            )
        )
        session.add(
            Conversation(
                contact_id=idle,
                flow="raid",
                step="ask_where",
                state={"answers": {"where": "mi casa"}},
                updated_at=old,
            )
        )
        session.add(
            Incident(
                desk_id="los-angeles",
                label="cerca de la escuela",
                first_report_at=old,
                last_report_at=old,
            )
        )
    expired = new_case(
        database,
        contact_id=contact,
        status="resolved",
        created_at=old,
        resolved_at=old + timedelta(days=1),
        outcome="helped",
        answers={"name": "Juan"},
        location_label="Calle 5",
    )
    kept = new_case(
        database,
        contact_id=recent_contact,
        status="resolved",
        resolved_at=NOW - timedelta(days=10),
        outcome="helped",
    )
    counts = purge_expired(database, now=NOW, retention_days=90)
    assert counts == {
        "cases": 1,
        "contacts": 2,
        "addresses": 0,
        "hashes": 0,
        "marks": 0,
        "incidents": 1,
    }
    case = get_case(database, expired)
    assert (case.summary, case.answers, case.location_label) == (None, None, None)
    assert (case.intent, case.desk_id, case.outcome) == ("other", "los-angeles", "helped")
    assert get_case(database, kept).summary is not None
    with database.read() as session:
        assert session.exec(select(InboundMessage.text)).one() == ""
        conversation = session.exec(select(Conversation)).one()
        assert conversation.state is None
        assert session.exec(select(Incident.label)).one() is None
    assert purge_expired(database, now=NOW, retention_days=90) == {
        "cases": 0,
        "contacts": 0,
        "addresses": 0,
        "hashes": 0,
        "marks": 0,
        "incidents": 0,
    }
    later = purge_expired(database, now=NOW + timedelta(days=2), retention_days=90)
    assert later["addresses"] == 2
    with database.read() as session:
        addresses = dict(session.exec(select(Contact.id, Contact.address)).all())
    assert addresses == {contact: None, idle: None, recent_contact: "+13105550111"}


def test_writing_again_reopens_a_recent_case(database: Database) -> None:
    """A case waiting for the person, or resolved within a week, goes back to the queue."""
    seed_desks(database)
    contact = new_contact(database)
    ref = new_case(
        database,
        contact_id=contact,
        status="resolved",
        resolved_at=NOW - timedelta(days=2),
        outcome="helped",
    )
    with database.write() as session:
        case = reopen_on_message(session, contact, NOW)
        assert case is not None and case.ref == ref
    reopened = get_case(database, ref)
    assert (reopened.status, reopened.outcome, reopened.resolved_at) == ("open", None, None)
    assert [e.data for e in _events(database, "reopened")] == [{"from": "resolved"}]
    with database.write() as session:
        assert reopen_on_message(session, contact, NOW) is None  # already open
    old_contact = new_contact(database, address="+13105550999")
    new_case(
        database,
        contact_id=old_contact,
        status="resolved",
        resolved_at=NOW - timedelta(days=30),
        outcome="helped",
    )
    with database.write() as session:
        assert reopen_on_message(session, old_contact, NOW) is None


def test_reopening_a_linked_report_reopens_its_parent(database: Database) -> None:
    """The person behind a folded report writing again reopens the case the queue shows."""
    seed_desks(database)
    contact = new_contact(database)
    parent = new_case(database, status="waiting", report_count=2)
    new_case(
        database, contact_id=contact, status="waiting", parent_id=get_case(database, parent).id
    )
    with database.write() as session:
        case = reopen_on_message(session, contact, NOW)
        assert case is not None and case.ref == parent
    assert get_case(database, parent).status == "open"


def test_alert_rows_are_plain_outbox_rows(database: Database) -> None:
    """Alerts are ordinary outbox rows, so the channel senders deliver them."""
    seed_desks(database)
    new_case(database, sla_due_at=NOW - timedelta(minutes=1))
    escalate_breached(database, now=NOW, alerts=[AlertTarget("sms", "+13105550777")])
    with database.read() as session:
        row = session.exec(select(OutboundMessage)).one()
        contact = session.get(Contact, row.contact_id)
    assert contact is not None and contact.address == "+13105550777"
    assert (row.channel, row.status) == ("sms", "pending")


def test_retention_closes_cases_the_person_never_answered(database: Database) -> None:
    """A case waiting for the person for the whole period is erased; an unhandled open one
    is not (a report no one answered must not silently disappear)."""
    seed_desks(database)
    old = NOW - timedelta(days=100)
    waiting = new_case(
        database, status="waiting", summary="se llevaron a mi papá", created_at=old, updated_at=old
    )
    untouched = new_case(database, status="open", summary="redada", created_at=old, updated_at=old)
    purge_expired(database, now=NOW, retention_days=90)
    gone, kept = get_case(database, waiting), get_case(database, untouched)
    assert gone.summary is None and gone.status == "erased"
    assert gone.outcome == "expired_no_reply"
    assert kept.summary == "redada" and kept.status == "open"
