"""The web chat in a real browser (Debian's Chromium through Playwright): a whole report;
clearing the conversation and BORRAR leave nothing behind in the browser."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import pytest
from sqlmodel import col, select

from bot.conversations import Hotline
from bot.db import Database
from bot.models import Case, Contact, InboundStatus
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


async def test_clear_and_borrar_leave_nothing_in_the_browser(
    database: Database, tmp_path: Path, chromium: Path
) -> None:
    """The "clear this conversation" button wipes the page, its storage and the session cookie (the
    server keeps the conversation); after BORRAR is confirmed the page does the same by
    itself, keeping only the confirmation on screen."""
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
            context = await browser.new_context()
            page = await context.new_page()
            page.on("dialog", lambda dialog: asyncio.ensure_future(dialog.accept()))
            await page.goto(server.url + "/")
            bubbles = page.locator(".msg.bot")

            async def stored() -> list[str]:
                keys = "Object.keys(localStorage).filter(k => k.startsWith('hotline.'))"
                return list(await page.evaluate(keys))

            await page.fill("#text", "hola")
            await page.press("#text", "Enter")
            await _until(lambda: bubbles.count(), what="the first reply")
            assert await context.cookies() and await stored()
            await page.click("#clear")
            await _until(lambda: _count_is(page.locator(".note"), 2), what="cleared note")
            assert await page.locator(".msg").count() == 0
            await _until(_no_cookie(context), what="the cookie cleared")
            assert await stored() == []
            await page.reload()
            assert await page.locator(".msg").count() == 0
            assert len(inbound_rows(database)) == 1  # the server keeps the conversation

            await page.fill("#text", "borrar")
            await page.press("#text", "Enter")
            await _until(lambda: page.locator(".options button").count(), what="erase question")
            await page.locator(".options button").first.click()
            ended = page.locator(".note").last
            await _until(_has_text(ended, "Sus datos fueron borrados"), what="the ended note")
            assert [await b.inner_text() for b in await bubbles.all()] == [
                "Listo, borramos sus datos. Si necesita ayuda, escríbanos de nuevo."
            ]
            assert await page.locator(".msg.you").count() == 0
            await _until(_no_cookie(context), what="the cookie cleared after BORRAR")
            assert await stored() == []
            with database.read() as session:
                people = session.exec(select(Contact).order_by(col(Contact.id))).all()
            assert [p.erased_at is None for p in people] == [True, False]  # two sessions
            await browser.close()
    finally:
        server.stop()


def _no_cookie(context: object) -> object:
    async def check() -> bool:
        return not await context.cookies()  # type: ignore[attr-defined]

    return check


def _has_text(locator: object, text: str) -> object:
    async def check() -> bool:
        return text in await locator.inner_text()  # type: ignore[attr-defined]

    return check
