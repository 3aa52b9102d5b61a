"""`hotline staff add` and `hotline queue`: the functions the CLI wires in."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bot.db import Database
from bot.models import Staff
from bot.staff.auth import hash_token
from bot.staff.commands import add_staff, queue_lines, set_password
from bot.staff.errors import Invalid

from .support import bearer, client, make_app, new_case, seed_desks


async def test_add_staff_token_works_once_shown(database: Database, tmp_path: Path) -> None:
    """The printed token authenticates; only its hash is stored."""
    seed_desks(database)
    staff, token = add_staff(database, name="Ana Ruiz", desk="los-angeles", role="supervisor")
    with database.read() as session:
        stored = session.get(Staff, staff.id)
        assert stored is not None
        assert stored.token_hash == hash_token(token) and token not in stored.token_hash
        assert stored.password_hash is None
    async with client(make_app(database, tmp_path)) as c:
        me = (await c.get("/api/v1/me", headers=bearer(token))).json()
    assert me == {"id": staff.id, "name": "Ana Ruiz", "desk": "los-angeles", "role": "supervisor"}


def test_add_staff_refuses_bad_input(database: Database) -> None:
    """Unknown desk or role, a taken name and a short password are refused."""
    seed_desks(database)
    add_staff(database, name="Ana", desk="los-angeles", role="agent")
    for kwargs in (
        {"name": "Bea", "desk": "atlantis", "role": "agent"},
        {"name": "Bea", "desk": "houston", "role": "boss"},
        {"name": " ana ", "desk": "houston", "role": "agent"},
        {"name": "Bea", "desk": "houston", "role": "agent", "password": "short"},
    ):
        with pytest.raises(Invalid):
            add_staff(database, **kwargs)
    set_password(database, name="ana", password="a long enough password")


def test_queue_lines_json(database: Database) -> None:
    """One JSON object per open case, in queue order, with the contract's fields."""
    seed_desks(database)
    normal = new_case(database, priority="normal")
    critical = new_case(database, priority="critical")
    new_case(database, desk="houston")
    lines = [json.loads(line) for line in queue_lines(database, "los-angeles", True)]
    assert [line["ref"] for line in lines] == [critical, normal]
    assert {"ref", "intent", "priority", "desk", "status", "channel", "created_at"} <= set(lines[0])
    assert len(list(queue_lines(database, None, False))) == 3


def test_the_database_refuses_a_second_account_with_the_same_name(database: Database) -> None:
    """Even past the command's own check, names are unique regardless of case."""
    import pytest
    from sqlalchemy.exc import IntegrityError

    from bot.models import Staff

    seed_desks(database)
    with pytest.raises(IntegrityError), database.write() as session:
        session.add(Staff(name="Ana", desk_id="houston", token_hash="a" * 64))
        session.add(Staff(name="ANA", desk_id="houston", token_hash="b" * 64))
