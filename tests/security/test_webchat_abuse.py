"""The web chat against a patient attacker: forged sessions, other origins, forged proxy
headers, floods from one address, fake corroboration of a raid; and the person's own way
out (BORRAR ends the browser's session). Everything goes through the real app."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlmodel import col, select

from bot.channels.web.session import Sessions
from bot.conversations import Hotline
from bot.crypto import Keyring
from bot.db import Database
from bot.models import (
    Case,
    InboundMessage,
    InboundStatus,
    Incident,
    OutboundMessage,
    OutboundStatus,
    RateCount,
    SweepMark,
)
from tests.channels.support import (
    PUBLIC_URL,
    add_staff_message,
    contacts,
    fast_app,
    inbound_rows,
    outbound_rows,
    post_twilio,
    settings_for,
    sms,
    wait_for,
)
from tests.channels.test_reports import answer
from tests.channels.webpage import Page, one_page, page_client, serving
from tests.fakes.engine import EchoEngine
from tests.fakes.server import LiveServer
from tests.fakes.twilio_api import FakeTwilio

COOKIE = "__Host-hotline-chat"
DOMAIN = "hotline.example.org"  # the host of PUBLIC_URL: the cookie is host-only
PEER = "198.51.100.7"
PROXY = "10.0.0.2"


def rate_rows(db: Database) -> set[tuple[str, int, int]]:
    with db.read() as session:
        return {(r.bucket, r.minute, r.count) for r in session.exec(select(RateCount)).all()}


def early_in_a_minute() -> None:
    """Limits count in fixed minutes: a test that counts to a limit starts early in one, so
    its counting does not straddle two."""
    left = 60 - time.time() % 60
    if left < 20:
        time.sleep(left + 0.05)


def sender_of(page: Page) -> str:
    """The session id inside the page's cookie (the browser's script never sees it)."""
    return str(page.client.cookies[COOKIE]).split(".")[0]


def cleared(response: httpx.Response) -> bool:
    """The response tells the browser to forget its session cookie."""
    header = response.headers.get("set-cookie", "")
    return header.startswith(f"{COOKIE}=") and "Max-Age=0" in header


async def test_a_session_the_server_did_not_issue_is_refused_and_replaced(
    database: Database, tmp_path: Path
) -> None:
    """A made-up, re-signed or expired session id stores nothing; asking again gives the
    browser a fresh id of the server's own, and an id in the body is never used."""
    settings = settings_for(tmp_path)
    another_service = Keyring("another-service-secret-0123456789-abcdef")
    elsewhere = Sessions((another_service.derived_key("web-chat-session"),), days=30, secure=True)
    _, foreign = elsewhere.issue(time.time())
    _, expired = Sessions.from_settings(settings).issue(time.time() - 31 * 86400)
    made_up = "A" * 22 + ".1700000000." + "B" * 43
    async with one_page(fast_app(settings, database, EchoEngine())) as page:
        for forged in (made_up, foreign, expired, "anything"):
            page.client.cookies.set(COOKIE, forged, DOMAIN)
            body = {"id": "m" * 16, "text": "hola", "session": forged.split(".")[0]}
            sent = await page.client.post("/chat/messages", json=body)
            assert sent.status_code == 401 and cleared(sent)
            page.client.cookies.set(COOKIE, forged, DOMAIN)
            polled = await page.client.get("/chat/messages")
            assert polled.status_code == 401 and cleared(polled)
        page.client.cookies.set(COOKIE, made_up, DOMAIN)
        assert (await page.start()).status_code == 201
        assert str(page.client.cookies[COOKIE]) != made_up
        chosen = "c" * 32
        sent = await page.client.post(
            "/chat/messages", json={"id": "m" * 16, "text": "hola", "session": chosen}
        )
        assert sent.status_code == 202
    rows = inbound_rows(database)
    assert [r.sender for r in rows] == [sender_of(page)]
    assert chosen not in {r.sender for r in rows} and "A" * 22 not in {r.sender for r in rows}


async def test_the_session_cookie_is_httponly_strict_and_host_only(
    database: Database, tmp_path: Path
) -> None:
    """The cookie cannot be read by a script, sent by another site, or set by a sibling host."""
    async with one_page(fast_app(settings_for(tmp_path), database, EchoEngine())) as page:
        response = await page.start()
    header = response.headers["set-cookie"]
    assert header.startswith(f"{COOKIE}=")
    for attribute in ("HttpOnly", "SameSite=strict", "Secure", "Path=/"):
        assert attribute.lower() in header.lower()
    assert "domain=" not in header.lower()


