"""Contacts: a person on one channel, found by a keyed hash of their address."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from bot.inbox import sender_key, sender_keys
from bot.models import Contact, InboundMessage


def find_contact(session: Session, channel: str, address: str) -> Contact | None:
    """The contact for this channel address, if we know it (under any key of the keyring:
    a key rotation rehashes contacts while people keep writing)."""
    keys = sender_keys(channel, address)
    return session.exec(
        select(Contact).where(Contact.channel == channel, col(Contact.address_hash).in_(keys))
    ).first()


def sender_of(session: Session, inbound_id: int, channel: str, address: str) -> Contact | None:
    """The contact a stored message came from: the one it was processed for (an erasure
    made that contact's hash random since, so its address no longer finds it), else the one
    its address finds."""
    message = session.get(InboundMessage, inbound_id)
    if message is not None and message.contact_id is not None:
        return session.get(Contact, message.contact_id)
    return find_contact(session, channel, address)


def get_or_create_contact(
    session: Session, channel: str, address: str, now: datetime, lang: str = "es"
) -> Contact:
    """The contact for this channel address, created on first contact."""
    contact = find_contact(session, channel, address)
    if contact is None:
        try:
            with session.begin_nested():  # another process may create the same contact
                contact = Contact(
                    channel=channel,
                    address_hash=sender_key(channel, address),
                    address=address,
                    lang=lang,
                    created_at=now,
                )
                session.add(contact)
        except IntegrityError:
            contact = find_contact(session, channel, address)
            assert contact is not None
    elif contact.erased_at is not None:  # erased earlier and writing again: a fresh start
        contact.address, contact.erased_at = address, None
    return contact


def set_opted_out(
    session: Session, channel: str, address: str, opted_out: bool, now: datetime
) -> Contact:
    """Record an SMS/WhatsApp STOP (True) or START (False) for this address."""
    contact = get_or_create_contact(session, channel, address, now)
    contact.opted_out = opted_out
    return contact
