"""Staff sessions and credentials through the real app: logout, password change and
deactivation end sessions; idle and absolute timeouts; token expiry and rotation; the login
throttle; cookie attributes; the `hotline staff` commands."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlmodel import select

from bot.app import create_app
from bot.config import get_settings
from bot.db import Database
from bot.errors import ConfigError
from bot.models import LoginThrottle, Staff, utcnow
from bot.staff.auth import check_login
from bot.staff.commands import deactivate_staff, rotate_token, set_password
from bot.staff.session import SessionLimits, SessionSigner, StaffSession
from tests.conftest import TEST_SECRET, make_settings
from tests.fakes.engine import EchoEngine
from tests.staff.support import PASSWORD, audits, bearer, csrf_from, log_in, new_staff, seed_desks

ATTACKER = "203.0.113.66"
AGENT = "198.51.100.7"


def full_app(database: Database, tmp_path: Path, **settings: Any) -> FastAPI:
    """The whole service (middlewares included) on the test database, without sweeps."""
    return create_app(
        make_settings(tmp_path, **settings), database, engine=EchoEngine(), sweeps=False
    )


@asynccontextmanager
async def browser(
    app: FastAPI, address: str = AGENT, base_url: str = "http://testserver"
) -> AsyncIterator[httpx.AsyncClient]:
    """A client with its own cookie jar, connecting from `address`."""
    transport = httpx.ASGITransport(app=app, client=(address, 50000))
    async with httpx.AsyncClient(transport=transport, base_url=base_url) as c:
        yield c


async def replay(app: FastAPI, cookie: str, address: str = AGENT) -> httpx.Response:
    """Open the queue page with nothing but a copied session cookie."""
    async with browser(app, address) as c:
        return await c.get("/staff/", headers={"Cookie": f"hotline_staff={cookie}"})


def signed_in(response: httpx.Response) -> bool:
    return response.status_code == 200 and 'action="/staff/logout"' in response.text


async def test_replaying_a_session_cookie_after_logout_is_refused(
    database: Database, tmp_path: Path
) -> None:
    """Logout ends the session for real: a copy of the cookie no longer opens any page,
    and the person's other sessions end with it."""
    seed_desks(database)
    new_staff(database, "Ana", "los-angeles")
    app = full_app(database, tmp_path)
    async with browser(app) as laptop, browser(app) as phone:
        await log_in(laptop, "Ana")
        await log_in(phone, "Ana")
        stolen = laptop.cookies["hotline_staff"]
        assert signed_in(await replay(app, stolen))
        page = await laptop.get("/staff/")
        out = await laptop.post("/staff/logout", data={"csrf": csrf_from(page.text)})
        assert out.status_code == 303 and out.headers["location"] == "/staff/login"
        on_phone = await phone.get("/staff/")
    replayed = await replay(app, stolen)
    assert replayed.status_code == 303 and replayed.headers["location"] == "/staff/login"
    assert on_phone.status_code == 303
    assert [e.action for e in audits(database, "logout")] == ["logout"]


async def test_a_password_change_ends_the_old_sessions(database: Database, tmp_path: Path) -> None:
    """After `hotline staff password`, a session opened with the old password is refused;
    the new password opens a new one."""
    seed_desks(database)
    new_staff(database, "Ana", "los-angeles")
    app = full_app(database, tmp_path)
    async with browser(app) as c:
        await log_in(c, "Ana")
        old = c.cookies["hotline_staff"]
        set_password(database, name="ana", password="a brand new passphrase")
        assert (await c.get("/staff/")).status_code == 303
        assert (await log_in(c, "Ana")).status_code == 401
        assert (await log_in(c, "Ana", "a brand new passphrase")).status_code == 303
        assert signed_in(await c.get("/staff/"))
    assert (await replay(app, old)).status_code == 303


async def test_a_deactivated_agent_is_shut_out_at_once(database: Database, tmp_path: Path) -> None:
    """Deactivation: the API token answers 401, the open session is refused, and the
    password no longer logs in."""
    seed_desks(database)
    _, token = new_staff(database, "Ana", "los-angeles")
    app = full_app(database, tmp_path)
    async with browser(app) as c:
        await log_in(c, "Ana")
        assert (await c.get("/api/v1/me", headers=bearer(token))).status_code == 200
        assert signed_in(await c.get("/staff/"))
        deactivate_staff(database, name="Ana")
        assert (await c.get("/api/v1/me", headers=bearer(token))).status_code == 401
        assert (await c.get("/api/v1/queue", headers=bearer(token))).status_code == 401
        assert (await c.get("/staff/")).status_code == 303
        assert (await log_in(c, "Ana")).status_code == 401
    assert [e.action for e in audits(database, "deactivated")] == ["deactivated"]


