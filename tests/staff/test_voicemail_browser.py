"""A voicemail in a real browser (Debian's Chromium through Playwright): a caller leaves it
through the phone line, a staff member opens the case and the page plays it from the
service, with no Twilio address anywhere in the page."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlmodel import select

from bot.conversations import Hotline
from bot.db import Database
from bot.models import Case
from bot.staff.commands import add_staff
from tests.channels.support import PUBLIC_URL, TWILIO_NUMBER, fast_app, running, settings_for
from tests.fakes.server import LiveServer
from tests.fakes.twilio_api import ACCOUNT_SID, AUTH_TOKEN, FakeTwilio
from tests.fakes.twilio_caller import FakeCaller

from .support import PASSWORD, make_app

pytestmark = pytest.mark.browser

PLAY = """async (src) => {
  const r = await fetch(src);
  const bytes = new Uint8Array(await r.arrayBuffer());
  return [r.status, r.headers.get("content-type"), new TextDecoder().decode(bytes)];
}"""


async def leave_voicemail(database: Database, tmp_path: Path, twilio: str) -> tuple[Case, str]:
    """A call: Spanish, the raid report, 0 for a person, the notice, the voicemail."""
    settings = settings_for(tmp_path, twilio_api=twilio)
    async with running(fast_app(settings, database, Hotline.load(settings))) as client:
        call = FakeCaller(client, PUBLIC_URL)
        await call.dial_in()
        await call.press("1")
        await call.press("0")
        await call.press("1")
        await call.leave_voicemail(seconds=21)
        await call.silence()  # no text message, thanks: the call ends
    with database.read() as session:
        case = session.exec(select(Case)).one()
    return case, call.recordings[0]


async def test_staff_plays_a_voicemail_through_the_service_in_the_browser(
    database: Database, tmp_path: Path, chromium: Path
) -> None:
    from playwright.async_api import async_playwright

    fake = FakeTwilio()
    twilio = LiveServer(fake.app()).start()
    try:
        case, sid = await leave_voicemail(database, tmp_path, twilio.url)
        add_staff(database, name="Ana Ruiz", desk=case.desk_id, role="agent", password=PASSWORD)
        dashboard = make_app(
            database,
            tmp_path,
            twilio_account_sid=ACCOUNT_SID,
            twilio_auth_token=AUTH_TOKEN,
            twilio_api_base_url=twilio.url,
            twilio_from_number=TWILIO_NUMBER,
        )
        server = LiveServer(dashboard).start()
        try:
            async with async_playwright() as playwright:
                browser = await playwright.chromium.launch(
                    executable_path=str(chromium),
                    headless=True,
                    args=["--no-sandbox", "--disable-dev-shm-usage"],
                )
                page = await browser.new_page(viewport={"width": 390, "height": 844})
                await page.goto(server.url + "/staff/")
                await page.fill("input[name=name]", "Ana Ruiz")
                await page.fill("input[name=password]", PASSWORD)
                await page.click("button[type=submit]")
                await page.wait_for_url(server.url + "/staff/")
                await page.goto(f"{server.url}/staff/cases/{case.ref}")
                audio = page.locator("ul.voicemails audio")
                assert await audio.count() == 1
                src = await audio.get_attribute("src")
                assert src == f"/staff/cases/{case.ref}/recordings/{sid}.mp3"
                resolved = await audio.evaluate("a => a.src")
                assert resolved == server.url + src  # served by the service itself
                status, kind, body = await page.evaluate(PLAY, src)
                assert (status, kind, body) == (200, "audio/mpeg", f"ID3{sid}")
                html = await page.content()
                for twilio_mark in ("twilio", twilio.url, ACCOUNT_SID, "/Accounts/", "2010-04-01"):
                    assert twilio_mark.lower() not in html.lower(), twilio_mark
                await browser.close()
        finally:
            server.stop()
    finally:
        twilio.stop()
    assert fake.fetched == [sid]  # the service fetched it from the fake Twilio, once
