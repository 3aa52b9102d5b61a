"""Consultations in a real browser (Debian's Chromium through Playwright) against the real
server: a supervisor publishes weekly hours and a single slot, a person books the slot
through the real conversation, and a legal-aid agent finds them on that day's list with the
screening answers in plain words."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from bot.conversations import Hotline
from bot.db import Database
from bot.staff.commands import add_staff
from bot.terminal import TerminalChat
from tests.conftest import make_settings
from tests.fakes.server import LiveServer

from .support import PASSWORD, make_app

pytestmark = pytest.mark.browser
HOUSTON = ZoneInfo("America/Chicago")
# The risk screening as a person answers it: more than 10 years, an earlier removal order,
# no arrests, no court date, U.S.-born children, no status, Houston; yes to a consultation.
SCREENING = ("necesito un abogado", "si", "3", "1", "3", "2", "si", "4", "77036", "si")


def houston_day(days: int) -> date:
    return (datetime.now(UTC).astimezone(HOUSTON) + timedelta(days=days)).date()


async def test_a_booking_made_in_the_chat_reaches_the_legal_aid_agents_day(
    database: Database, tmp_path: Path, chromium: Path
) -> None:
    """Supervisor: weekly hours and a single slot. Person: the screening, then the single
    slot. Legal-aid agent: that day's list shows the booking with the answers."""
    from playwright.async_api import Page, async_playwright

    hotline = Hotline.load(make_settings(tmp_path, flood_per_sender_per_minute=100))
    hotline.prepare(database)  # the real desks, Houston among them
    for name, role, legal_aid in (("Sara", "supervisor", False), ("Lucía", "agent", True)):
        add_staff(
            database, name=name, desk="houston", role=role, password=PASSWORD, legal_aid=legal_aid
        )
    single, weekly = houston_day(1), houston_day(2)
    server = LiveServer(make_app(database, tmp_path)).start()

    async def log_in(page: Page, name: str) -> None:
        await page.goto(server.url + "/staff/")
        await page.fill("input[name=name]", name)
        await page.fill("input[name=password]", PASSWORD)
        await page.click("button[type=submit]")
        await page.wait_for_url(server.url + "/staff/")
        await page.click("#nav-consultations")
        await page.wait_for_url(re.compile(r".*/staff/consultations$"))

    try:
        async with async_playwright() as playwright:
            browser = await playwright.chromium.launch(
                executable_path=str(chromium),
                headless=True,
                args=["--no-sandbox", "--disable-dev-shm-usage"],
            )
            supervisor = await (await browser.new_context(locale="es-MX")).new_page()
            await log_in(supervisor, "Sara")
            await supervisor.click("#manage")
            await supervisor.select_option(
                "#pattern-form select[name=weekday]", str(weekly.weekday())
            )
            await supervisor.fill("#pattern-form input[name=start]", "09:00")
            await supervisor.fill("#pattern-form input[name=end]", "10:00")
            await supervisor.click("#pattern-form button")
            await supervisor.wait_for_url(re.compile(r".*m=availability_added"))
            assert "09:00–10:00" in await supervisor.locator("#patterns").inner_text()
            await supervisor.screenshot(path=str(tmp_path / "availability.png"), full_page=True)
            await supervisor.fill("#slot-form input[name=day]", single.isoformat())
            await supervisor.fill("#slot-form input[name=at]", "16:00")
            await supervisor.click("#slot-form button")
            await supervisor.wait_for_url(re.compile(r".*m=slot_added"))
            assert "16:00" in await supervisor.locator("#consultations").inner_text()
            await supervisor.click("#next-day")
            await supervisor.wait_for_url(re.compile(rf".*day={weekly.isoformat()}"))
            weekly_rows = await supervisor.locator("#consultations").inner_text()
            assert "09:00" in weekly_rows and "09:30" in weekly_rows

            person = TerminalChat(
                hotline, database, sender="browser-person", render_as="sms", lang=None
            )
            for text in SCREENING:
                replies = person.send(text)
            offered = str(replies[-1]["text"])
            assert "1) " in offered and "16:00" in offered.split("2) ")[0], offered
            booked = " ".join(str(r["text"]) for r in person.send("1"))
            found = re.search(r"HL-[0-9A-Z]{6}", booked)
            assert found and "Listo" in booked, booked
            ref = found.group(0)

            agent = await (await browser.new_context(locale="es-MX")).new_page()
            await log_in(agent, "Lucía")
            await agent.fill("#day-form input[name=day]", single.isoformat())
            await agent.click("#day-form button")
            await agent.wait_for_url(re.compile(rf".*day={single.isoformat()}"))
            row = agent.locator("#consultations tbody tr", has_text=ref)
            text = await row.inner_text()
            await agent.screenshot(path=str(tmp_path / "consultations.png"), full_page=True)
            assert "16:00" in text and "reservado" in text
            for words in ("Más de 10 años", "Deportación u orden de deportación", "Ninguno"):
                assert words in text, text
            assert await agent.locator("#manage").count() == 0  # agents do not manage slots
            await row.locator(f"a[href='/staff/cases/{ref}']").click()
            await agent.wait_for_url(f"{server.url}/staff/cases/{ref}")
            assert "Más de 10 años" in await agent.locator("#screening").inner_text()
            await browser.close()
    finally:
        server.stop()
