"""The web chat as its page talks to it: a session cookie, JSON posts from the page's origin."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
from asgi_lifespan import LifespanManager
from fastapi import FastAPI

from .support import PUBLIC_URL


class Page:
    """One browser on the chat page: its own cookies, its own client address."""

    def __init__(self, client: httpx.AsyncClient) -> None:
        self.client = client
        self.after = 0
        self._sent = 0

    async def start(self) -> httpx.Response:
        """Ask for a session, as the page does when a message gets 401."""
        return await self.client.post("/chat/session", json={})

    async def say(self, text: str, message_id: str | None = None, **more: Any) -> httpx.Response:
        """Send one message (with a session asked for first when there is none)."""
        self._sent += 1
        body = {"id": message_id or f"page-msg-{self._sent:06d}", "text": text, **more}
        response = await self.client.post("/chat/messages", json=body)
        if response.status_code == 401:
            await self.start()
            response = await self.client.post("/chat/messages", json=body)
        return response

    async def poll(self) -> dict[str, Any]:
        """The replies since the last poll."""
        response = await self.client.get("/chat/messages", params={"after": self.after})
        assert response.status_code == 200, response.text
        data: dict[str, Any] = response.json()
        for message in data["messages"]:
            self.after = max(self.after, message["id"])
        return data


def page_client(
    app: Any, *, peer: str = "127.0.0.1", headers: dict[str, str] | None = None
) -> httpx.AsyncClient:
    """A client for an already running app, as a browser at `peer` on the chat's own page."""
    transport = httpx.ASGITransport(app=app, client=(peer, 40000))
    return httpx.AsyncClient(
        transport=transport,
        base_url=PUBLIC_URL,
        headers={"Origin": PUBLIC_URL, **(headers or {})},
    )


@asynccontextmanager
async def serving(app: FastAPI) -> AsyncIterator[Any]:
    """Run the app's lifespan; yields the ASGI app to give to `page_client`."""
    async with LifespanManager(app, startup_timeout=20, shutdown_timeout=20) as manager:
        yield manager.app


@asynccontextmanager
async def one_page(app: FastAPI, peer: str = "127.0.0.1") -> AsyncIterator[Page]:
    """Run the app and open the chat page in one browser."""
    async with serving(app) as running_app, page_client(running_app, peer=peer) as client:
        yield Page(client)
