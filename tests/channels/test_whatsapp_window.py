"""WhatsApp's 24-hour window: past it, staff replies go as an approved template."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
from sqlmodel import select

from bot.conversations import Hotline
from bot.db import Database
from bot.engine.model import Reply
from bot.models import Case, Contact, InboundMessage, OutboundStatus, utcnow
from bot.outgoing import queue_replies
from bot.staff.commands import add_staff
from tests.fakes.server import LiveServer
from tests.fakes.twilio_api import FakeTwilio
from tests.staff.support import PASSWORD, log_in

from .support import (
    TWILIO_NUMBER,
    fast_app,
    outbound_rows,
    post_twilio,
    running,
    settings_for,
    sms,
    wait_for,
)

Fake = tuple[FakeTwilio, LiveServer]
ANA = "+17135550123"
WA = f"whatsapp:{ANA}"
TEMPLATE_ES = "HX" + "a1" * 16
TEMPLATE_EN = "HX" + "b2" * 16
REPORT = "la migra se llevó a mi hermano ahorita en el trabajo en Houston"
REPLY = "Hola, somos el consulado.\nLlámenos al 713 555 0100."


async def a_whatsapp_report(client: httpx.AsyncClient, fake: FakeTwilio, db: Database) -> Case:
    """Ana reports on WhatsApp (a critical case opens at once); the bot answers free-form."""
    form = sms("SM300", WA, REPORT, To=f"whatsapp:{TWILIO_NUMBER}", WaId=ANA[1:])
    assert (await post_twilio(client, "/webhooks/twilio/sms", form)).status_code == 200
    await wait_for(lambda: len(fake.sent) >= 1, what="the bot's reply")
    form = sms("SM301", WA, "sí", To=f"whatsapp:{TWILIO_NUMBER}", WaId=ANA[1:])  # the notice
    assert (await post_twilio(client, "/webhooks/twilio/sms", form)).status_code == 200
    await wait_for(lambda: len(fake.sent) >= 2, what="the bot's second reply")
    assert all("Body" in m and "ContentSid" not in m for m in fake.sent)
    with db.read() as session:
        case = session.exec(select(Case)).one()
    assert case.contact_id is not None
    return case


def staff_reply(db: Database, case: Case, *, silent_for: timedelta) -> int:
    """Ana last wrote `silent_for` ago; staff answer her case."""
    with db.write() as session:
        contact = session.get(Contact, case.contact_id)
        assert contact is not None and contact.id is not None
        contact.last_inbound_at = utcnow() - silent_for
        for message in session.exec(select(InboundMessage)).all():
            message.received_at = utcnow() - silent_for
        (row_id, *_) = queue_replies(
            session,
            contact_id=contact.id,
            channel="whatsapp",
            replies=[Reply(REPLY)],
            now=utcnow(),
            case_id=case.id,
            kind="staff",
        )
        return row_id


def row(db: Database, row_id: int) -> Any:
    return next(r for r in outbound_rows(db) if r.id == row_id)


async def test_past_the_window_a_staff_reply_goes_as_the_approved_template(
    database: Database, tmp_path: Path, twilio_api: Fake
) -> None:
    """ContentSid (the Spanish template) and the text as variable 1, no Body; the dashboard
    says it went as a template."""
    fake, server = twilio_api
    fake.window_closed.add(WA)
    settings = settings_for(
        tmp_path,
        twilio_api=server.url,
        twilio_whatsapp_template_es=TEMPLATE_ES,
        twilio_whatsapp_template_en=TEMPLATE_EN,
    )
    app = fast_app(settings, database, Hotline.load(settings))
    async with running(app) as client:
        fake.window_closed.discard(WA)  # she just wrote: the window is open
        case = await a_whatsapp_report(client, fake, database)
        fake.window_closed.add(WA)
        row_id = staff_reply(database, case, silent_for=timedelta(hours=25))
        app.state.services.sender.wake()
        await wait_for(lambda: any("ContentSid" in m for m in fake.sent), what="the template")
        sent = next(m for m in fake.sent if "ContentSid" in m)
        assert sent["ContentSid"] == TEMPLATE_ES and "Body" not in sent
        assert json.loads(sent["ContentVariables"]) == {
            "1": "Hola, somos el consulado. Llámenos al 713 555 0100."
        }
        assert (sent["To"], sent["From"]) == (WA, f"whatsapp:{TWILIO_NUMBER}")
        await wait_for(lambda: row(database, row_id).status == OutboundStatus.sent)
        assert row(database, row_id).template == TEMPLATE_ES
        page = await case_page(client, database, case)
        assert "enviado como plantilla de WhatsApp" in page


async def test_when_twilio_says_63016_the_reply_goes_again_as_a_template(
    database: Database, tmp_path: Path, twilio_api: Fake
) -> None:
    """Our record says the window is open, Twilio says closed (63016): a template goes."""
    fake, server = twilio_api
    settings = settings_for(
        tmp_path, twilio_api=server.url, twilio_whatsapp_template_es=TEMPLATE_ES
    )
    app = fast_app(settings, database, Hotline.load(settings))
    async with running(app) as client:
        case = await a_whatsapp_report(client, fake, database)
        fake.window_closed.add(WA)
        row_id = staff_reply(database, case, silent_for=timedelta(hours=1))
        app.state.services.sender.wake()
        await wait_for(lambda: row(database, row_id).status == OutboundStatus.sent)
    assert [m.get("ContentSid") for m in fake.sent[2:]] == [TEMPLATE_ES]
    assert row(database, row_id).template == TEMPLATE_ES


async def test_past_the_window_without_a_template_the_reply_fails_with_a_reason(
    database: Database, tmp_path: Path, twilio_api: Fake
) -> None:
    """No template configured: nothing is sent, the row fails, staff read why."""
    fake, server = twilio_api
    settings = settings_for(tmp_path, twilio_api=server.url)
    app = fast_app(settings, database, Hotline.load(settings))
    async with running(app) as client:
        case = await a_whatsapp_report(client, fake, database)
        fake.window_closed.add(WA)
        before = len(fake.sent)
        row_id = staff_reply(database, case, silent_for=timedelta(days=3))
        app.state.services.sender.wake()
        await wait_for(lambda: row(database, row_id).status == OutboundStatus.failed)
        assert len(fake.sent) == before
        assert "TWILIO_WHATSAPP_TEMPLATE_ES" in (row(database, row_id).last_error or "")
        page = await case_page(client, database, case)
        assert "No se envió" in page and "no hay plantilla de WhatsApp aprobada" in page


async def test_the_fake_refuses_a_free_form_body_outside_the_window(twilio_api: Fake) -> None:
    fake, server = twilio_api
    fake.window_closed.add(WA)
    auth = (fake.sid, fake.token)
    url = f"{server.url}/2010-04-01/Accounts/{fake.sid}/Messages.json"
    async with httpx.AsyncClient() as client:
        body = {"To": WA, "From": f"whatsapp:{TWILIO_NUMBER}", "Body": "hola"}
        refused = await client.post(url, data=body, auth=auth)
        assert refused.status_code == 400 and refused.json()["code"] == 63016
        template = {"To": WA, "From": f"whatsapp:{TWILIO_NUMBER}", "ContentSid": TEMPLATE_ES}
        assert (await client.post(url, data=template, auth=auth)).status_code == 201


async def case_page(client: httpx.AsyncClient, db: Database, case: Case) -> str:
    add_staff(db, name="Ana Ruiz", desk=case.desk_id, role="agent", password=PASSWORD)
    transport = client._transport
    async with httpx.AsyncClient(transport=transport, base_url="https://testserver") as https:
        assert (await log_in(https, "Ana Ruiz")).status_code == 303
        page = await https.get(f"/staff/cases/{case.ref}")
        assert page.status_code == 200
        return page.text
