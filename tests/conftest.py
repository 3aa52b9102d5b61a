"""Shared fixtures: settings, and a migrated database on SQLite and on PostgreSQL.

A test that takes `database` runs twice: `[sqlite]` and `[postgresql]`. PostgreSQL comes
from HOTLINE_TEST_POSTGRES_URL (default: the local server's `test` database); each test
run creates a fresh database of its own there and drops it at the end. Without a server
the PostgreSQL runs are skipped with the reason, unless CI=true, where they fail.
"""

from __future__ import annotations

import os
import shutil
import uuid
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from bot.config import Settings
from bot.crypto import install_keyring
from bot.db import Database
from bot.migrate import upgrade
from tests.fakes.server import LiveServer
from tests.fakes.telegram_api import FakeBotAPI
from tests.fakes.twilio_api import FakeTwilio

TEST_SECRET = "test-secret-key-that-is-long-enough-0123456789"
POSTGRES_URL = os.environ.get(
    "HOTLINE_TEST_POSTGRES_URL", "postgresql+psycopg://127.0.0.1:5432/test"
)
IN_CI = os.environ.get("CI", "").lower() == "true"
BACKENDS = ("sqlite", "postgresql")


def make_settings(tmp_path: Path, **overrides: Any) -> Settings:
    """Settings isolated from the developer's environment and .env."""
    values: dict[str, Any] = {"data_dir": tmp_path, "secret_key": TEST_SECRET}
    values.update(overrides)
    return Settings(_env_file=None, **values)  # type: ignore[call-arg]


@pytest.fixture(autouse=True)
def _keyring() -> None:
    install_keyring(TEST_SECRET)


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return make_settings(tmp_path)


class PostgresServer:
    """Creates throwaway databases on the test server."""

    def __init__(self, url: str) -> None:
        self.admin_url = make_url(url).set(drivername="postgresql+psycopg")
        self.created: list[str] = []
        self.error: str | None = None
        try:
            engine = create_engine(self.admin_url, isolation_level="AUTOCOMMIT")
            with engine.connect() as connection:
                connection.exec_driver_sql("SELECT 1")
            engine.dispose()
        except Exception as exc:  # any failure to connect means "no server"
            self.error = f"PostgreSQL unreachable at {self.admin_url.render_as_string()}: {exc}"

    def create(self, prefix: str = "hotline_test") -> str:
        name = f"{prefix}_{os.getpid()}_{uuid.uuid4().hex[:8]}"
        engine = create_engine(self.admin_url, isolation_level="AUTOCOMMIT")
        with engine.connect() as connection:
            connection.exec_driver_sql(f'CREATE DATABASE "{name}"')
        engine.dispose()
        self.created.append(name)
        return self.admin_url.set(database=name).render_as_string(hide_password=False)

    def drop_all(self) -> None:
        engine = create_engine(self.admin_url, isolation_level="AUTOCOMMIT")
        with engine.connect() as connection:
            for name in self.created:
                connection.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        engine.dispose()


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    server = PostgresServer(POSTGRES_URL)
    yield server
    if server.error is None:
        server.drop_all()


def require_postgres(server: PostgresServer) -> None:
    """Skip (or, on CI, fail) when the PostgreSQL server is not there."""
    if server.error is None:
        return
    if IN_CI:
        pytest.fail(f"CI=true but {server.error}", pytrace=False)
    pytest.skip(f"{server.error} (set HOTLINE_TEST_POSTGRES_URL to run these tests)")


@pytest.fixture(params=BACKENDS)
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """An empty database on each backend (not migrated)."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'empty.db'}"
    server = request.getfixturevalue("postgres_server")
    require_postgres(server)
    return server.create("hotline_empty")


@pytest.fixture(scope="session")
def _migrated_templates(
    tmp_path_factory: pytest.TempPathFactory, postgres_server: PostgresServer
) -> dict[str, str]:
    """One migrated database per backend, built once per test run."""
    templates: dict[str, str] = {}
    sqlite_file = tmp_path_factory.mktemp("template") / "template.db"
    upgrade(f"sqlite:///{sqlite_file}")
    templates["sqlite"] = str(sqlite_file)
    if postgres_server.error is None:
        url = postgres_server.create()
        upgrade(url)
        templates["postgresql"] = url
    return templates


def _truncate_postgres(url: str) -> None:
    engine = create_engine(url)
    with engine.begin() as connection:
        tables = (
            connection.execute(
                text(
                    "SELECT tablename FROM pg_tables WHERE schemaname = 'public' "
                    "AND tablename <> 'alembic_version'"
                )
            )
            .scalars()
            .all()
        )
        if tables:
            names = ", ".join(f'"{t}"' for t in tables)
            connection.exec_driver_sql(f"TRUNCATE {names} RESTART IDENTITY CASCADE")
    engine.dispose()


@pytest.fixture(params=BACKENDS)
def database(
    request: pytest.FixtureRequest, tmp_path: Path, _migrated_templates: dict[str, str]
) -> Iterator[Database]:
    """A migrated, empty database on each backend."""
    if request.param == "sqlite":
        path = tmp_path / "hotline.db"
        shutil.copyfile(_migrated_templates["sqlite"], path)
        db = Database(f"sqlite:///{path}")
    else:
        require_postgres(request.getfixturevalue("postgres_server"))
        url = _migrated_templates["postgresql"]
        _truncate_postgres(url)
        db = Database(url)
    yield db
    db.dispose()


_RESULTS: Counter[tuple[str, str]] = Counter()


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    if report.when == "call" or (report.when == "setup" and report.outcome != "passed"):
        backend = next(
            (
                b
                for b in BACKENDS
                if f"[{b}" in report.nodeid
                or f"-{b}]" in report.nodeid
                or f"-{b}-" in report.nodeid
            ),
            "none",
        )
        _RESULTS[(backend, report.outcome)] += 1


def pytest_terminal_summary(terminalreporter: Any) -> None:
    write = terminalreporter.write_line
    write("")
    for backend, label in (
        ("sqlite", "SQLite"),
        ("postgresql", "PostgreSQL"),
        ("none", "no database"),
    ):
        counts = {o: _RESULTS[(backend, o)] for o in ("passed", "failed", "skipped")}
        write(
            f"on {label}: passed={counts['passed']} failed={counts['failed']} "
            f"skipped={counts['skipped']}"
        )


@pytest.fixture
def chromium() -> Path:
    """Debian's Chromium for browser tests: skipped without it, except under CI=true."""
    path = Path("/usr/bin/chromium")
    if not path.is_file():
        if IN_CI:
            pytest.fail(
                "CI=true but /usr/bin/chromium is missing (apt-get install chromium)", pytrace=False
            )
        pytest.skip("/usr/bin/chromium is not installed (apt-get install chromium)")
    return path


# The fake Bot API and Twilio servers on 127.0.0.1 (channel, security and voice tests).
@pytest.fixture
def bot_api() -> Iterator[tuple[FakeBotAPI, LiveServer]]:
    fake = FakeBotAPI()
    server = LiveServer(fake.app()).start()
    yield fake, server
    server.stop()


@pytest.fixture
def twilio_api() -> Iterator[tuple[FakeTwilio, LiveServer]]:
    fake = FakeTwilio()
    server = LiveServer(fake.app()).start()
    yield fake, server
    server.stop()