async def test_a_cross_origin_post_is_refused_with_nothing_written(
    database: Database, tmp_path: Path
) -> None:
    """Another site's page making its visitors post (text/plain needs no permission from the
    browser) is refused, as is a post with no Origin at all: no row, no count, no cookie."""
    app = fast_app(settings_for(tmp_path), database, EchoEngine())
    body = '{"id": "mmmmmmmmmmmmmmmm", "text": "redada en 77036"}'
    async with serving(app) as running_app:
        async with page_client(running_app) as ours:
            assert (await Page(ours).start()).status_code == 201  # a real visitor's session
            visitor_cookies = ours.cookies
            rows_before = rate_rows(database)
        attempts: list[tuple[dict[str, str], int]] = [
            ({"Origin": "https://evil.example", "Content-Type": "text/plain"}, 403),
            ({"Origin": "https://evil.example", "Content-Type": "application/json"}, 403),
            ({"Origin": "null", "Content-Type": "text/plain"}, 403),
            ({"Referer": "https://evil.example/page", "Content-Type": "text/plain"}, 403),
            ({"Content-Type": "application/json"}, 403),  # no Origin, no Referer
            ({"Origin": PUBLIC_URL, "Content-Type": "text/plain"}, 415),
            ({"Origin": PUBLIC_URL, "Content-Type": "application/x-www-form-urlencoded"}, 415),
        ]
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=running_app, client=(PEER, 1)),
            base_url=PUBLIC_URL,
            cookies=visitor_cookies,  # the browser sends the visitor's cookie along
        ) as attacker:
            for headers, status in attempts:
                for path in ("/chat/messages", "/chat/session", "/chat/session/end"):
                    response = await attacker.post(path, content=body, headers=headers)
                    assert response.status_code == status, (headers, path)
                    assert "set-cookie" not in response.headers
    assert inbound_rows(database) == []
    assert rate_rows(database) == rows_before


async def test_a_post_from_the_page_itself_passes_with_origin_or_referer(
    database: Database, tmp_path: Path
) -> None:
    """The page's own origin (the public URL, or the host the request went to) is enough;
    a browser that sends only a Referer from the page is accepted too."""
    app = fast_app(settings_for(tmp_path), database, EchoEngine())
    async with serving(app) as running_app:
        async with page_client(
            running_app, headers={"Origin": "", "Referer": f"{PUBLIC_URL}/?lang=en"}
        ) as client:
            assert (await Page(client).say("hola")).status_code == 202
        local = httpx.AsyncClient(
            transport=httpx.ASGITransport(app=running_app, client=(PEER, 1)),
            base_url="http://127.0.0.1:8000",
            headers={"Origin": "http://127.0.0.1:8000"},
        )
        async with local:
            assert (await local.post("/chat/session", json={})).status_code == 201
    assert len(inbound_rows(database)) == 1


def limited_settings(tmp_path: Path, **more: Any) -> Any:
    return settings_for(
        tmp_path,
        web_messages_per_address_per_minute=3,
        web_sessions_per_address_per_minute=2,
        **more,
    )


async def _statuses(page: Page, count: int, headers: list[dict[str, str]]) -> list[int]:
    codes = []
    for n in range(count):
        extra = headers[n % len(headers)]
        response = await page.client.post(
            "/chat/messages", json={"id": f"flood-{n:08d}", "text": "x"}, headers=extra
        )
        codes.append(response.status_code)
    return codes


async def test_forged_forwarded_for_from_an_untrusted_peer_gets_the_same_limit(
    database: Database, tmp_path: Path
) -> None:
    """Without trusted proxies (or from a peer that is not one), X-Forwarded-For is ignored:
    a fresh forged address on every request still meets the one address's limits."""
    for trusted in ("", PROXY):
        early_in_a_minute()
        app = fast_app(limited_settings(tmp_path, trusted_proxies=trusted), database, EchoEngine())
        async with serving(app) as running_app, page_client(running_app, peer=PEER) as client:
            page = Page(client)
            forged = [{"X-Forwarded-For": f"203.0.113.{n}"} for n in range(1, 50)]
            assert (await page.start()).status_code == 201
            assert await _statuses(page, 5, forged) == [202, 202, 202, 429, 429]
            plain = await page.client.post(
                "/chat/messages", json={"id": "plain-000001", "text": "x"}
            )
            assert plain.status_code == 429  # the same limit as with no header at all
            fresh = [page_client(running_app, peer=PEER, headers=h) for h in forged[:3]]
            codes = [(await Page(c).start()).status_code for c in fresh]
            assert codes == [201, 429, 429]  # the first session above was the address's first
            for c in fresh:
                await c.aclose()
        with database.write() as session:  # the next round starts from zero
            for row in session.exec(select(RateCount)).all():
                session.delete(row)


