"""kill -9 under load: a `hotline serve` process is killed while people write to it over
Telegram, then started again. Every message it answered 2xx is processed exactly once
afterwards (those it never answered are sent again, as Telegram does, and also processed
once), and no reply is sent twice — except a reply that was in the provider's hands at the
very moment of the kill, which no sender can know to have arrived (Telegram takes no
idempotency key) and which is therefore sent again rather than lost."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from collections import Counter
from pathlib import Path
from typing import Any

import httpx
from sqlmodel import col, select, update

from bot.db import Database
from bot.models import Contact, InboundMessage, InboundStatus, OutboundMessage, utcnow
from bot.outbox import LEASE, release_expired_leases
from tests.channels.support import PUBLIC_URL, WEBHOOK_SECRET, tg_message
from tests.conftest import TEST_SECRET
from tests.fakes.server import LiveServer, free_port
from tests.fakes.telegram_api import FakeBotAPI

PEOPLE = 24
# Each person's report; every reply in it differs from the others, so a reply sent twice
# shows as the same text twice in one chat.
REPORT = ["hay una redada ahorita en mi trabajo en Houston 77036", "1", "1", "2", "no", "vi 3"]
KILL_AFTER = 40  # acknowledged webhooks before the kill


def start_server(data: Path, api: str, port: int) -> subprocess.Popen[bytes]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("HOTLINE_", "TELEGRAM_"))}
    env.update(
        HOTLINE_DATA_DIR=str(data),
        HOTLINE_SECRET_KEY=TEST_SECRET,
        HOTLINE_PUBLIC_URL=PUBLIC_URL,
        HOTLINE_LOG_LEVEL="WARNING",
        HOTLINE_FLOOD_PER_SENDER_PER_MINUTE="100",
        TELEGRAM_BOT_TOKEN=FakeBotAPI.token,
        TELEGRAM_WEBHOOK_SECRET=WEBHOOK_SECRET,
        TELEGRAM_API_BASE_URL=api,
        HOTLINE_TELEGRAM_RATE="1000",
    )
    log = open(data / f"server-{port}.log", "wb")  # the server writes to it while it lives
    return subprocess.Popen(
        [sys.executable, "-m", "bot", "serve", "--host", "127.0.0.1", "--port", str(port)],
        cwd=data,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )


async def wait_until_ready(url: str, proc: subprocess.Popen[bytes]) -> None:
    async with httpx.AsyncClient(timeout=2) as client:
        for _ in range(600):
            if proc.poll() is not None:
                raise RuntimeError(f"hotline serve exited with {proc.returncode}")
            try:
                if (await client.get(f"{url}/healthz")).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            await asyncio.sleep(0.1)
    raise RuntimeError("hotline serve did not start")


async def post(client: httpx.AsyncClient, url: str, update: dict[str, Any]) -> bool:
    """True when the webhook answered 2xx (the message is stored); False on anything else."""
    headers = {"X-Telegram-Bot-Api-Secret-Token": WEBHOOK_SECRET}
    try:
        response = await client.post(f"{url}/webhooks/telegram", json=update, headers=headers)
    except httpx.HTTPError:
        return False
    return 200 <= response.status_code < 300


def kill(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        proc.kill()  # SIGKILL: no shutdown, no flush, nothing
    proc.wait(timeout=30)


async def test_kill_9_under_load_loses_nothing_and_repeats_nothing(
    tmp_path: Path, bot_api: tuple[FakeBotAPI, LiveServer]
) -> None:
    fake, api = bot_api
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    proc = start_server(tmp_path, api.url, port)
    acked: set[int] = set()
    unanswered: dict[int, dict[str, Any]] = {}
    try:
        await wait_until_ready(url, proc)
        killed = asyncio.Event()

        async def person(client: httpx.AsyncClient, n: int) -> None:
            chat = 700_000 + n
            for turn, text in enumerate(REPORT):
                sent = tg_message(1000 * n + turn + 1, chat, text)
                if killed.is_set() or not await post(client, url, sent):
                    unanswered[sent["update_id"]] = sent
                    return  # the person's later messages were never sent
                acked.add(sent["update_id"])
                if len(acked) >= KILL_AFTER and not killed.is_set():
                    killed.set()
                    kill(proc)

        async with httpx.AsyncClient(timeout=30) as client:
            await asyncio.gather(*(person(client, n) for n in range(PEOPLE)))
        kill(proc)
        database = Database(f"sqlite:///{tmp_path / 'hotline.db'}")
        with database.read() as session:  # the replies in the provider's hands at the kill
            in_doubt = Counter(
                (r.contact_id, r.text)
                for r in session.exec(
                    select(OutboundMessage).where(OutboundMessage.status == "sending")
                ).all()
            )

        # The killed process's claims lapse after LEASE (a minute) and go back in line:
        # make that minute pass now.
        release_expired_leases(database, now=utcnow() + LEASE)
        with database.write() as session:
            session.execute(
                update(OutboundMessage)
                .where(col(OutboundMessage.next_attempt_at) > utcnow())
                .values(next_attempt_at=utcnow())
            )
        proc = start_server(tmp_path, api.url, port)  # the same data, a new process
        await wait_until_ready(url, proc)
        async with httpx.AsyncClient(timeout=30) as client:  # Telegram retries what failed
            for again in unanswered.values():
                assert await post(client, url, again)
        retried = set(unanswered)
        expected = acked | retried
        for _ in range(600):  # until every message is processed and every reply sent
            with database.read() as session:
                inbox = session.exec(select(InboundMessage)).all()
                open_replies = session.exec(
                    select(OutboundMessage).where(
                        col(OutboundMessage.status).in_(["pending", "sending"])
                    )
                ).all()
            if all(m.status == InboundStatus.processed for m in inbox) and not open_replies:
                break
            await asyncio.sleep(0.2)
    finally:
        kill(proc)

    with database.read() as session:
        inbox = session.exec(select(InboundMessage)).all()
        replies = session.exec(select(OutboundMessage).order_by(col(OutboundMessage.id))).all()
        chats = {c.id: int(c.address or 0) for c in session.exec(select(Contact)).all()}
    database.dispose()

    # Every message answered 2xx (and every one sent again after the restart) is stored once
    # and processed once: one row each, processed, with one set of replies.
    stored = Counter(int(m.provider_id) for m in inbox)
    assert set(stored) == expected and set(stored.values()) == {1}
    assert {m.status for m in inbox} == {InboundStatus.processed}
    seqs: dict[int | None, list[int]] = {}
    for reply in replies:
        seqs.setdefault(reply.inbound_id, []).append(reply.seq)
    assert {m.id for m in inbox} <= set(seqs)
    assert all(s == list(range(len(s))) for s in seqs.values())
    # Each person's messages were processed in the order they were written.
    order: dict[int, list[int]] = {}
    provider = {m.id: int(m.provider_id) for m in inbox}
    for reply in replies:
        if reply.seq == 0 and reply.inbound_id in provider:
            order.setdefault(reply.contact_id, []).append(provider[reply.inbound_id])
    assert all(o == sorted(o) for o in order.values())
    # Every reply was delivered; none twice, but for one in the provider's hands at the kill.
    delivered = Counter((m["chat_id"], m["text"]) for m in fake.sent)
    wanted = Counter((chats[r.contact_id], r.text) for r in replies)
    doubtful = Counter({(chats[c], text): n for (c, text), n in in_doubt.items()})
    assert all(delivered[key] >= n for key, n in wanted.items())
    assert all(delivered[key] <= n + doubtful[key] for key, n in wanted.items())
    assert set(delivered) <= set(wanted)
    assert len(acked) >= KILL_AFTER
