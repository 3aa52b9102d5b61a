"""End to end with the real engine: a whole report over each channel reaches a Case."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from pathlib import Path

import pytest
from fastapi import FastAPI
from sqlmodel import select

from bot.conversations import Hotline
from bot.db import Database
from bot.delivery import RateLimiter
from bot.models import Case, InboundStatus, OutboundMessage, OutboundStatus
from tests.fakes.server import LiveServer
from tests.fakes.telegram_api import FakeBotAPI
from tests.fakes.twilio_api import FakeTwilio

from .support import (
    fast_app,
    inbound_rows,
    outbound_rows,
    post_twilio,
    post_update,
    running,
    settings_for,
    sms,
    tg_button,
    tg_message,
    wait_for,
)
from .webpage import one_page

ANA = "+17135550101"
MAX_TURNS = 30
Send = Callable[[int, str, list[dict[str, str]]], Awaitable[None]]


def unthrottle(app: FastAPI) -> None:
    """Lift the per-chat / per-number pacing so a 15-turn report does not take a minute."""
    for transport in app.state.services.sender.transports:
        transport.limiter = RateLimiter(rate=1000.0, per_key=0.0)


def answer(text: str, options: list[dict[str, str]]) -> tuple[str, int | None]:
    """What a hurried person answers: the first choice, a ZIP or a number when asked, or no."""
    if options:
        return options[0]["value"], 0
    if "ZIP" in text:
        return "77036", None
    if any(word in text for word in ("número", "numero", "number")):
        return "2", None
    return "no", None


def case_of(db: Database) -> Case | None:
    with db.read() as session:
        return session.exec(select(Case)).first()


async def converse(db: Database, send: Send, first: str, *, pushed: bool = True) -> Case:
    """Talk until the report is complete (its case left intake); each turn waits until the
    replies are out."""
    text, choice, seen = first, None, 0
    for turn in range(MAX_TURNS):
        await send(turn, text, [] if choice is None else [{"index": str(choice)}])

        def done(turn: int = turn) -> bool:
            rows = inbound_rows(db)
            return (
                len(rows) > turn
                and rows[turn].status != InboundStatus.pending
                and (
                    not pushed
                    or all(
                        r.status not in (OutboundStatus.pending, OutboundStatus.sending)
                        for r in outbound_rows(db)
                    )
                )
            )

        await wait_for(done, within=15, what=f"turn {turn}")
        case = case_of(db)
        if case is not None and case.intake_step is None:
            return case
        replies = outbound_rows(db)[seen:]
        seen += len(replies)
        assert replies, f"no reply at turn {turn}"
        text, choice = answer(replies[-1].text, replies[-1].options)
    raise AssertionError("no case after the maximum number of turns")


def delivered(db: Database) -> list[OutboundMessage]:
    return [r for r in outbound_rows(db) if r.status != OutboundStatus.suppressed]


@pytest.fixture
def hotline(tmp_path: Path) -> Hotline:
    return Hotline.load(settings_for(tmp_path))


async def test_a_report_over_telegram_reaches_a_case(
    database: Database,
    tmp_path: Path,
    hotline: Hotline,
    bot_api: tuple[FakeBotAPI, LiveServer],
) -> None:
    """Buttons pressed and words typed in Telegram end in a raid case for Houston."""
    fake, server = bot_api
    app = fast_app(settings_for(tmp_path, bot_api=server.url), database, hotline)
    async with running(app) as client:
        unthrottle(app)

        async def send(turn: int, text: str, choice: list[dict[str, str]]) -> None:
            update_id = 1000 + turn
            if choice:
                markup = fake.sent[-1]["reply_markup"]["inline_keyboard"]
                data = markup[int(choice[0]["index"])][0]["callback_data"]
                update = tg_button(update_id, 801, data, fake.sent[-1]["message_id"])
            else:
                update = tg_message(update_id, 801, text)
            assert (await post_update(client, update)).status_code == 200

        case = await converse(database, send, "hola")
    assert (case.channel, case.intent, case.desk_id) == ("telegram", "raid", "houston")
    assert fake.texts(801) == [r.text for r in delivered(database)]


@pytest.mark.parametrize("channel", ["sms", "whatsapp"])
async def test_a_report_over_sms_or_whatsapp_reaches_a_case(
    database: Database,
    tmp_path: Path,
    hotline: Hotline,
    twilio_api: tuple[FakeTwilio, LiveServer],
    channel: str,
) -> None:
    """Numbered choices answered by SMS (or WhatsApp) end in a raid case for Houston."""
    fake, server = twilio_api
    app = fast_app(settings_for(tmp_path, twilio_api=server.url), database, hotline)
    sender = ANA if channel == "sms" else f"whatsapp:{ANA}"
    async with running(app) as client:
        unthrottle(app)

        async def send(turn: int, text: str, choice: list[dict[str, str]]) -> None:
            body = str(int(choice[0]["index"]) + 1) if choice else text
            response = await post_twilio(
                client, "/webhooks/twilio/sms", sms(f"SM{turn:04d}", sender, body)
            )
            assert response.status_code == 200

        case = await converse(database, send, "hola, hay una redada")
    assert (case.channel, case.intent, case.desk_id) == (channel, "raid", "houston")
    assert fake.bodies(sender) == [r.text for r in delivered(database)]


async def test_a_report_over_the_web_chat_reaches_a_case(
    database: Database, tmp_path: Path, hotline: Hotline
) -> None:
    """Messages posted and replies polled as the page does end in a raid case for Houston."""
    app = fast_app(settings_for(tmp_path), database, hotline)
    got: list[str] = []
    async with one_page(app) as page:

        async def poll() -> None:
            got.extend(m["text"] for m in (await page.poll())["messages"])

        async def send(turn: int, text: str, choice: list[dict[str, str]]) -> None:
            if choice:
                text = outbound_rows(database)[-1].options[int(choice[0]["index"])]["value"]
            response = await page.say(text, f"web-msg-{turn:04d}")
            assert response.status_code == 202
            await wait_for(
                lambda: inbound_rows(database)[-1].status != InboundStatus.pending,
                what="processing",
            )
            await poll()

        case = await converse(database, send, "hola", pushed=False)
        await poll()
    assert (case.channel, case.intent, case.desk_id) == ("web", "raid", "houston")
    assert got == [r.text for r in delivered(database)]


async def test_sms_help_mid_report_leaves_the_flow_where_it_was(
    database: Database,
    tmp_path: Path,
    hotline: Hotline,
    twilio_api: tuple[FakeTwilio, LiveServer],
) -> None:
    """A bare AYUDA in the middle of a report is answered; the next answer continues the flow."""
    fake, server = twilio_api
    app = fast_app(settings_for(tmp_path, twilio_api=server.url), database, hotline)
    async with running(app) as client:
        unthrottle(app)
        for turn, body in enumerate(["hola", "AYUDA", "1"]):
            await post_twilio(client, "/webhooks/twilio/sms", sms(f"SM9{turn}", ANA, body))
            await wait_for(lambda n=turn: len(fake.sent) > n, what=f"reply {turn}")
        await wait_for(
            lambda: all(r.status == OutboundStatus.sent for r in outbound_rows(database)),
            what="all sent",
        )
    menu, help_text, *after = fake.bodies(ANA)
    assert "1)" in menu and "HUMANO" in help_text and "1-520-623-7874" in help_text
    assert after and menu not in after and "1)" in after[-1]  # the menu's choice 1 was taken
    assert [r.status for r in inbound_rows(database)] == [InboundStatus.processed] * 3
