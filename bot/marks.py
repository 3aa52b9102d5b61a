"""Once-only marks: inserting a `SweepMark` is the claim, so work done by several processes
(a daily digest, a busy notice to one person) happens once."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session

from bot.models import SweepMark


def claim_mark(session: Session, name: str, key: str, now: datetime) -> bool:
    """Insert the mark; False when another run already did."""
    try:
        with session.begin_nested():
            session.add(SweepMark(name=name, key=key, at=now))
    except IntegrityError:
        return False
    return True
