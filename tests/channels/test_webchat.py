"""The web chat: the page, idempotent sends, polling for bot and staff replies.

Abuse (forged sessions, other origins, floods, proxies) is tested in
tests/security/test_webchat_abuse.py.
"""

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
from .webpage import Page, one_page, page_client, serving


async def test_the_page_is_spanish_by_default_with_no_code_inline(
    database: Database, tmp_path: Path
) -> None:
    """GET / serves the chat in Spanish (English on request), its script and styles apart."""
    app = fast_app(settings_for(tmp_path), database, EchoEngine())
    async with running(app) as client:
        spanish = await client.get("/")
        english = await client.get("/", params={"lang": "en"})
        script = await client.get("/chat/static/chat.js")
        styles = await client.get("/chat/static/chat.css")
        other = await client.get("/chat/static/webhook.py")
    assert spanish.status_code == 200 and '<html lang="es">' in spanish.text
    assert "Escriba su mensaje" in spanish.text and 'href="?lang=en"' in spanish.text
    assert "Limpiar esta conversación" in spanish.text
    assert '<html lang="en">' in english.text and "Write your message" in english.text
    assert "<style" not in spanish.text and "<script>" not in spanish.text  # nothing inline
    assert script.status_code == 200 and "localStorage" in script.text
    assert styles.status_code == 200 and styles.headers["content-type"].startswith("text/css")
    assert other.status_code == 404


async def test_a_message_is_stored_once_and_its_replies_are_polled(
    database: Database, tmp_path: Path
) -> None:
    """The same browser message id twice is one inbox row; replies come back once each."""
    engine = EchoEngine()
    app = fast_app(settings_for(tmp_path), database, engine)
    async with (
        serving(app) as running_app,
        page_client(running_app) as client,
        page_client(running_app) as other,
    ):
        page, stranger = Page(client), Page(other)
        message = {"id": "msg-0001-abcdef", "text": "hola"}
        assert (await client.post("/chat/messages", json=message)).status_code == 401  # no session
        assert (await page.start()).status_code == 201
        assert (await page.start()).status_code == 200  # the session it has is kept
        first = await page.say("hola", "msg-0001-abcdef", lang="en")
        again = await page.say("hola", "msg-0001-abcdef", lang="en")
        assert (first.status_code, first.json()["duplicate"]) == (202, False)
        assert (again.status_code, again.json()["duplicate"]) == (202, True)
        await wait_for(lambda: bool(outbound_rows(database)), what="reply row")
        replies = await page.poll()
        assert [m["text"] for m in replies["messages"]] == ["echo: hola"]
        staff = add_staff_message(database, contacts(database)[0].id or 0, "Hola, soy Laura")
        later = await page.poll()
        assert later["messages"] == [{"id": staff, "text": "Hola, soy Laura", "options": []}]
        assert await stranger.poll() == {"messages": [], "session": False}
        await wait_for(
            lambda: {r.status for r in outbound_rows(database)} == {OutboundStatus.delivered},
            what="replies marked delivered",
        )
    rows = inbound_rows(database)
    assert len(rows) == 1 and rows[0].channel == "web"
    assert (rows[0].payload or {})["lang_hint"] == "en"


async def test_buttons_are_offered_as_options(database: Database, tmp_path: Path) -> None:
    """A reply with choices carries its options (label and value) to the page."""
    app = fast_app(settings_for(tmp_path), database, EchoEngine())
    async with one_page(app) as page:
        await page.say("menu")
        await wait_for(lambda: bool(outbound_rows(database)), what="reply row")
        replies = await page.poll()
    assert replies["messages"][0]["options"][0] == {"label": "Redada o detención", "value": "raid"}


async def test_malformed_requests_are_refused(database: Database, tmp_path: Path) -> None:
    """Bad message ids, missing text or non-JSON bodies get 400 and store nothing."""
    app = fast_app(settings_for(tmp_path), database, EchoEngine())
    async with one_page(app) as page:
        assert (await page.start()).status_code == 201
        for body in (
            {"id": "bad id!", "text": "hola"},
            {"id": "m" * 16, "text": "   "},
            {"id": "m" * 16},
            {"text": "hola"},
        ):
            assert (await page.client.post("/chat/messages", json=body)).status_code == 400
        not_json = await page.client.post(
            "/chat/messages", content=b"not json", headers={"Content-Type": "application/json"}
        )
        assert not_json.status_code == 400
        huge = {"id": "m" * 16, "text": "x" * 70_000}
        assert (await page.client.post("/chat/messages", json=huge)).status_code == 413
    assert inbound_rows(database) == []
