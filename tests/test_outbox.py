"""The outbox: atomic claims with a lease, per-person order, retries, forward-only statuses."""

from __future__ import annotations

import threading
from datetime import datetime, timedelta

from bot.contacts import get_or_create_contact
from bot.db import Database
from bot.models import OutboundMessage, OutboundStatus, utcnow
from bot.outbox import (
    backoff,
    claim_due,
    mark_failed,
    mark_retry,
    mark_sent,
    pending_counts,
    record_status,
    release_expired_leases,
)

NOW = datetime(2026, 11, 23, 19, 0, tzinfo=utcnow().tzinfo)


def _contact(db: Database, address: str, channel: str = "telegram") -> int:
    with db.write() as session:
        contact = get_or_create_contact(session, channel, address, NOW)
        assert contact.id is not None
        return contact.id


def _queue(
    db: Database, contact_id: int, text: str, channel: str = "telegram", at: datetime = NOW
) -> int:
    with db.write() as session:
        row = OutboundMessage(
            contact_id=contact_id,
            channel=channel,
            text=text,
            created_at=at,
            next_attempt_at=at,
            updated_at=at,
        )
        session.add(row)
        session.flush()
        assert row.id is not None
        return row.id


def _status(db: Database, outbound_id: int) -> OutboundMessage:
    with db.read() as session:
        row = session.get(OutboundMessage, outbound_id)
        assert row is not None
        return row


def test_claim_leases_due_rows_once(database: Database) -> None:
    """A claimed row is `sending` under a lease; nobody else gets it until the lease ends."""
    row = _queue(database, _contact(database, "1"), "hola")
    claims = claim_due(database, now=NOW, lease=timedelta(seconds=60))
    assert [(c.id, c.text, c.attempts) for c in claims] == [(row, "hola", 1)]
    assert _status(database, row).status == OutboundStatus.sending
    assert claim_due(database, now=NOW + timedelta(seconds=59)) == []
    again = claim_due(database, now=NOW + timedelta(seconds=61))
    assert [(c.id, c.attempts) for c in again] == [(row, 2)]


def test_claim_keeps_each_persons_replies_in_order(database: Database) -> None:
    """Only the oldest open row of a contact is claimable; other contacts are not held up."""
    ana, ben = _contact(database, "1"), _contact(database, "2")
    a1, a2 = _queue(database, ana, "a1"), _queue(database, ana, "a2")
    b1 = _queue(database, ben, "b1")
    assert [c.id for c in claim_due(database, now=NOW)] == [a1, b1]
    assert claim_due(database, now=NOW) == []
    mark_sent(database, a1, provider_id="m1", now=NOW)
    assert [c.id for c in claim_due(database, now=NOW)] == [a2]


def test_claim_skips_web_chat_rows_and_future_rows(database: Database) -> None:
    """Web-chat replies are pulled by the browser; rows backing off are not due yet."""
    web = _contact(database, "s" * 32, channel="web")
    _queue(database, web, "for the browser", channel="web")
    later = _queue(database, _contact(database, "3"), "later", at=NOW + timedelta(minutes=1))
    assert claim_due(database, now=NOW) == []
    assert [c.id for c in claim_due(database, now=NOW + timedelta(minutes=2))] == [later]


def test_concurrent_claims_never_hand_out_a_row_twice(database: Database) -> None:
    """Four workers claiming at once share 40 rows without overlap."""
    for n in range(40):
        _queue(database, _contact(database, str(100 + n)), f"m{n}")
    taken: list[int] = []
    lock = threading.Lock()

    def worker() -> None:
        while claims := claim_due(database, now=NOW, limit=3):
            with lock:
                taken.extend(c.id for c in claims)

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(taken) == 40 and len(set(taken)) == 40


def test_retry_backs_off_and_gives_up_after_max_age(database: Database) -> None:
    """A transient failure puts the row back later; an old one fails instead."""
    row = _queue(database, _contact(database, "1"), "hola")
    (claim,) = claim_due(database, now=NOW)
    assert mark_retry(database, claim, error="NetworkError", now=NOW, base=10)
    stored = _status(database, row)
    assert stored.status == OutboundStatus.pending and stored.last_error == "NetworkError"
    assert timedelta(seconds=8) <= stored.next_attempt_at - NOW <= timedelta(seconds=12)
    (claim,) = claim_due(database, now=NOW + timedelta(minutes=1))
    assert not mark_retry(database, claim, error="NetworkError", now=NOW + timedelta(days=4))
    assert _status(database, row).status == OutboundStatus.failed


def test_backoff_grows_exponentially_up_to_a_cap() -> None:
    """Each failure doubles the wait (±20 %), never past the cap."""
    assert 1.6 <= backoff(1, base=2) <= 2.4
    assert 12.8 <= backoff(4, base=2) <= 19.2
    assert backoff(50, base=2, cap=300) <= 360


def test_status_callbacks_move_forward_only(database: Database) -> None:
    """sent → delivered → read; late or lower statuses never move a row back."""
    row = _queue(database, _contact(database, "+1713", channel="sms"), "hola", channel="sms")
    claim_due(database, now=NOW)
    mark_sent(database, row, provider_id="SM1", now=NOW)
    assert not record_status(database, provider_id="SM1", status="queued", now=NOW)
    assert record_status(database, provider_id="SM1", status="delivered", now=NOW)
    assert not record_status(database, provider_id="SM1", status="sent", now=NOW)
    assert not record_status(database, provider_id="SM1", status="failed", now=NOW)
    assert record_status(database, provider_id="SM1", status="read", now=NOW)
    assert not record_status(database, provider_id="SM1", status="receiving", now=NOW)
    assert not record_status(database, provider_id="SM-unknown", status="delivered", now=NOW)
    assert _status(database, row).status == OutboundStatus.read


