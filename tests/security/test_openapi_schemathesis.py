"""Schemathesis against the app's own /openapi.json, in-process through the real app:
generated requests never get a server error, every answer matches the description, and
every protected operation refuses a missing or wrong token.

Schemathesis's pytest fixture loader does not work with pytest 9 (it sets a private node
attribute), so each test loads the schema itself and runs Hypothesis per operation.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import schemathesis
from hypothesis import HealthCheck, given, settings
from starlette.types import ASGIApp, Receive, Scope, Send

from bot.db import Database
from tests.staff.support import bearer, new_case, new_contact, new_staff, seed_desks

from .test_headers_limits import OPS_TOKEN
from .test_staff_sessions import full_app

EXAMPLES = 12


def without_lifespan(app: ASGIApp) -> ASGIApp:
    """The app without its background workers: Schemathesis keeps an app's lifespan running
    until the process ends, and the API routes need none of them."""

    async def asgi(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "lifespan":
            await app(scope, receive, send)
            return
        while (await receive())["type"] != "lifespan.shutdown":
            await send({"type": "lifespan.startup.complete"})
        await send({"type": "lifespan.shutdown.complete"})

    return asgi


def staff_api(database: Database, tmp_path: Path) -> tuple[Any, str]:
    """The schema as the app serves it (behind the operator token) and a central
    supervisor's token (sees every desk), with cases in the queue."""
    seed_desks(database)
    for priority in ("critical", "normal"):
        new_case(database, priority=priority, contact_id=new_contact(database, address=priority))
    _, token = new_staff(database, "Sara", "central", "supervisor")
    app = without_lifespan(full_app(database, tmp_path, ops_token=OPS_TOKEN))
    schema = schemathesis.openapi.from_asgi("/openapi.json", app, headers=bearer(OPS_TOKEN))
    return schema, token


def path_value(name: str) -> str | int:
    """A plausible value for a path parameter: a case reference or a row id."""
    return "HL-7K4M2Q" if name == "ref" else 1 if name.endswith("_id") else "x"


def operations(schema: Any) -> list[Any]:
    found = [result.ok() for result in schema.get_all_operations()]
    assert len(found) >= 10, "the staff API is described"
    return found


def test_generated_requests_get_no_server_error_and_match_the_schema(
    database: Database, tmp_path: Path
) -> None:
    """For every operation, generated requests with a valid token: no 5xx, and status
    codes, content types, headers and bodies as described (Schemathesis's checks)."""
    schema, token = staff_api(database, tmp_path)
    for operation in operations(schema):

        @given(case=operation.as_strategy())
        @settings(
            max_examples=EXAMPLES,
            deadline=None,
            derandomize=True,
            database=None,
            suppress_health_check=list(HealthCheck),
        )
        def run(case: Any) -> None:
            case.call_and_validate(headers=bearer(token))

        run()


def test_every_protected_operation_refuses_missing_and_wrong_tokens(
    database: Database, tmp_path: Path
) -> None:
    """Each operation declares bearer security and answers 401 without a token, with a
    malformed, an unknown, or a schemeless one."""
    schema, token = staff_api(database, tmp_path)
    assert "HTTPBearer" in schema.raw_schema["components"]["securitySchemes"]
    refused = (
        {},
        bearer("nonsense"),
        bearer("hls_" + "A" * 43),
        {"Authorization": token},  # no scheme
        {"Authorization": f"Basic {token}"},
    )
    for operation in operations(schema):
        assert operation.definition.raw.get("security"), operation.label
        wanted = {p.name: path_value(p.name) for p in operation.path_parameters}
        case = operation.Case(path_parameters=wanted)
        for headers in refused:
            response = case.call(headers=headers)
            assert response.status_code == 401, (operation.label, headers)
            assert response.headers.get("www-authenticate") == ["Bearer"]