async def test_behind_a_trusted_proxy_each_client_address_has_its_own_limit(
    database: Database, tmp_path: Path
) -> None:
    """With the proxy trusted, the address it reports counts, each with its own limit; an
    address the client wrote in front of it changes nothing."""
    settings = limited_settings(tmp_path, trusted_proxies="10.0.0.0/24")
    app = fast_app(settings, database, EchoEngine())
    early_in_a_minute()
    alice_header = {"X-Forwarded-For": "203.0.113.5"}
    async with (
        serving(app) as running_app,
        page_client(running_app, peer=PROXY, headers=alice_header) as alice_client,
        page_client(running_app, peer=PROXY, headers={"X-Forwarded-For": "203.0.113.6"}) as bob,
    ):
        alice, bob_page = Page(alice_client), Page(bob)
        assert (await alice.start()).status_code == 201
        assert (await bob_page.start()).status_code == 201
        spoofed = {"X-Forwarded-For": "192.0.2.99, 203.0.113.5"}  # Alice pretends to be another
        assert await _statuses(alice, 4, [alice_header, spoofed]) == [202, 202, 202, 429]
        assert await _statuses(bob_page, 3, [{}]) == [202, 202, 202]  # Bob is not affected
        assert (await _statuses(bob_page, 1, [{}]))[0] == 429
    assert len({r.sender for r in inbound_rows(database)}) == 2


async def test_the_overall_limit_holds_across_many_addresses(
    database: Database, tmp_path: Path
) -> None:
    """Fresh sessions from ever new addresses stop at the overall limit per minute, while a
    person already in a conversation goes on being answered."""
    settings = settings_for(tmp_path, web_sessions_per_minute=4)
    app = fast_app(settings, database, EchoEngine())
    codes = []
    early_in_a_minute()
    async with serving(app) as running_app, page_client(running_app, peer=PEER) as talking:
        person = Page(talking)
        assert (await person.start()).status_code == 201
        for n in range(5):
            async with page_client(running_app, peer=f"198.51.100.{n + 10}") as client:
                codes.append((await Page(client).start()).status_code)
        assert (await person.say("hola")).status_code == 202
    assert codes == [201, 201, 201, 429, 429]
    assert len(inbound_rows(database)) == 1


async def test_an_ipv6_client_is_limited_by_its_whole_slash_64(
    database: Database, tmp_path: Path
) -> None:
    """Addresses of one /64 (one home or phone) share one limit."""
    app = fast_app(limited_settings(tmp_path), database, EchoEngine())
    codes = []
    early_in_a_minute()
    async with serving(app) as running_app:
        for n in range(3):
            async with page_client(running_app, peer=f"2001:db8:1:2::{n + 1:x}") as client:
                codes.append((await Page(client).start()).status_code)
        async with page_client(running_app, peer="2001:db8:1:3::1") as client:
            codes.append((await Page(client).start()).status_code)
    assert codes == [201, 201, 429, 201]


# --- A raid "corroborated" by one person with two browsers --------------------------------

Send = Callable[[str], Awaitable[None]]


def _mine(db: Database, channel: str, sender: str) -> tuple[list[InboundMessage], set[int]]:
    rows = [r for r in inbound_rows(db) if r.channel == channel and r.sender == sender]
    return rows, {r.contact_id for r in rows if r.contact_id is not None}


async def report(db: Database, channel: str, sender: Callable[[], str], send: Send) -> Case:
    """Answer like a hurried person until this person's report leaves intake."""
    text, seen = "hola, hay una redada ahorita", 0
    for turn in range(30):
        await send(text)

        def processed(turn: int = turn) -> bool:
            rows, _ = _mine(db, channel, sender())
            return len(rows) > turn and rows[turn].status != InboundStatus.pending

        await wait_for(processed, within=15, what=f"{channel} turn {turn}")
        _, contact_ids = _mine(db, channel, sender())
        with db.read() as session:
            case = session.exec(select(Case).where(col(Case.contact_id).in_(contact_ids))).first()
            replies = session.exec(
                select(OutboundMessage)
                .where(col(OutboundMessage.contact_id).in_(contact_ids))
                .order_by(col(OutboundMessage.id))
            ).all()
        if case is not None and case.intake_step is None:
            return case
        assert len(replies) > seen, f"no reply at turn {turn}"
        seen = len(replies)
        text, choice = answer(replies[-1].text, replies[-1].options)
        if choice is not None and channel == "sms":
            text = str(choice + 1)
    raise AssertionError("no case after 30 turns")