def test_a_callback_arriving_before_the_send_is_recorded_keeps_its_status(
    database: Database,
) -> None:
    """A callback found by row id while the row is still `sending` wins over mark_sent."""
    row = _queue(database, _contact(database, "+1713", channel="sms"), "hola", channel="sms")
    claim_due(database, now=NOW)
    assert record_status(database, provider_id="SM2", status="delivered", now=NOW, outbound_id=row)
    mark_sent(database, row, provider_id="SM2", now=NOW)
    stored = _status(database, row)
    assert (stored.status, stored.provider_id) == (OutboundStatus.delivered, "SM2")
    assert stored.sent_at is not None


def test_undelivered_records_the_error_code(database: Database) -> None:
    """An undelivered callback keeps Twilio's error code on the row (no personal data)."""
    row = _queue(database, _contact(database, "+1713", channel="sms"), "hola", channel="sms")
    claim_due(database, now=NOW)
    mark_sent(database, row, provider_id="SM3", now=NOW)
    record_status(database, provider_id="SM3", status="undelivered", now=NOW, error_code="30003")
    stored = _status(database, row)
    assert (stored.status, stored.last_error) == (
        OutboundStatus.undelivered,
        "provider error 30003",
    )


def test_release_expired_leases_and_counts(database: Database) -> None:
    """A vanished sender's rows go back to pending after the lease; counts see them."""
    row = _queue(database, _contact(database, "1"), "hola")
    failed = _queue(database, _contact(database, "2"), "x")
    claim_due(database, now=NOW, lease=timedelta(seconds=60))
    mark_failed(database, failed, error="BadRequest", now=NOW)
    assert pending_counts(database) == {("telegram", "sending"): 1}
    assert release_expired_leases(database, now=NOW + timedelta(seconds=30)) == 0
    assert release_expired_leases(database, now=NOW + timedelta(seconds=61)) == 1
    assert _status(database, row).status == OutboundStatus.pending
    assert _status(database, failed).status == OutboundStatus.failed
    assert pending_counts(database) == {("telegram", "pending"): 1}


def test_a_send_finished_after_the_lease_ran_out_is_not_sent_again(database: Database) -> None:
    """A slow holder whose row was put back in line still records the send: no re-send."""
    row = _queue(database, _contact(database, "4701"), "¿Está a salvo?")
    (claim,) = claim_due(
        database, now=NOW, channels=["telegram"], limit=5, lease=timedelta(seconds=60)
    )
    assert claim.lease_until == NOW + timedelta(seconds=60)
    assert release_expired_leases(database, now=NOW + timedelta(minutes=2)) == 1
    mark_sent(database, claim.id, provider_id="m-1", now=NOW + timedelta(minutes=2))
    assert _status(database, row).status == OutboundStatus.sent
    later = claim_due(
        database,
        now=NOW + timedelta(minutes=3),
        channels=["telegram"],
        limit=5,
        lease=timedelta(seconds=60),
    )
    assert later == []


def test_only_queue_replies_puts_rows_in_the_outbox() -> None:
    """Every outgoing message is rendered for its channel: no module builds rows by hand."""
    from pathlib import Path

    root = Path(__file__).resolve().parent.parent / "bot"
    builders = sorted(
        str(path.relative_to(root))
        for path in root.rglob("*.py")
        if "OutboundMessage(" in path.read_text(encoding="utf-8")
    )
    assert builders == ["models.py", "outgoing.py"]


def test_pulled_channels_mark_delivery_through_the_outbox(database: Database) -> None:
    """Web chat, terminal and calls: shown rows become delivered, others stay as they are."""
    from bot.outbox import PUSHED_CHANNELS, mark_delivered

    assert set(PUSHED_CHANNELS) == {"telegram", "sms", "whatsapp"}
    contact = _contact(database, "4801")
    shown, other = _queue(database, contact, "uno"), _queue(database, contact, "dos")
    with database.write() as session:
        mark_delivered(session, [shown], now=NOW)
    assert _status(database, shown).status == OutboundStatus.delivered
    assert _status(database, other).status == OutboundStatus.pending


def test_replies_in_a_critical_conversation_are_claimed_first(database: Database) -> None:
    """When the provider's pace holds replies back, a 911 notice in a critical conversation
    goes before a documents answer queued earlier, and only `limit` rows leave at once."""
    from bot.engine.model import Reply
    from bot.outgoing import queue_replies

    people = [_contact(database, str(n)) for n in range(4)]
    with database.write() as session:
        calm = [
            queue_replies(
                session,
                contact_id=person,
                channel="telegram",
                replies=[Reply("Para el pasaporte necesita su acta.")],
                now=NOW,
            )[0]
            for person in people[:3]
        ]
        (urgent,) = queue_replies(
            session,
            contact_id=people[3],
            channel="telegram",
            replies=[Reply("Si hay peligro ahora, llame al 911 primero.")],
            now=NOW + timedelta(seconds=5),
            priority="critical",
        )
    later = NOW + timedelta(seconds=10)
    assert [c.id for c in claim_due(database, now=later, limit=2)] == [urgent, calm[0]]
    assert [c.id for c in claim_due(database, now=later, limit=2)] == calm[1:]
