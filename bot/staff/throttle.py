"""Login throttling: growing refusals per client address and per account name, judged
differently for a browser where the account logged in before; counted in the database so
every process shares it.

An attempt is counted against these counters (rows of `LoginThrottle`, keyed by a kind and
a keyed hash, so neither addresses nor names are stored):
- **address**: the client address as limits count it (`bot.clientaddr.limit_key`, an IPv6
  client by its /64). Five failures are free; then the address is refused for 30 seconds,
  doubling with each further failure up to an hour.
- **account**: the name as typed (trimmed, lower case), whether or not such an account
  exists, so refusals say nothing about which names are real. Twenty failures from
  everywhere together are free, then it refuses the same way: this is what slows a guesser
  spread over many addresses. One address alone needs hours of refusals to get there.
- **device**: a browser carrying this account's device cookie (`bot.staff.session`) is
  judged by its own counter only, with the address rule, and never by the two above. So
  nobody can lock the real person out of the browser they work from, and a stolen device
  cookie is worth no more to an attacker than one more address.

An attempt is counted before the password is checked, under a row lock, so parallel
guesses cannot all slip past the gate together; while any counter refuses, nothing is
counted and the password is not checked. A right password takes its count back, and the
address and device counters start over. Counters are forgotten a day after their last
failure. `hotline staff password` clears the account's counter (an administrator's way to
let the real person in from a new browser during an attack).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Final

from sqlalchemy import delete
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session, col, select

from bot.clientaddr import limit_key
from bot.crypto import lookup_hash
from bot.models import LoginThrottle

FORGET_AFTER: Final = timedelta(hours=24)


@dataclass(frozen=True, slots=True)
class Rule:
    """`free` failures pass; then each further one waits `first`, doubling, up to `longest`."""

    kind: str
    free: int
    first: timedelta
    longest: timedelta

    def blocked_until(self, failures: int, now: datetime) -> datetime | None:
        """Until when a counter with this many failures refuses attempts."""
        if failures < self.free:
            return None
        wait: timedelta = self.first * 2 ** min(failures - self.free, 20)
        return now + min(wait, self.longest)


ADDRESS: Final = Rule("address", free=5, first=timedelta(seconds=30), longest=timedelta(hours=1))
ACCOUNT: Final = Rule("account", free=20, first=timedelta(seconds=30), longest=timedelta(hours=1))
DEVICE: Final = Rule("device", free=5, first=timedelta(seconds=30), longest=timedelta(hours=1))
RULES: Final = {rule.kind: rule for rule in (ADDRESS, ACCOUNT, DEVICE)}


def counters(*, address: str, name: str, device: str | None) -> list[str]:
    """The counters an attempt is judged by: the trusted device's alone, or else the
    address's and the account name's."""
    if device is not None:
        return [_key(DEVICE, device)]
    return [_key(ADDRESS, limit_key(address)), account_counter(name)]


def account_counter(name: str) -> str:
    """The counter of an account name (as typed at login)."""
    return _key(ACCOUNT, name.strip().lower())


def take(session: Session, keys: Sequence[str], now: datetime) -> tuple[int, list[str]]:
    """Count an attempt against every counter; or, when any of them refuses, count nothing
    and return the seconds to wait and the kinds that refused."""
    rows = _locked(session, keys, now)
    _forget_others(session, keys, now)
    for row in rows:
        if row.last_failure_at < now - FORGET_AFTER:
            row.failures, row.blocked_until = 0, None
    refusing = [r for r in rows if r.blocked_until is not None and r.blocked_until > now]
    if refusing:
        wait = max(r.blocked_until - now for r in refusing if r.blocked_until is not None)
        return max(1, math.ceil(wait.total_seconds())), sorted({_kind(r) for r in refusing})
    for row in rows:
        row.failures += 1
        row.last_failure_at = now
        row.blocked_until = RULES[_kind(row)].blocked_until(row.failures, now)
        session.add(row)
    return 0, []


def give_back(session: Session, keys: Sequence[str], now: datetime) -> None:
    """A right password: the address and device counters start over; the account's takes
    back this attempt only (others may be guessing it from elsewhere)."""
    for row in _locked(session, keys, now):
        if _kind(row) != ACCOUNT.kind:
            session.delete(row)
            continue
        row.failures = max(0, row.failures - 1)
        if row.failures < ACCOUNT.free:
            row.blocked_until = None
        session.add(row)


def forgive(session: Session, key: str) -> None:
    """Forget one counter."""
    session.execute(delete(LoginThrottle).where(col(LoginThrottle.key) == key))


def _key(rule: Rule, value: str) -> str:
    return f"{rule.kind}:{lookup_hash(f'login-{rule.kind}:{value}')}"


def _kind(row: LoginThrottle) -> str:
    return row.key.split(":", 1)[0]


def _locked(session: Session, keys: Sequence[str], now: datetime) -> list[LoginThrottle]:
    """The counters' rows (created on first use), locked in key order: no deadlocks."""
    wanted = sorted(set(keys))
    for key in wanted:
        session.execute(
            _insert(session)
            .values(key=key, failures=0, last_failure_at=now, blocked_until=None)
            .on_conflict_do_nothing(index_elements=["key"])
        )
    return list(
        session.exec(
            select(LoginThrottle)
            .where(col(LoginThrottle.key).in_(wanted))
            .order_by(col(LoginThrottle.key))
            .with_for_update()
        ).all()
    )


def _forget_others(session: Session, keys: Sequence[str], now: datetime) -> None:
    """Delete other counters quiet for a day, skipping any another attempt holds (no waits,
    so no deadlocks)."""
    stale = (
        select(col(LoginThrottle.key))
        .where(
            col(LoginThrottle.last_failure_at) < now - FORGET_AFTER,
            col(LoginThrottle.key).not_in(list(keys)),
        )
        .with_for_update(skip_locked=True)
    )
    session.execute(delete(LoginThrottle).where(col(LoginThrottle.key).in_(stale)))


def _insert(session: Session) -> Any:
    dialect = session.get_bind().dialect.name
    module = postgresql if dialect == "postgresql" else sqlite
    return module.insert(LoginThrottle)