def incident_of(db: Database) -> Incident:
    with db.read() as session:
        incidents = session.exec(select(Incident)).all()
    assert len(incidents) == 1
    return incidents[0]


@pytest.fixture
def twilio() -> Iterator[tuple[FakeTwilio, LiveServer]]:
    fake = FakeTwilio()
    server = LiveServer(fake.app()).start()
    yield fake, server
    server.stop()


async def test_web_reports_corroborate_a_raid_only_with_another_channel(
    database: Database, tmp_path: Path, twilio: tuple[FakeTwilio, LiveServer]
) -> None:
    """Two web sessions reporting the same raid stay one unverified source; an SMS report
    from the same place corroborates it."""
    settings = settings_for(tmp_path, twilio_api=twilio[1].url)
    app = fast_app(settings, database, Hotline.load(settings))
    async with serving(app) as running_app:
        for peer in ("198.51.100.20", "198.51.100.21"):
            async with page_client(running_app, peer=peer) as client:
                page = Page(client)

                async def say(text: str, page: Page = page) -> None:
                    assert (await page.say(text)).status_code == 202

                case = await report(database, "web", lambda page=page: sender_of(page), say)
                assert (case.channel, case.intent, case.desk_id) == ("web", "raid", "houston")
        incident = incident_of(database)
        assert (incident.reporter_count, incident.state) == (2, "unverified")

        async with page_client(running_app) as client:
            turn = iter(range(100))

            async def text_in(text: str) -> None:
                params = sms(f"SM{next(turn):032d}", "+17135550188", text)
                response = await post_twilio(client, "/webhooks/twilio/sms", params)
                assert response.status_code == 200

            case = await report(database, "sms", lambda: "+17135550188", text_in)
    assert case.intent == "raid"
    incident = incident_of(database)
    assert (incident.reporter_count, incident.state) == (3, "corroborated")


async def test_borrar_ends_the_session_in_the_browser(database: Database, tmp_path: Path) -> None:
    """Once the erasure is confirmed, the next poll shows the confirmation, says the session
    ended and clears the cookie; a kept copy of the cookie shows nothing of the erased
    conversation, and the next message starts a new session."""
    settings = settings_for(tmp_path)
    app = fast_app(settings, database, Hotline.load(settings))
    async with one_page(app) as page:

        async def turn(text: str) -> dict[str, Any]:
            count = len(inbound_rows(database))
            assert (await page.say(text)).status_code == 202
            await wait_for(
                lambda: (
                    len(inbound_rows(database)) > count
                    and inbound_rows(database)[count].status != InboundStatus.pending
                ),
                what=f"{text!r} processed",
            )
            return await page.poll()

        first = await turn("hola")
        assert first["messages"] and first["end"] is False
        old_cookie = str(page.client.cookies[COOKIE])
        ask = await turn("borrar")
        yes = ask["messages"][-1]["options"][0]["value"]
        await page.say(yes)
        await wait_for(lambda: contacts(database)[0].erased_at is not None, what="erasure")
        response = await page.client.get("/chat/messages", params={"after": page.after})
        data = response.json()
        assert data["end"] is True and cleared(response)
        assert any("borramos sus datos" in m["text"] for m in data["messages"])
        assert COOKIE not in page.client.cookies
        page.client.cookies.set(COOKIE, old_cookie, DOMAIN)  # someone kept a copy of the cookie
        assert (await page.client.get("/chat/messages")).json()["messages"] == []
        page.client.cookies.clear()
        assert (await page.say("hola de nuevo")).status_code == 202
        assert sender_of(page) != old_cookie.split(".")[0]
        await wait_for(lambda: len(contacts(database)) == 2, what="a new person")


async def test_clearing_the_conversation_forgets_only_the_browser_copy(
    database: Database, tmp_path: Path
) -> None:
    """POST /chat/session/end clears the cookie; the conversation stays on the server."""
    async with one_page(fast_app(settings_for(tmp_path), database, EchoEngine())) as page:
        assert (await page.say("hola")).status_code == 202
        await wait_for(lambda: bool(outbound_rows(database)), what="reply")
        ended = await page.client.post("/chat/session/end", json={})
        assert ended.status_code == 200 and cleared(ended)
        assert await page.poll() == {"messages": [], "session": False}
    assert len(inbound_rows(database)) == 1 and contacts(database)[0].erased_at is None


