"""The dashboard in a real browser (Debian's Chromium through Playwright): log in, claim the
top case, reply, resolve."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.db import Database
from tests.fakes.server import LiveServer

from .support import (
    PASSWORD,
    get_case,
    make_app,
    new_case,
    new_contact,
    new_staff,
    outbound,
    seed_desks,
)

pytestmark = pytest.mark.browser


async def test_staff_member_claims_replies_and_resolves_in_the_browser(
    database: Database, tmp_path: Path, chromium: Path
) -> None:
    """Log in on a phone-sized screen, claim the most urgent case, reply, resolve."""
    from playwright.async_api import async_playwright

    seed_desks(database)
    contact = new_contact(database, channel="telegram", address="4242")
    new_case(database, priority="normal")
    top = new_case(
        database,
        priority="critical",
        contact_id=contact,
        channel="telegram",
        summary="<b>Se llevaron</b> a mi hermano",
    )
    new_staff(database, "Ana", "los-angeles")
    server = LiveServer(make_app(database, tmp_path)).start()
    try:
        async with async_playwright() as playwright:
            browser = await playwright.chromium.launch(
                executable_path=str(chromium),
                headless=True,
                args=["--no-sandbox", "--disable-dev-shm-usage"],
            )
            page = await browser.new_page(viewport={"width": 390, "height": 844})
            await page.goto(server.url + "/staff/")
            await page.fill("input[name=name]", "Ana")
            await page.fill("input[name=password]", PASSWORD)
            await page.click("button[type=submit]")
            await page.wait_for_url(server.url + "/staff/")
            assert await page.locator(f"text={top}").count() == 1
            await page.click("#claim")
            await page.wait_for_url(f"{server.url}/staff/cases/{top}?m=claimed")
            summary = await page.locator("#summary").inner_text()
            assert summary == "<b>Se llevaron</b> a mi hermano"
            await page.fill("#reply-form textarea[name=text]", "Vamos a ayudarle. ¿Dónde está?")
            await page.click("#reply-form button")
            await page.wait_for_url(f"{server.url}/staff/cases/{top}?m=replied")
            assert "Vamos a ayudarle" in await page.locator("#transcript").inner_text()
            await page.select_option("#resolve-form select[name=outcome]", "helped")
            await page.click("#resolve-form button")
            await page.wait_for_url(server.url + "/staff/?m=resolved")
            await page.screenshot(path=str(tmp_path / "queue.png"))
            await browser.close()
    finally:
        server.stop()
    assert get_case(database, top).status == "resolved"
    assert [(m.channel, m.contact_id) for m in outbound(database)] == [("telegram", contact)]
