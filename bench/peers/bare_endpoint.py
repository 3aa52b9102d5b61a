"""Peer for bench/bench_telegram.py: the bare endpoint — a Starlette webhook that answers each
update at once with the next question of the same raid report (the ConversationHandler
peer's texts), from a dict in memory, then says 200. No database, no persistence, no
pacing, no triage: the floor of what a Python webhook on this machine costs, to read the
other two against.

    python bench/peers/bare_endpoint.py --port 8124 --api http://127.0.0.1:PORT \
        --token 123456:TEST-token --secret S
"""

from __future__ import annotations

import argparse
import hmac
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

sys.path.insert(0, str(Path(__file__).resolve().parent))

from ptb_conversation_bot import (
    DONE,
    PLACE_GIVEN,
    Q_CHILDREN,
    Q_CONSENT,
    Q_PLACE,
    Q_SAFE,
    Q_SAW,
    Q_TAKEN,
)


def web(api: str, token: str, secret: str) -> Starlette:
    steps: dict[int, list[str]] = {}  # chat → the questions still to ask
    client: dict[str, httpx.AsyncClient] = {}

    @asynccontextmanager
    async def lifespan(_: Starlette) -> AsyncIterator[None]:
        # A small pool: httpcore scans every pooled connection on each request, and with
        # 200 of them that scan was most of this peer's time (the hotline sends with 16).
        limits = httpx.Limits(max_connections=16, max_keepalive_connections=16)
        async with httpx.AsyncClient(limits=limits, timeout=30) as http:
            client["http"] = http
            yield

    async def webhook(request: Request) -> Response:
        given = request.headers.get("X-Telegram-Bot-Api-Secret-Token", "")
        if not hmac.compare_digest(given.encode(), secret.encode()):
            return Response(status_code=403)
        update: dict[str, Any] = await request.json()
        message = update.get("message") or {}
        chat, text = int(message["chat"]["id"]), str(message.get("text") or "")
        left = steps.get(chat)
        if not left:
            place = [] if PLACE_GIVEN.search(text) else [Q_PLACE]
            left = steps[chat] = [Q_SAFE, Q_CONSENT, *place, Q_TAKEN, Q_CHILDREN, Q_SAW, DONE]
        reply = left.pop(0).replace("{ref}", "HL-000000")
        await client["http"].post(
            f"{api}/bot{token}/sendMessage", json={"chat_id": chat, "text": reply}
        )
        return Response(status_code=200)

    async def healthz(_: Request) -> Response:
        return Response("ok")

    return Starlette(
        routes=[
            Route("/webhooks/telegram", webhook, methods=["POST"]),
            Route("/healthz", healthz, methods=["GET"]),
        ],
        lifespan=lifespan,
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--api", required=True, help="Bot API base URL (the fake)")
    parser.add_argument("--token", required=True)
    parser.add_argument("--secret", required=True)
    args = parser.parse_args()
    app = web(args.api, args.token, args.secret)
    uvicorn.run(app, host="127.0.0.1", port=args.port, log_level="warning", access_log=False)


if __name__ == "__main__":
    main()
