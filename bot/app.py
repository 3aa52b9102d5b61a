"""The ASGI application: the composition root that wires settings, database and routes.

One app serves the webhooks, the web chat, /healthz and /metrics, behind the middlewares of
`bot.security` (headers, body limit, the operator pages' token). Its lifespan starts the
processing workers, the outbox sender, the PTB Application (webhook or polling) and the
APScheduler sweeps, and stops them in reverse order.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager, suppress
from typing import Any

from fastapi import FastAPI
from fastapi.responses import JSONResponse, Response
from starlette.concurrency import run_in_threadpool

from bot.appointments import publish_slots, send_reminders
from bot.channels.common import Services
from bot.channels.pipeline import Engine, Processor
from bot.channels.telegram import webhook as telegram
from bot.channels.telegram.transport import TelegramTransport
from bot.channels.twilio_sms import webhook as twilio_sms
from bot.channels.twilio_sms.transport import TwilioTransport
from bot.channels.twilio_voice import webhook as twilio_voice
from bot.channels.web import webhook as webchat
from bot.config import Settings, load_secret_keys
from bot.crypto import install_keyring
from bot.db import Database
from bot.delivery import Sender, Transport
from bot.jobs import build_scheduler, refresh_metrics
from bot.metrics import CONTENT_TYPE, Metrics
from bot.models import utcnow
from bot.outbox import BACKOFF_BASE
from bot.security import harden
from bot.staff import mount_staff
from bot.staff.sweeps import (
    alert_targets,
    escalate_breached,
    purge_expired,
    release_case_leases,
    send_daily_digests,
    send_followups,
)

logger = logging.getLogger(__name__)


async def _prepare_until_ready(engine: Engine, db: Database, retry: float = 5.0) -> None:
    """Sync desks at start; if the database is down, keep trying (health says 503 meanwhile)."""
    while True:
        try:
            await run_in_threadpool(engine.prepare, db)
            return
        except Exception as exc:
            logger.error(
                "start-up preparation failed (%s); retrying in %.0f s", type(exc).__name__, retry
            )
            await asyncio.sleep(retry)


def _staff_jobs(
    db: Database, settings: Settings, wake: Callable[[], None]
) -> dict[str, tuple[Callable[[], Awaitable[Any]], float]]:
    """The casework sweeps: SLA escalation, claim leases, follow-ups, digests, retention,
    consultation slots published from the weekly availability, consultation reminders."""
    alerts = alert_targets(settings)

    def job(sweep: Callable[..., Any], **options: Any) -> Callable[[], Awaitable[None]]:
        async def run() -> None:
            if await asyncio.to_thread(sweep, db, now=utcnow(), **options):
                wake()

        return run

    return {
        "escalate_breached": (job(escalate_breached, alerts=alerts), 60.0),
        "release_case_leases": (job(release_case_leases), 60.0),
        "send_followups": (job(send_followups), 300.0),
        "send_daily_digests": (job(send_daily_digests, alerts=alerts), 900.0),
        "purge_expired": (job(purge_expired, retention_days=settings.retention_days), 3600.0),
        "publish_slots": (job(publish_slots), 3600.0),
        "send_reminders": (job(send_reminders), 60.0),
    }


def create_app(
    settings: Settings,
    database: Database | None = None,
    *,
    engine: Engine | None = None,
    backoff_base: float = BACKOFF_BASE,
    poll_interval: float = 1.0,
    sweeps: bool = True,
) -> FastAPI:
    """Build the hotline's ASGI app; the database is migrated by the caller."""
    install_keyring(*load_secret_keys(settings))
    db = database or Database.from_settings(settings)
    if engine is None:
        from bot.conversations import Hotline

        engine = Hotline.load(settings)
    metrics = Metrics()
    transports: list[Transport] = []
    telegram_transport = None
    if settings.telegram_enabled:
        telegram_transport = TelegramTransport.from_settings(settings, db)
        transports.append(telegram_transport)
    if settings.twilio_enabled:
        transports.append(TwilioTransport.from_settings(settings, db))
    sender = Sender(
        db, transports, metrics=metrics, poll_interval=poll_interval, backoff_base=backoff_base
    )
    processor = Processor(
        db,
        engine,
        on_replies=sender.wake,
        metrics=metrics,
        busy_backlog=settings.busy_backlog,
        max_chars=settings.max_message_chars,
    )
    services = Services(
        settings=settings, db=db, metrics=metrics, processor=processor, sender=sender
    )
    bot_channel = (
        telegram.TelegramChannel(services, telegram_transport)
        if telegram_transport is not None
        else None
    )

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        logger.info(
            "hotline starting (database: %s; telegram: %s; twilio: %s)",
            db.engine.dialect.name,
            settings.telegram_enabled,
            settings.twilio_enabled,
        )
        preparing = asyncio.create_task(_prepare_until_ready(engine, db))
        processor.start()
        sender.start()
        if bot_channel is not None:
            bot_channel.start()
        scheduler = build_scheduler(
            db, engine, sender=sender, metrics=metrics, extra=_staff_jobs(db, settings, sender.wake)
        )
        if sweeps:
            scheduler.start()
        try:
            yield
        finally:
            preparing.cancel()
            if sweeps:
                scheduler.shutdown(wait=False)
            if bot_channel is not None:
                await bot_channel.stop()
            await processor.stop()
            await sender.stop()
            if database is None:
                db.dispose()
            logger.info("hotline stopped")

    app = FastAPI(
        title="Consular hotline", version="0.1.0", lifespan=lifespan, docs_url=None, redoc_url=None
    )
    harden(app, settings)  # security headers, the body limit, /metrics and /openapi.json
    app.state.settings = settings
    app.state.db = db
    app.state.services = services
    app.state.telegram = bot_channel
    app.include_router(telegram.router(services, bot_channel))
    app.include_router(twilio_sms.router(services))
    app.include_router(twilio_voice.router(services, engine))
    app.include_router(webchat.router(services))
    mount_staff(app, db, settings)

    @app.get("/healthz", include_in_schema=False)
    async def healthz() -> JSONResponse:
        """Answer 200 when the database answers, 503 otherwise."""
        try:
            await run_in_threadpool(db.ping)
        except Exception:
            logger.exception("health check: database unavailable")
            return JSONResponse({"status": "unavailable", "database": "down"}, status_code=503)
        return JSONResponse({"status": "ok", "database": db.engine.dialect.name})

    @app.get("/metrics", include_in_schema=False)
    async def metrics_page() -> Response:
        """The service's metrics in Prometheus text format."""
        with suppress(Exception):  # the counters still render when the database is away
            await asyncio.wait_for(asyncio.to_thread(refresh_metrics, db, metrics), 5)
        return Response(metrics.render(), media_type=CONTENT_TYPE)

    return app
