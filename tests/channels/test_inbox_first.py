"""Inbox first across channels: no 2xx without a stored message, and crash recovery."""

from __future__ import annotations

import asyncio
import time
from datetime import timedelta
from pathlib import Path

from bot.channels.web.session import Sessions
from bot.db import Database
from bot.jobs import sweep_inbox
from bot.models import InboundStatus, utcnow
from tests.fakes.engine import CrashingEngine, EchoEngine
from tests.fakes.server import LiveServer
from tests.fakes.telegram_api import FakeBotAPI
from tests.fakes.twilio_api import FakeTwilio

from .support import (
    fast_app,
    inbound_rows,
    post_twilio,
    post_update,
    running,
    settings_for,
    settle,
    sms,
    tg_message,
    wait_for,
)

DOWN = "postgresql+psycopg://nobody@127.0.0.1:1/none?connect_timeout=1"
OPS_TOKEN = "operator-token-for-the-channel-tests-0123"  # /metrics needs it when deployed
OPS = {"Authorization": f"Bearer {OPS_TOKEN}"}


async def test_database_down_means_5xx_on_every_channel(
    tmp_path: Path,
    bot_api: tuple[FakeBotAPI, LiveServer],
    twilio_api: tuple[FakeTwilio, LiveServer],
) -> None:
    """When the message cannot be stored, no provider gets a 2xx (so it retries)."""
    settings = settings_for(
        tmp_path, bot_api=bot_api[1].url, twilio_api=twilio_api[1].url, ops_token=OPS_TOKEN
    )
    database = Database(DOWN)
    app = fast_app(settings, database, EchoEngine())
    try:
        async with running(app) as client:
            assert (await post_update(client, tg_message(1, 600))).status_code == 503
            assert (
                await post_twilio(
                    client, "/webhooks/twilio/sms", sms("SM1", "+17135550101", "hola")
                )
            ).status_code == 503
            page = {"Origin": "http://testserver"}
            started = await client.post("/chat/session", json={}, headers=page)
            assert started.status_code == 503  # new sessions are counted in the database
            _, value = Sessions.from_settings(settings).issue(time.time())
            client.cookies.set("__Host-hotline-chat", value)  # a session from before
            web = {"id": "m" * 16, "text": "hola"}
            assert (await client.post("/chat/messages", json=web, headers=page)).status_code == 503
            assert (await client.get("/chat/messages")).status_code == 503
            client.cookies.clear()
            assert (await client.get("/healthz")).status_code == 503
            assert (await client.get("/metrics", headers=OPS)).status_code == 200
    finally:
        database.dispose()


async def test_a_crash_between_storing_and_processing_is_recovered_by_the_sweep(
    database: Database, tmp_path: Path, bot_api: tuple[FakeBotAPI, LiveServer]
) -> None:
    """Stored (200) but never processed: after a restart the sweep runs it and it is answered."""
    fake, server = bot_api
    settings = settings_for(tmp_path, bot_api=server.url)
    async with running(fast_app(settings, database, CrashingEngine())) as client:
        assert (await post_update(client, tg_message(700, 601, "hola"))).status_code == 200
        await settle()
    assert [r.status for r in inbound_rows(database)] == [InboundStatus.pending]
    assert fake.sent == []

    engine = EchoEngine()
    app = fast_app(settings, database, engine)
    async with running(app):
        assert sweep_inbox(database, engine, now=utcnow()) == 0  # too fresh: a worker has it
        assert sweep_inbox(database, engine, now=utcnow(), older_than=timedelta(0)) == 1
        app.state.services.sender.wake()
        await wait_for(lambda: len(fake.sent) == 1, what="recovered reply")
        assert sweep_inbox(database, engine, now=utcnow(), older_than=timedelta(0)) == 0
        await settle()
    assert fake.texts(601) == ["echo: hola"]
    assert [r.status for r in inbound_rows(database)] == [InboundStatus.processed]


async def test_metrics_are_exposed_in_prometheus_text_format(
    database: Database, tmp_path: Path, twilio_api: tuple[FakeTwilio, LiveServer]
) -> None:
    """/metrics counts stored messages and refused webhooks, without personal data."""
    fake, server = twilio_api
    settings = settings_for(tmp_path, twilio_api=server.url, ops_token=OPS_TOKEN)
    app = fast_app(settings, database, EchoEngine())
    async with running(app) as client:
        await post_twilio(client, "/webhooks/twilio/sms", sms("SM5", "+17135550101", "hola"))
        await post_twilio(
            client, "/webhooks/twilio/sms", sms("SM6", "+17135550101", "x"), signature="bad"
        )
        await wait_for(lambda: len(fake.sent) == 1, what="reply")
        sent = 'hotline_outbound_total{channel="sms",outcome="sent"} 1.0'
        for _ in range(100):  # the sender counts right after recording the send
            response = await client.get("/metrics", headers=OPS)
            if sent in response.text:
                break
            await asyncio.sleep(0.02)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    body = response.text
    assert 'hotline_inbound_total{channel="sms",outcome="stored"} 1.0' in body
    assert 'hotline_webhook_rejected_total{channel="twilio",reason="signature"} 1.0' in body
    assert 'hotline_outbound_total{channel="sms",outcome="sent"} 1.0' in body
    assert "7135550101" not in body and "hola" not in body