async def test_an_expired_token_is_refused(database: Database, tmp_path: Path) -> None:
    """A token past its expiry answers 401 like a wrong one."""
    seed_desks(database)
    staff_id, token = new_staff(database, "Ana", "los-angeles")
    app = full_app(database, tmp_path)
    async with browser(app) as c:
        assert (await c.get("/api/v1/me", headers=bearer(token))).status_code == 200
        with database.write() as session:
            staff = session.get(Staff, staff_id)
            assert staff is not None and staff.token_expires_at is not None
            assert staff.token_expires_at - utcnow() > timedelta(days=89)  # the default: 90
            staff.token_expires_at = utcnow() - timedelta(minutes=1)
        refused = await c.get("/api/v1/me", headers=bearer(token))
    assert refused.status_code == 401 and refused.headers["www-authenticate"] == "Bearer"


async def test_a_rotated_token_replaces_the_old_one(database: Database, tmp_path: Path) -> None:
    """After rotation the old token answers 401 and the new one 200."""
    seed_desks(database)
    _, old = new_staff(database, "Ana", "los-angeles")
    _, fresh = rotate_token(database, name="ANA", days=7)
    async with browser(full_app(database, tmp_path)) as c:
        assert (await c.get("/api/v1/me", headers=bearer(old))).status_code == 401
        me = await c.get("/api/v1/me", headers=bearer(fresh))
    assert me.status_code == 200 and me.json()["name"] == "Ana"


def forged_session(staff_id: int, *, idle: timedelta, age: timedelta) -> str:
    """A correctly signed cookie as a browser would hold it `idle` after its last page,
    `age` after login (epoch 0: no logout since)."""
    now = utcnow()
    session = StaffSession(
        staff_id=staff_id,
        epoch=0,
        csrf="c" * 32,
        lang="es",
        issued=int((now - age).timestamp()),
        seen=int((now - idle).timestamp()),
    )
    return SessionSigner.from_keyring().dump(session)


async def test_idle_and_absolute_timeouts(database: Database, tmp_path: Path) -> None:
    """A session left alone longer than the idle timeout, or older than the absolute one,
    is refused; one used within both works."""
    seed_desks(database)
    staff_id, _ = new_staff(database, "Ana", "los-angeles")
    app = full_app(database, tmp_path, staff_idle_minutes=30, staff_session_hours=12)
    recent = forged_session(staff_id, idle=timedelta(minutes=29), age=timedelta(hours=11))
    idle = forged_session(staff_id, idle=timedelta(minutes=31), age=timedelta(hours=1))
    old = forged_session(staff_id, idle=timedelta(minutes=1), age=timedelta(hours=12, minutes=1))
    assert signed_in(await replay(app, recent))
    assert (await replay(app, idle)).status_code == 303
    assert (await replay(app, old)).status_code == 303


async def test_the_queue_auto_refresh_does_not_keep_a_session_alive(
    database: Database, tmp_path: Path
) -> None:
    """Opening a page renews the idle clock; the queue page's own refresh does not."""
    seed_desks(database)
    staff_id, _ = new_staff(database, "Ana", "los-angeles")
    app = full_app(database, tmp_path)
    cookie = forged_session(staff_id, idle=timedelta(minutes=20), age=timedelta(hours=1))
    signer = SessionSigner.from_keyring()

    def seen_minutes_ago(response: httpx.Response) -> float:
        value = response.cookies["hotline_staff"]
        loaded = signer.load(
            value, utcnow(), SessionLimits(timedelta(hours=12), timedelta(hours=1))
        )
        assert loaded is not None
        return (utcnow().timestamp() - loaded.seen) / 60

    async with browser(app) as c:
        headers = {"Cookie": f"hotline_staff={cookie}"}
        page = await c.get("/staff/", headers=headers)
        assert 'url=/staff/?auto=1"' in page.text  # the refresh the page asks for
        auto = await c.get("/staff/?auto=1", headers=headers)
        by_hand = await c.get("/staff/", headers=headers)
    assert seen_minutes_ago(auto) >= 19.9
    assert seen_minutes_ago(by_hand) < 1


