"""The database: engines, sessions and SQLite's settings.

`Database.read()` opens a session for reads. `Database.write()` opens a short write
transaction: on SQLite it starts with `BEGIN IMMEDIATE` (a deferred transaction that reads
and then writes fails at once under concurrency) and takes a per-process lock first, so
threads queue in Python instead of sleeping in SQLite's busy handler; on PostgreSQL it is
an ordinary transaction. Both commit on success and roll back on error.

Durability: a commit is on disk when it returns. PostgreSQL's default (`synchronous_commit
= on`) does that; SQLite does it with `synchronous=FULL` (the default here), where each
commit syncs the write-ahead log. `synchronous=NORMAL` (HOTLINE_SQLITE_SYNCHRONOUS=normal)
syncs only at checkpoints: a crash of the *process* still loses nothing, but a crash of the
operating system or a power cut may lose the last commits — messages already answered 2xx.
The inbox writer commits many messages at once (`bot.channels.pipeline`), so FULL costs one
sync per batch, not per message.

PostgreSQL's pool holds `pool_size` connections and no overflow: as many as the threads that
may hold one at once (the API's worker threads and the service's own), so no request waits
for a connection and no overflow connection is opened and closed per checkout. A connection
idle for a few seconds is pinged before use (a restarted server costs no transaction); one in
steady use is not (a ping per checkout was one round trip more for every claim).
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Final

from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DisconnectionError
from sqlalchemy.pool import StaticPool
from sqlmodel import Session

from bot.config import Settings

SQLITE_BUSY_TIMEOUT_MS = 5000
SQLITE_SYNCHRONOUS: Final = ("full", "normal")
# The API's worker threads (AnyIO's default limiter: 40) plus the service's own threads
# (asyncio's default executor: the inbox writer, the sender, the sweeps).
POOL_SIZE: Final = 50
POOL_TIMEOUT_S: Final = 30
PING_IDLE_AFTER_S: Final = 5.0  # a pooled connection idle this long is checked before use


class FairLock:
    """A FIFO lock: writers get the database in arrival order, so none starves in a surge
    (threading.Lock lets a releasing thread grab it again and others wait for seconds)."""

    def __init__(self) -> None:
        self._guard = threading.Lock()
        self._waiters: deque[threading.Event] = deque()
        self._held = False

    def __enter__(self) -> None:
        with self._guard:
            if not self._held:
                self._held = True
                return
            turn = threading.Event()
            self._waiters.append(turn)
        turn.wait()  # the releasing thread hands the lock over directly

    def __exit__(self, *_exc: object) -> None:
        with self._guard:
            if self._waiters:
                self._waiters.popleft().set()
            else:
                self._held = False


def _sqlite_pragmas(synchronous: str) -> Any:
    if synchronous not in SQLITE_SYNCHRONOUS:
        raise ValueError(f"SQLite synchronous must be one of {SQLITE_SYNCHRONOUS}")

    def on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None  # SQLAlchemy emits BEGIN itself (see _begin)
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA foreign_keys=ON")
        # Deleted and overwritten content is zeroed, not left in free pages for a copy of
        # the file to hold (an erasure must leave nothing behind).
        cursor.execute("PRAGMA secure_delete=ON")
        cursor.execute(f"PRAGMA synchronous={synchronous.upper()}")
        cursor.close()

    return on_connect


def _sqlite_begin(connection: Any) -> None:
    immediate = connection.get_execution_options().get("sqlite_immediate", False)
    connection.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")


# PostgreSQL's answers to a transaction that lost to another one: deadlock detected,
# serialization failure. Nothing of it was written; run again, it usually goes through.
_LOST_TO_ANOTHER: Final = frozenset({"40P01", "40001"})


def lost_a_conflict(exc: BaseException) -> bool:
    """True when `exc` is the database rolling a transaction back for another's sake."""
    return getattr(getattr(exc, "orig", None), "sqlstate", None) in _LOST_TO_ANOTHER


