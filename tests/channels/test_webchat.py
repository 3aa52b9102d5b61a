"""The web chat: the page, idempotent sends, polling for bot and staff replies."""

from __future__ import annotations

from pathlib import Path

from bot.db import Database
from bot.models import OutboundStatus
from tests.fakes.engine import EchoEngine

from .support import (
    add_staff_message,
    contacts,
    fast_app,
    inbound_rows,
    outbound_rows,
    running,
    settings_for,
    wait_for,
)

SESSION = "b3f1c0de" * 4


async def test_the_page_is_spanish_by_default_and_embeddable(
    database: Database, tmp_path: Path
) -> None:
    """GET / serves the chat in Spanish (English on request) with no framing restrictions."""
    app = fast_app(settings_for(tmp_path), database, EchoEngine())
    async with running(app) as client:
        spanish = await client.get("/")
        english = await client.get("/", params={"lang": "en"})
        script = await client.get("/chat/static/chat.js")
    assert spanish.status_code == 200 and '<html lang="es">' in spanish.text
    assert "Escriba su mensaje" in spanish.text and 'href="?lang=en"' in spanish.text
    assert '<html lang="en">' in english.text and "Write your message" in english.text
    assert "x-frame-options" not in spanish.headers
    assert "content-security-policy" not in spanish.headers
    assert script.status_code == 200 and "localStorage" in script.text


async def test_a_message_is_stored_once_and_its_replies_are_polled(
    database: Database, tmp_path: Path
) -> None:
    """The same browser message id twice is one inbox row; replies come back once each."""
    engine = EchoEngine()
    app = fast_app(settings_for(tmp_path), database, engine)
    message = {"session": SESSION, "id": "msg-0001-abcdef", "text": "hola", "lang": "en"}
    async with running(app) as client:
        first = await client.post("/chat/messages", json=message)
        again = await client.post("/chat/messages", json=message)
        assert (first.status_code, first.json()["duplicate"]) == (202, False)
        assert (again.status_code, again.json()["duplicate"]) == (202, True)
        await wait_for(lambda: bool(outbound_rows(database)), what="reply row")
        replies = (await client.get("/chat/messages", params={"session": SESSION})).json()
        assert [m["text"] for m in replies["messages"]] == ["echo: hola"]
        last = replies["messages"][-1]["id"]
        staff = add_staff_message(database, contacts(database)[0].id or 0, "Hola, soy Laura")
        later = (
            await client.get("/chat/messages", params={"session": SESSION, "after": last})
        ).json()
        assert later["messages"] == [{"id": staff, "text": "Hola, soy Laura", "options": []}]
        other = (await client.get("/chat/messages", params={"session": "z" * 32})).json()
        assert other["messages"] == []
    rows = inbound_rows(database)
    assert len(rows) == 1 and rows[0].channel == "web" and rows[0].sender == SESSION
    assert (rows[0].payload or {})["lang_hint"] == "en"
    assert {r.status for r in outbound_rows(database)} == {OutboundStatus.delivered}


async def test_buttons_are_offered_as_options(database: Database, tmp_path: Path) -> None:
    """A reply with choices carries its options (label and value) to the page."""
    app = fast_app(settings_for(tmp_path), database, EchoEngine())
    async with running(app) as client:
        await client.post(
            "/chat/messages", json={"session": SESSION, "id": "m" * 16, "text": "menu"}
        )
        await wait_for(lambda: bool(outbound_rows(database)), what="reply row")
        replies = (await client.get("/chat/messages", params={"session": SESSION})).json()
    assert replies["messages"][0]["options"][0] == {"label": "Redada o detención", "value": "raid"}


async def test_malformed_requests_are_refused(database: Database, tmp_path: Path) -> None:
    """Bad session ids, missing text or non-JSON bodies get 400 and store nothing."""
    app = fast_app(settings_for(tmp_path), database, EchoEngine())
    async with running(app) as client:
        for body in (
            {"session": "short", "id": "m" * 16, "text": "hola"},
            {"session": SESSION, "id": "bad id!", "text": "hola"},
            {"session": SESSION, "id": "m" * 16, "text": "   "},
            {"session": SESSION, "id": "m" * 16},
        ):
            assert (await client.post("/chat/messages", json=body)).status_code == 400
        assert (await client.post("/chat/messages", content=b"not json")).status_code == 400
        assert (await client.get("/chat/messages", params={"session": "x"})).status_code == 400
        huge = {"session": SESSION, "id": "m" * 16, "text": "x" * 70_000}
        assert (await client.post("/chat/messages", json=huge)).status_code == 413
    assert inbound_rows(database) == []


def test_one_address_cannot_flood_the_web_chat_with_fresh_sessions() -> None:
    """Past the per-address limit a minute, more messages are refused until it passes."""
    from bot.channels.web.webhook import AddressLimit

    limit = AddressLimit(per_minute=3)
    assert [limit.allow("203.0.113.9", t) for t in (0.0, 1.0, 2.0, 3.0)] == [
        True,
        True,
        True,
        False,
    ]
    assert limit.allow("198.51.100.4", 3.0)  # another address is not affected
    assert limit.allow("203.0.113.9", 61.0)  # a minute later the first may write again
