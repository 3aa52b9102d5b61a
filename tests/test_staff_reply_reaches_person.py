"""End to end through the whole service (`bot.app.create_app`): a staff member in a real
browser claims the top case, replies and resolves — and the reply reaches the person's
phone through the (fake) Twilio REST API."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.app import create_app
from bot.conversations import Hotline
from bot.db import Database
from tests.channels.support import settings_for, wait_for
from tests.fakes.server import LiveServer
from tests.fakes.twilio_api import FakeTwilio
from tests.staff.support import PASSWORD, new_case, new_contact, new_staff

PERSON = "+17135550177"

pytestmark = pytest.mark.browser


async def test_staff_reply_from_the_dashboard_reaches_the_persons_phone(
    database: Database, tmp_path: Path, chromium: Path
) -> None:
    """Login → claim → reply → resolve in Chromium; the fake Twilio receives the reply."""
    from playwright.async_api import async_playwright

    fake = FakeTwilio()
    twilio = LiveServer(fake.app()).start()
    settings = settings_for(tmp_path, twilio_api=twilio.url)
    hotline = Hotline.load(settings)
    hotline.prepare(database)
    person = new_contact(database, channel="sms", address=PERSON)
    top = new_case(
        database,
        desk="houston",
        priority="critical",
        contact_id=person,
        channel="sms",
        summary="se llevaron a mi hermano",
    )
    new_staff(database, "Rosa", "houston")
    service = LiveServer(create_app(settings, database, engine=hotline), lifespan="on").start()
    try:
        async with async_playwright() as playwright:
            browser = await playwright.chromium.launch(
                executable_path=str(chromium),
                headless=True,
                args=["--no-sandbox", "--disable-dev-shm-usage"],
            )
            page = await browser.new_page()
            await page.goto(service.url + "/staff/")
            await page.fill("input[name=name]", "Rosa")
            await page.fill("input[name=password]", PASSWORD)
            await page.click("button[type=submit]")
            await page.wait_for_url(service.url + "/staff/")
            await page.click("#claim")
            await page.wait_for_url(f"{service.url}/staff/cases/{top}?m=claimed")
            await page.fill("#reply-form textarea[name=text]", "Le llamamos en 10 minutos.")
            await page.click("#reply-form button")
            await page.wait_for_url(f"{service.url}/staff/cases/{top}?m=replied")
            await page.select_option("#resolve-form select[name=outcome]", "helped")
            await page.click("#resolve-form button")
            await page.wait_for_url(service.url + "/staff/?m=resolved")
            await browser.close()
        await wait_for(lambda: bool(fake.bodies(PERSON)), within=15, what="the reply")
    finally:
        service.stop()
        twilio.stop()
    assert fake.bodies(PERSON) == ["Le llamamos en 10 minutos."]
