"""The web chat in a real browser (Debian's Chromium through Playwright): a whole report."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import pytest
from sqlmodel import select

from bot.conversations import Hotline
from bot.db import Database
from bot.models import Case, InboundStatus
from tests.fakes.server import LiveServer

from .support import fast_app, inbound_rows, outbound_rows, settings_for
from .test_reports import answer

pytestmark = pytest.mark.browser


def _case(db: Database) -> Case | None:
    with db.read() as session:
        return session.exec(select(Case)).first()


async def _until(check: object, within: float = 15.0, what: str = "") -> None:
    deadline = time.monotonic() + within
    while True:
        value = check() if callable(check) else check
        if asyncio.iscoroutine(value):
            value = await value
        if value:
            return
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.05)


async def test_a_person_completes_a_report_in_the_browser(
    database: Database, tmp_path: Path, chromium: Path
) -> None:
    """Typing and tapping choices in the page ends in a case; the transcript survives a reload."""
    from playwright.async_api import async_playwright

    hotline = Hotline.load(settings_for(tmp_path))
    server = LiveServer(fast_app(settings_for(tmp_path), database, hotline), lifespan="on").start()
    try:
        async with async_playwright() as playwright:
            browser = await playwright.chromium.launch(
                executable_path=str(chromium),
                headless=True,
                args=["--no-sandbox", "--disable-dev-shm-usage"],
            )
            page = await browser.new_page(viewport={"width": 360, "height": 740})
            await page.goto(server.url + "/")
            assert await page.locator("html").get_attribute("lang") == "es"
            bubbles = page.locator(".msg.bot")

            async def turn(number: int) -> None:
                await _until(
                    lambda: (
                        len(inbound_rows(database)) > number
                        and inbound_rows(database)[number].status != InboundStatus.pending
                    ),
                    what=f"turn {number} processed",
                )
                expected = len(outbound_rows(database))
                await _until(lambda: bubbles.count(), what="a reply")  # first poll
                await _until(lambda: _count_is(bubbles, expected), what=f"{expected} replies")

            await page.fill("#text", "hola")
            await page.press("#text", "Enter")
            for number in range(30):
                await turn(number)
                if _case(database) is not None:
                    break
                buttons = page.locator(".options button")
                if await buttons.count():
                    await buttons.first.click()
                else:
                    last = await bubbles.last.inner_text()
                    await page.fill("#text", answer(last, [])[0])
                    await page.click("#send")
            case = _case(database)
            assert case is not None and (case.channel, case.intent) == ("web", "raid")
            before = await page.locator(".msg").count()
            await page.reload()
            await _until(lambda: _count_is(page.locator(".msg"), before), what="transcript")
            await page.click("#switch")
            assert await page.locator("html").get_attribute("lang") == "en"
            await browser.close()
    finally:
        server.stop()


async def _count_is(locator: object, expected: int) -> bool:
    return int(await locator.count()) >= expected  # type: ignore[attr-defined]