async def test_guessing_from_one_address_is_refused_while_the_agent_logs_in_elsewhere(
    database: Database, tmp_path: Path
) -> None:
    """Five wrong passwords from one address are answered; after that the address is
    refused (429, even with the right password) and nothing more is checked, while the
    agent, from her own address, logs in as usual."""
    seed_desks(database)
    new_staff(database, "Ana", "los-angeles")
    app = full_app(database, tmp_path)
    async with browser(app, ATTACKER) as attacker:
        answers = [(await log_in(attacker, "Ana", f"guess {n}")).status_code for n in range(12)]
        with_right_password = await log_in(attacker, "Ana")
    assert answers == [401] * 5 + [429] * 7
    assert with_right_password.status_code == 429
    assert 0 < int(with_right_password.headers["retry-after"]) <= 60
    assert "Demasiados intentos" in with_right_password.text
    async with browser(app, AGENT) as agent:
        assert (await log_in(agent, "Ana")).status_code == 303
        assert signed_in(await agent.get("/staff/"))
    assert len(audits(database, "login_failed")) == 5
    assert len(audits(database, "login_throttled")) == 8


async def test_guessing_from_many_addresses_cannot_lock_the_agent_out_of_her_browser(
    database: Database, tmp_path: Path
) -> None:
    """Spread over many addresses, guesses slow the account down for browsers it never
    logged in from; the browser the agent works from still gets in."""
    seed_desks(database)
    new_staff(database, "Ana", "los-angeles")
    app = full_app(database, tmp_path)
    async with browser(app, AGENT) as agent:
        assert (await log_in(agent, "Ana")).status_code == 303  # her usual browser
        page = await agent.get("/staff/")
        await agent.post("/staff/logout", data={"csrf": csrf_from(page.text)})
        codes = []
        for n in range(25):
            async with browser(app, f"192.0.2.{n + 1}") as bot:
                codes.append((await log_in(bot, "ana", "password123")).status_code)
        assert codes == [401] * 20 + [429] * 5
        async with browser(app, "192.0.2.200") as stranger:  # right password, new browser
            assert (await log_in(stranger, "Ana")).status_code == 429
        assert (await log_in(agent, "Ana")).status_code == 303
        assert signed_in(await agent.get("/staff/"))


