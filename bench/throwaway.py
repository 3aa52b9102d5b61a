"""Throwaway databases for the benchmarks: a SQLite file in a temporary directory, or a fresh
database on a PostgreSQL server (created from `admin_url`, dropped at the end)."""

from __future__ import annotations

import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import create_engine
from sqlalchemy.engine import make_url

DEFAULT_POSTGRES = "postgresql+psycopg://127.0.0.1:5432/test"


def create_postgres(admin_url: str) -> tuple[str, str]:
    """Create an empty database on the server; return its name and URL."""
    name = f"hotline_bench_{uuid.uuid4().hex[:8]}"
    admin = make_url(admin_url).set(drivername="postgresql+psycopg")
    engine = create_engine(admin, isolation_level="AUTOCOMMIT")
    with engine.connect() as connection:
        connection.exec_driver_sql(f'CREATE DATABASE "{name}"')
    engine.dispose()
    return name, admin.set(database=name).render_as_string(hide_password=False)


def drop_postgres(admin_url: str, name: str) -> None:
    """Drop a database made by `create_postgres`."""
    admin = make_url(admin_url).set(drivername="postgresql+psycopg")
    engine = create_engine(admin, isolation_level="AUTOCOMMIT")
    with engine.connect() as connection:
        connection.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    engine.dispose()


@contextmanager
def throwaway(postgres: str | None) -> Iterator[tuple[str, Path]]:
    """(database URL, a temporary directory): SQLite in that directory when `postgres` is
    None, else a fresh database on that server."""
    with tempfile.TemporaryDirectory() as tmp:
        if postgres is None:
            yield f"sqlite:///{Path(tmp) / 'bench.db'}", Path(tmp)
            return
        name, url = create_postgres(postgres)
        try:
            yield url, Path(tmp)
        finally:
            drop_postgres(postgres, name)
