"""In a surge the staff dashboard shows, per channel, what waits: messages stored and not
processed yet, replies not sent yet, and how long the oldest reply has waited."""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path

from bot.db import Database
from bot.engine.model import Reply
from bot.inbox import NewMessage, store_many
from bot.models import utcnow
from bot.outgoing import queue_replies
from tests.staff.support import client, log_in, make_app, new_contact, new_staff, seed_desks


def backlog_rows(html: str) -> dict[str, list[str]]:
    """The backlog table's rows as the page shows them: channel → its cells."""
    table = html.split('id="backlog"', 1)[1].split("</table>", 1)[0]
    rows: dict[str, list[str]] = {}
    for row in re.findall(r"<tr>(.*?)</tr>", table, flags=re.S):
        cells = [c.strip() for c in re.findall(r"<td[^>]*>(.*?)</td>", row, flags=re.S)]
        if cells:
            rows[cells[0]] = cells[1:]
    return rows


async def test_the_queue_page_shows_the_backlog_per_channel(
    database: Database, tmp_path: Path
) -> None:
    seed_desks(database)
    new_staff(database, "Ana", "los-angeles")
    with database.write() as session:  # three SMS and one Telegram message not processed yet
        store_many(
            session,
            [NewMessage("sms", f"SMb{n}", f"+1310555{n:04d}", "auxilio") for n in range(3)]
            + [NewMessage("telegram", "77", "4242", "ayuda")],
        )
    person = new_contact(database, channel="telegram", address="4243")
    with database.write() as session:  # two replies waiting for Telegram, the older 5 min
        for minutes in (5, 1):
            queue_replies(
                session,
                contact_id=person,
                channel="telegram",
                replies=[Reply("Le escribimos en un momento.")],
                now=utcnow() - timedelta(minutes=minutes),
            )
    async with client(make_app(database, tmp_path)) as c:
        await log_in(c, "Ana")
        page = await c.get("/staff/")
    rows = backlog_rows(page.text)
    assert rows["sms"][:2] == ["3", "0"]
    assert rows["telegram"][:2] == ["1", "2"] and rows["telegram"][2] == "5 min"


async def test_no_backlog_no_table(database: Database, tmp_path: Path) -> None:
    seed_desks(database)
    new_staff(database, "Ana", "los-angeles")
    async with client(make_app(database, tmp_path)) as c:
        await log_in(c, "Ana")
        page = await c.get("/staff/")
    assert page.status_code == 200 and 'id="backlog"' not in page.text
