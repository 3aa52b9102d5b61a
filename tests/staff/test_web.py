"""The dashboard: login, cookies, CSRF, escaping, actions through forms, figures (the login
throttle and session endings: tests/security/test_staff_sessions.py)."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from bot.db import Database
from bot.models import utcnow

from .support import (
    PASSWORD,
    audits,
    client,
    csrf_from,
    get_case,
    log_in,
    make_app,
    new_case,
    new_contact,
    new_staff,
    outbound,
    seed_desks,
)


async def test_login_sets_a_guarded_cookie_and_shows_the_queue(
    database: Database, tmp_path: Path
) -> None:
    """A right password starts an HttpOnly, SameSite=Lax session; the queue page follows."""
    seed_desks(database)
    ref = new_case(database, priority="critical")
    new_staff(database, "Ana", "los-angeles")
    async with client(make_app(database, tmp_path)) as c:
        assert (await c.get("/staff/")).headers["location"] == "/staff/login"
        answer = await log_in(c, "ana")
        assert answer.status_code == 303 and answer.headers["location"] == "/staff/"
        cookie = answer.headers["set-cookie"].lower()
        assert "httponly" in cookie and "samesite=lax" in cookie and "secure" not in cookie
        page = await c.get("/staff/")
    assert page.status_code == 200
    assert ref in page.text and "prio-critical" in page.text
    assert 'http-equiv="refresh"' in page.text
    assert [e.action for e in audits(database, "login")] == ["login"]


async def test_cookie_is_secure_behind_https(database: Database, tmp_path: Path) -> None:
    """With an https public URL the session cookie carries Secure."""
    app = make_app(database, tmp_path, public_url="https://hotline.example.org")
    async with client(app) as c:
        page = await c.get("/staff/login")
    assert "secure" in page.headers["set-cookie"].lower()


async def test_forms_without_the_csrf_token_are_refused(database: Database, tmp_path: Path) -> None:
    """A logged-in form post without (or with a wrong) CSRF token gets 403 and changes nothing."""
    seed_desks(database)
    ref = new_case(database)
    new_staff(database, "Ana", "los-angeles")
    async with client(make_app(database, tmp_path)) as c:
        page = await c.get("/staff/login")
        refused_login = await c.post("/staff/login", data={"name": "Ana", "password": PASSWORD})
        assert refused_login.status_code == 403
        await c.post(
            "/staff/login", data={"name": "Ana", "password": PASSWORD, "csrf": csrf_from(page.text)}
        )
        case_page = await c.get(f"/staff/cases/{ref}")
        token = csrf_from(case_page.text)
        assert token != csrf_from(page.text)  # a new token after login
        assert (await c.post(f"/staff/cases/{ref}/note", data={"text": "x"})).status_code == 403
        assert (
            await c.post(f"/staff/cases/{ref}/note", data={"text": "x", "csrf": "forged"})
        ).status_code == 403
        assert (await c.post("/staff/claim", data={})).status_code == 403
        assert not audits(database, "note")
        ok = await c.post(f"/staff/cases/{ref}/note", data={"text": "x", "csrf": token})
        assert ok.status_code == 303
    assert len(audits(database, "note")) == 1


async def test_reporter_text_is_shown_as_text(database: Database, tmp_path: Path) -> None:
    """A `<script>` in the person's words is escaped in the case page."""
    seed_desks(database)
    contact = new_contact(database)
    ref = new_case(
        database,
        contact_id=contact,
        summary="<script>alert('x')</script>",
        location_label="<img src=x onerror=alert(1)>",
    )
    new_staff(database, "Ana", "los-angeles")
    async with client(make_app(database, tmp_path)) as c:
        await log_in(c, "Ana")
        page = await c.get(f"/staff/cases/{ref}")
    assert page.status_code == 200
    assert "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;" in page.text
    assert "<script>" not in page.text and "<img src=x" not in page.text


async def test_claim_reply_resolve_through_the_forms(database: Database, tmp_path: Path) -> None:
    """Claim from the queue page, reply, resolve: the reply lands in the outbox."""
    seed_desks(database)
    contact = new_contact(database, channel="sms")
    ref = new_case(database, contact_id=contact)
    new_staff(database, "Ana", "los-angeles")
    async with client(make_app(database, tmp_path)) as c:
        await log_in(c, "Ana")
        token = csrf_from((await c.get("/staff/")).text)
        claimed = await c.post("/staff/claim", data={"desk": "los-angeles", "csrf": token})
        assert claimed.headers["location"] == f"/staff/cases/{ref}?m=claimed"
        replied = await c.post(
            f"/staff/cases/{ref}/reply", data={"text": "Le llamamos hoy.", "csrf": token}
        )
        assert replied.status_code == 303
        resolved = await c.post(
            f"/staff/cases/{ref}/resolve", data={"outcome": "helped", "csrf": token}
        )
        assert resolved.headers["location"] == "/staff/?m=resolved"
        empty = await c.post("/staff/claim", data={"csrf": token})
        assert empty.headers["location"].endswith("m=empty")
        other = await c.post(
            f"/staff/cases/{ref}/resolve", data={"outcome": "helped", "csrf": token}
        )
        assert other.headers["location"].endswith("m=error")
    assert [(m.channel, m.text) for m in outbound(database)] == [("sms", "Le llamamos hoy.")]
    assert get_case(database, ref).status == "resolved"


async def test_language_switch_and_walls_on_pages(database: Database, tmp_path: Path) -> None:
    """Pages speak Spanish first and English after the switch; another desk's case is 403."""
    seed_desks(database)
    houston = new_case(database, desk="houston")
    new_staff(database, "Ana", "los-angeles")
    async with client(make_app(database, tmp_path)) as c:
        await log_in(c, "Ana")
        spanish = await c.get("/staff/")
        assert "Tomar el siguiente caso" in spanish.text
        await c.post(
            "/staff/lang", data={"lang": "en", "back": "/staff/", "csrf": csrf_from(spanish.text)}
        )
        english = await c.get("/staff/")
        assert "Claim next case" in english.text and 'lang="en"' in english.text
        assert (await c.get(f"/staff/cases/{houston}")).status_code == 403
        assert (await c.get("/staff/?desk=houston")).status_code == 403


async def test_figures_page_and_csv(database: Database, tmp_path: Path) -> None:
    """Supervisors of central see every desk's figures, also as CSV."""
    seed_desks(database)
    new_case(database)
    new_case(database, desk="houston", sla_due_at=utcnow() - timedelta(minutes=5))
    new_staff(database, "Sara", "central", "supervisor")
    async with client(make_app(database, tmp_path)) as c:
        await log_in(c, "Sara")
        page = await c.get("/staff/figures")
        csv_text = (await c.get("/staff/figures.csv")).text
    assert page.status_code == 200 and "houston" in page.text
    lines = csv_text.splitlines()
    assert lines[0].startswith("desk,open,claimed,waiting,breached")
    assert "houston,1,0,0,1,0," in csv_text and "los-angeles,1,0,0,0,0," in csv_text