def make_engine(
    url: str, *, sqlite_synchronous: str = "full", pool_size: int = POOL_SIZE
) -> Engine:
    """An engine for the URL: SQLite with WAL, busy timeout, foreign keys and the chosen
    `synchronous`; PostgreSQL (psycopg 3) with a pool of `pool_size` and no overflow."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite":
        if parsed.drivername == "postgresql":
            parsed = parsed.set(drivername="postgresql+psycopg")
        engine = create_engine(
            parsed, pool_size=pool_size, max_overflow=0, pool_timeout=POOL_TIMEOUT_S
        )
        event.listen(engine, "checkin", _idle_from)
        event.listen(engine, "checkout", _ping_when_idle(engine))
        return engine
    in_memory = parsed.database in (None, "", ":memory:")
    if not in_memory and parsed.database:
        Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(
        parsed,
        connect_args={"check_same_thread": False, "timeout": SQLITE_BUSY_TIMEOUT_MS / 1000},
        **({"poolclass": StaticPool} if in_memory else {"pool_size": 20, "max_overflow": 0}),
    )
    event.listen(engine, "connect", _sqlite_pragmas(sqlite_synchronous))
    event.listen(engine, "begin", _sqlite_begin)
    return engine


def _idle_from(dbapi_connection: Any, record: Any) -> None:
    record.info["idle_since"] = time.monotonic()


def _ping_when_idle(engine: Engine) -> Any:
    """Check a pooled connection before use when it sat idle for `PING_IDLE_AFTER_S`: a
    server restart or a dropped connection is then found here, and the pool opens a fresh
    one, instead of failing the transaction. A connection in steady use (a surge) is not
    pinged: a ping on every checkout is one more round trip for every claim and batch."""

    def check(dbapi_connection: Any, record: Any, proxy: Any) -> None:
        since = record.info.get("idle_since")
        if since is None or time.monotonic() - since < PING_IDLE_AFTER_S:
            return
        try:
            engine.dialect.do_ping(dbapi_connection)
        except Exception as exc:
            raise DisconnectionError("idle connection is gone") from exc

    return check


class Database:
    """One database: a read engine and a write path over the same pool."""

    def __init__(
        self, url: str, *, sqlite_synchronous: str = "full", pool_size: int = POOL_SIZE
    ) -> None:
        self.url = url
        self.engine = make_engine(url, sqlite_synchronous=sqlite_synchronous, pool_size=pool_size)
        self.is_sqlite = self.engine.dialect.name == "sqlite"
        self._write_engine = (
            self.engine.execution_options(sqlite_immediate=True) if self.is_sqlite else self.engine
        )
        self._write_lock = FairLock() if self.is_sqlite else None

    @classmethod
    def from_settings(cls, settings: Settings) -> Database:
        """The configured database with the configured durability and pool."""
        return cls(
            settings.resolved_database_url,
            sqlite_synchronous=settings.sqlite_synchronous,
            pool_size=settings.db_pool_size,
        )

    @contextmanager
    def read(self) -> Iterator[Session]:
        """A session for reads; anything it writes is committed at the end."""
        with Session(self.engine, expire_on_commit=False) as session:
            yield session
            session.commit()

    @contextmanager
    def write(self) -> Iterator[Session]:
        """A short write transaction, committed at the end or rolled back on error."""
        if self._write_lock is None:
            with Session(self._write_engine, expire_on_commit=False) as session, session.begin():
                yield session
            return
        with (
            self._write_lock,
            Session(self._write_engine, expire_on_commit=False) as session,
            session.begin(),
        ):
            yield session

    @contextmanager
    def statements(self) -> Iterator[Connection]:
        """A Core connection for writes that are atomic on their own: on PostgreSQL in
        autocommit, each statement its own transaction (no BEGIN and COMMIT round trips);
        on SQLite one write transaction around them all, as `write()`."""
        if self._write_lock is None:
            with self.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
                yield conn
            return
        with self._write_lock, self._write_engine.begin() as conn:
            yield conn

    def ping(self) -> None:
        """Raise if the database does not answer."""
        with self.engine.connect() as connection:
            connection.exec_driver_sql("SELECT 1")

    def dispose(self) -> None:
        """Close every pooled connection."""
        self.engine.dispose()