def test_parallel_guesses_cannot_slip_past_the_throttle(database: Database) -> None:
    """Twelve guesses fired at once from one address: five are checked, seven refused,
    and then even the right password waits."""
    seed_desks(database)
    new_staff(database, "Bea", "houston")
    now = utcnow()
    results: list[int] = []

    def guess(n: int) -> None:
        outcome = check_login(database, "Bea", f"guess-{n}", now, address=ATTACKER)
        results.append(outcome.retry_after)

    threads = [threading.Thread(target=guess, args=(n,)) for n in range(12)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(r > 0 for r in results) == [False] * 5 + [True] * 7
    assert check_login(database, "Bea", PASSWORD, now, address=ATTACKER).staff is None
    assert check_login(database, "Bea", PASSWORD, now, address=AGENT).staff is not None


def test_counters_are_forgotten_a_day_after_the_last_failure(database: Database) -> None:
    """An address refused today may try again tomorrow; counters quiet for a day are
    deleted by the next attempt from anywhere."""
    seed_desks(database)
    new_staff(database, "Bea", "houston")
    now = utcnow()
    check_login(database, "nobody", "guess", now, address="192.0.2.9")  # left alone after
    for n in range(6):
        check_login(database, "Bea", f"guess-{n}", now, address=ATTACKER)
    assert check_login(database, "Bea", PASSWORD, now, address=ATTACKER).retry_after > 0
    tomorrow = now + timedelta(hours=25)
    assert check_login(database, "Bea", PASSWORD, tomorrow, address=ATTACKER).staff is not None
    check_login(database, "Bea", "wrong", now + timedelta(hours=50), address=AGENT)
    with database.read() as session:
        rows = session.exec(select(LoginThrottle)).all()
    assert [(row.failures, row.last_failure_at) for row in rows] == [
        (1, now + timedelta(hours=50)),
        (1, now + timedelta(hours=50)),
    ]


def test_the_throttle_stores_no_address_or_name(database: Database) -> None:
    """Counters are keyed hashes: the table holds neither the address nor the name."""
    seed_desks(database)
    new_staff(database, "Bea", "houston")
    check_login(database, "Bea", "wrong password", utcnow(), address=ATTACKER)
    with database.read() as session:
        keys = [row.key for row in session.exec(select(LoginThrottle)).all()]
    assert len(keys) == 2
    assert not any(ATTACKER in key or "bea" in key.lower() for key in keys)


async def test_cookies_are_secure_and_host_prefixed_outside_local_mode(
    database: Database, tmp_path: Path
) -> None:
    """With an https public URL (or HOTLINE_LOCAL_MODE=false) the session and device
    cookies are `__Host-`, Secure, HttpOnly, SameSite=Lax and Path=/; logging in over
    https works with them."""
    seed_desks(database)
    new_staff(database, "Ana", "los-angeles")
    for settings in ({"public_url": "https://hotline.example.org"}, {"local_mode": False}):
        app = full_app(database, tmp_path, **settings)
        async with browser(app, base_url="https://testserver") as c:
            answer = await log_in(c, "Ana")
            assert answer.status_code == 303
            cookies = [v.lower() for v in answer.headers.get_list("set-cookie")]
            assert {c.split("=", 1)[0] for c in cookies} == {
                "__host-hotline_staff",
                "__host-hotline_device",
            }
            for cookie in cookies:
                assert "secure" in cookie and "httponly" in cookie and "path=/;" in cookie
                assert "samesite=lax" in cookie and "domain" not in cookie
            assert signed_in(await c.get("/staff/"))


async def test_local_mode_keeps_plain_cookies(database: Database, tmp_path: Path) -> None:
    """Locally (no public URL) the cookies work over plain http: no Secure, no prefix."""
    seed_desks(database)
    new_staff(database, "Ana", "los-angeles")
    async with browser(full_app(database, tmp_path)) as c:
        answer = await log_in(c, "Ana")
    names = {v.split("=", 1)[0] for v in answer.headers.get_list("set-cookie")}
    assert names == {"hotline_staff", "hotline_device"}
    assert all("secure" not in v.lower() for v in answer.headers.get_list("set-cookie"))


def test_local_mode_cannot_be_forced_on_an_https_deployment(tmp_path: Path) -> None:
    """HOTLINE_LOCAL_MODE=true with an https public URL stops the start."""
    with pytest.raises(ConfigError, match="HOTLINE_LOCAL_MODE"):
        get_settings(
            _env_file=None,
            data_dir=tmp_path,
            public_url="https://hotline.example.org",
            local_mode=True,
        )


def hotline(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "HOTLINE_SECRET_KEY": TEST_SECRET,
        "HOTLINE_DATABASE_URL": "",
        "HOTLINE_DATA_DIR": str(cwd / "var"),
    }
    return subprocess.run(
        [sys.executable, "-m", "bot", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def printed_token(output: str) -> str:
    return next(w for w in output.split() if w.startswith("hls_"))


async def test_staff_token_rotate_and_deactivate_commands(tmp_path: Path) -> None:
    """`hotline staff token --name N --rotate` prints a new token once and the old one
    stops working; `hotline staff deactivate --name N` ends the new one too."""
    added = hotline("staff", "add", "--name", "Ana", "--desk", "houston", cwd=tmp_path)
    assert added.returncode == 0, added.stderr
    first = printed_token(added.stdout)
    shown = hotline("staff", "token", "--name", "ana", cwd=tmp_path)
    assert "stops working at" in shown.stdout and "hls_" not in shown.stdout
    rotated = hotline("staff", "token", "--name", "Ana", "--rotate", cwd=tmp_path)
    assert rotated.returncode == 0, rotated.stderr
    second = printed_token(rotated.stdout)
    settings = make_settings(tmp_path / "var")
    database = Database(settings.resolved_database_url)
    try:
        app = full_app(database, tmp_path / "var")
        async with browser(app) as c:
            assert (await c.get("/api/v1/me", headers=bearer(first))).status_code == 401
            assert (await c.get("/api/v1/me", headers=bearer(second))).status_code == 200
            gone = hotline("staff", "deactivate", "--name", "Ana", cwd=tmp_path)
            assert gone.returncode == 0 and "deactivated" in gone.stdout, gone.stderr
            assert (await c.get("/api/v1/me", headers=bearer(second))).status_code == 401
    finally:
        database.dispose()
