"""Rate limits shared by every process: fixed one-minute windows counted in the database.

A request is counted against its limits in order (one address's, then everyone's) in one
short write transaction: each bucket's row for the current minute is incremented by an
upsert, and the first bucket past its limit refuses the request (the buckets after it are
not counted). A refusal is remembered in the process until the minute ends, so a flood that
is already refused costs the database nothing more. The first request of each minute (in
each process) deletes the rows of earlier minutes, in a transaction of its own.

Buckets name a purpose and a keyed hash of the client's address as limits count it
(`bot.clientaddr.limit_key`: an IPv6 client by its /64), never the address itself.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Final

from sqlalchemy import bindparam, delete
from sqlalchemy.dialects import postgresql, sqlite

from bot.clientaddr import limit_key
from bot.crypto import lookup_hash
from bot.db import Database
from bot.models import RateCount

logger = logging.getLogger(__name__)

EVERYONE: Final = "*"
_T: Any = RateCount.__table__  # type: ignore[attr-defined]


@dataclass(frozen=True, slots=True)
class Limit:
    """At most `per_minute` requests a minute in `bucket`."""

    bucket: str
    per_minute: int


def address_bucket(purpose: str, address: str) -> str:
    """The bucket of one client address for a purpose ("web.message", "web.session")."""
    return f"{purpose}:{lookup_hash(f'rate-limit:{limit_key(address)}')[:40]}"


def everyone_bucket(purpose: str) -> str:
    """The bucket every client shares for a purpose."""
    return f"{purpose}:{EVERYONE}"


class RateLimits:
    """Counts requests against limits in the database; see the module docstring."""

    def __init__(self, db: Database) -> None:
        self.db = db
        self._guard = threading.Lock()
        self._refused: dict[str, int] = {}  # bucket -> the minute it is full for
        self._pruned_minute = -1

    def allow(self, limits: Sequence[Limit], *, now: float) -> bool:
        """Count one request in each bucket in turn; False at the first one past its limit."""
        minute = int(now // 60)
        with self._guard:
            if any(self._refused.get(limit.bucket) == minute for limit in limits):
                return False
            prune = minute != self._pruned_minute
            self._pruned_minute = minute
            if prune:
                self._refused = {b: m for b, m in self._refused.items() if m >= minute}
        if prune:
            self._prune(minute)
        statement = _UPSERTS[self.db.engine.dialect.name]
        with self.db.write() as session:
            for limit in limits:
                count = session.execute(
                    statement, {"bucket": limit.bucket, "minute": minute}
                ).scalar_one()
                if count > limit.per_minute:
                    with self._guard:
                        self._refused[limit.bucket] = minute
                    return False
        return True

    def _prune(self, minute: int) -> None:
        """Delete the counts of minutes before the last one (several processes may do it
        at once; one that loses a race simply leaves it to the next minute)."""
        try:
            with self.db.write() as session:
                session.execute(delete(_T).where(_T.c.minute < minute - 1))
        except Exception as exc:
            logger.warning("rate limits: could not delete old counts (%s)", type(exc).__name__)


def _upsert(dialect: Any) -> Any:
    """INSERT … ON CONFLICT (bucket, minute) DO UPDATE SET count = count + 1 RETURNING count."""
    return (
        dialect.insert(_T)
        .values(bucket=bindparam("bucket"), minute=bindparam("minute"), count=1)
        .on_conflict_do_update(index_elements=["bucket", "minute"], set_={"count": _T.c.count + 1})
        .returning(_T.c.count)
    )


_UPSERTS: dict[str, Any] = {"postgresql": _upsert(postgresql), "sqlite": _upsert(sqlite)}