@contextmanager
def write_transaction_open(db: Database) -> Iterator[None]:
    """Hold a write transaction (on SQLite: the write lock) open in another thread."""
    holding, release = threading.Event(), threading.Event()
    failure: list[BaseException] = []

    def hold() -> None:
        try:
            with db.write() as session:
                session.add(SweepMark(name="test", key="held"))
                session.flush()
                holding.set()
                release.wait(60)
        except BaseException as exc:  # reported below
            failure.append(exc)
            holding.set()

    thread = threading.Thread(target=hold, daemon=True)
    thread.start()
    holding.wait(30)
    try:
        yield
    finally:
        release.set()
        thread.join(30)
    assert not failure, failure


async def test_polling_works_while_a_write_transaction_is_open(
    database: Database, tmp_path: Path
) -> None:
    """A surge of polls is answered while a writer holds the database (on SQLite, the one
    write lock); the replies are marked delivered once it lets go."""
    async with one_page(fast_app(settings_for(tmp_path), database, EchoEngine())) as page:
        assert (await page.say("hola")).status_code == 202
        await wait_for(lambda: bool(outbound_rows(database)), what="reply")
        contact = contacts(database)[0].id or 0
        staff = add_staff_message(database, contact, "Hola, soy Laura")
        with write_transaction_open(database):
            polls = [page.client.get("/chat/messages") for _ in range(40)]
            responses = await asyncio.wait_for(asyncio.gather(*polls), timeout=30)
            assert {r.status_code for r in responses} == {200}
            assert all(r.json()["messages"][-1]["id"] == staff for r in responses)
            held = {r.status for r in outbound_rows(database)}
            if database.is_sqlite:
                assert held == {OutboundStatus.pending}  # marking waits for the writer...
        await wait_for(  # ...and happens without the page asking again
            lambda: {r.status for r in outbound_rows(database)} == {OutboundStatus.delivered},
            what="replies marked delivered",
        )


@pytest.mark.parametrize(
    ("trusted", "peer", "forwarded", "client"),
    [
        ("", "203.0.113.9", ["198.51.100.1"], "203.0.113.9"),  # no proxy trusted
        ("10.0.0.0/8", "203.0.113.9", ["198.51.100.1"], "203.0.113.9"),  # not from the proxy
        ("10.0.0.0/8", "10.1.1.1", [], "10.1.1.1"),  # the proxy sent no header
        ("10.0.0.0/8", "10.1.1.1", ["198.51.100.1, 203.0.113.9"], "203.0.113.9"),
        ("10.0.0.0/8", "10.1.1.1", ["198.51.100.1", "203.0.113.9, 10.2.2.2"], "203.0.113.9"),
        ("10.0.0.0/8", "10.1.1.1", ["203.0.113.9:5555"], "203.0.113.9"),
        ("10.0.0.0/8", "10.1.1.1", ["[2001:db8::7]:443"], "2001:db8::7"),
        ("10.0.0.0/8", "10.1.1.1", ["10.3.3.3, 10.2.2.2"], "10.3.3.3"),  # all inside
        ("10.0.0.0/8", "10.1.1.1", ["198.51.100.1, not-an-address"], "10.1.1.1"),
        ("127.0.0.1,::1", "::1", ["2001:db8::7"], "2001:db8::7"),
    ],
)
def test_client_address_believes_only_the_trusted_proxies(
    tmp_path: Path, trusted: str, peer: str, forwarded: list[str], client: str
) -> None:
    """The client is the right-most X-Forwarded-For entry outside the trusted proxies, and
    only when the connection comes from one of them."""
    from starlette.requests import Request

    from bot.clientaddr import client_address
    from tests.conftest import make_settings

    headers = [(b"x-forwarded-for", value.encode()) for value in forwarded]
    request = Request({"type": "http", "headers": headers, "client": (peer, 1)})
    assert client_address(request, make_settings(tmp_path, trusted_proxies=trusted)) == client


@pytest.mark.parametrize("value", ["0.0.0.0/0", "::/0", "example.org", "10.0.0.0/8, *"])
def test_trusting_everyone_or_a_name_is_a_configuration_error(value: str) -> None:
    """HOTLINE_TRUSTED_PROXIES takes addresses and networks, never everyone."""
    from bot.config import get_settings
    from bot.errors import ConfigError

    with pytest.raises(ConfigError, match="HOTLINE_TRUSTED_PROXIES"):
        get_settings(_env_file=None, trusted_proxies=value)
