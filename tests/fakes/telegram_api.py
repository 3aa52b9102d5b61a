"""A fake Telegram Bot API: records what the real PTB client sends, can fail on demand.

`getFile` answers for the files set in `files` (file_id → bytes; `file_size` is left out
for the ids in `sizes_hidden`), and `/file/bot<token>/<path>` serves them."""

from __future__ import annotations

import asyncio
import itertools
import json
import threading
import time
from dataclasses import dataclass, field
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

BOT = {
    "id": 4242,
    "is_bot": True,
    "first_name": "Hotline",
    "username": "hotline_test_bot",
    "can_join_groups": False,
    "can_read_all_group_messages": False,
    "supports_inline_queries": False,
}


@dataclass
class FakeBotAPI:
    """State of the fake server; tests read `sent` and set the failure knobs."""

    token: str = "123456:TEST-token"
    sent: list[dict[str, Any]] = field(default_factory=list)
    calls: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    updates: list[dict[str, Any]] = field(default_factory=list)
    fail_sends: int = 0  # the next N sendMessage calls answer 500
    retry_after: int = 0  # the next sendMessage answers 429 with this retry_after
    blocked_chats: set[int] = field(default_factory=set)
    files: dict[str, bytes] = field(default_factory=dict)  # file_id → the file's bytes
    sizes_hidden: set[str] = field(default_factory=set)  # getFile gives no file_size
    files_fetched: list[str] = field(default_factory=list)  # file_ids downloaded
    _ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1))
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def app(self) -> Starlette:
        return Starlette(
            routes=[
                Route("/bot{token}/{method}", self._handle, methods=["POST"]),
                Route("/file/bot{token}/{path:path}", self._file),
            ]
        )

    def texts(self, chat_id: int | None = None) -> list[str]:
        return [m["text"] for m in self.sent if chat_id is None or m["chat_id"] == chat_id]

    def method_calls(self, method: str) -> list[dict[str, Any]]:
        return [params for name, params in self.calls if name == method]

    async def _handle(self, request: Request) -> JSONResponse:
        if request.path_params["token"] != self.token:
            return _error(401, "Unauthorized")
        method = request.path_params["method"]
        params = await _params(request)
        with self._lock:
            self.calls.append((method, params))
        if method == "getMe":
            return _ok(BOT)
        if method in ("setWebhook", "deleteWebhook", "answerCallbackQuery", "close", "logOut"):
            return _ok(True)
        if method == "editMessageReplyMarkup":
            return _ok(True)
        if method == "getUpdates":
            return await self._get_updates(params)
        if method == "sendMessage":
            return self._send(params)
        if method == "getFile":
            return self._get_file(str(params.get("file_id") or ""))
        return _error(404, f"Not Found: method {method}")

    async def _get_updates(self, params: dict[str, Any]) -> JSONResponse:
        offset = int(params.get("offset") or 0)
        deadline = time.monotonic() + min(float(params.get("timeout") or 0), 0.3)
        while True:
            with self._lock:
                self.updates = [u for u in self.updates if u["update_id"] >= offset]
                ready = list(self.updates)
            if ready or time.monotonic() >= deadline:
                return _ok(ready)
            await asyncio.sleep(0.02)

    def _get_file(self, file_id: str) -> JSONResponse:
        if file_id not in self.files:
            return _error(400, "Bad Request: invalid file_id")
        result: dict[str, Any] = {
            "file_id": file_id,
            "file_unique_id": f"u{file_id}",
            "file_path": f"media/{file_id}.bin",
        }
        if file_id not in self.sizes_hidden:
            result["file_size"] = len(self.files[file_id])
        return _ok(result)

    async def _file(self, request: Request) -> Response:
        if request.path_params["token"] != self.token:
            return Response(b"Unauthorized", status_code=401)
        path = request.path_params["path"]
        file_id = path.removeprefix("media/").removesuffix(".bin")
        if file_id not in self.files:
            return Response(b"Not Found", status_code=404)
        with self._lock:
            self.files_fetched.append(file_id)
        return Response(self.files[file_id], media_type="application/octet-stream")

    def _send(self, params: dict[str, Any]) -> JSONResponse:
        chat_id = int(params["chat_id"])
        with self._lock:
            if self.retry_after:
                wait, self.retry_after = self.retry_after, 0
                return JSONResponse(
                    {
                        "ok": False,
                        "error_code": 429,
                        "description": f"Too Many Requests: retry after {wait}",
                        "parameters": {"retry_after": wait},
                    },
                    status_code=429,
                )
            if self.fail_sends > 0:
                self.fail_sends -= 1
                return _error(500, "Internal Server Error")
            if chat_id in self.blocked_chats:
                return _error(403, "Forbidden: bot was blocked by the user")
            message_id = next(self._ids)
            markup = params.get("reply_markup")
            record = {
                "chat_id": chat_id,
                "text": params["text"],
                "message_id": message_id,
                "reply_markup": json.loads(markup) if isinstance(markup, str) else markup,
                "at": time.monotonic(),
            }
            self.sent.append(record)
        return _ok(
            {
                "message_id": message_id,
                "date": int(time.time()),
                "chat": {"id": chat_id, "type": "private"},
                "text": params["text"],
            }
        )


async def _params(request: Request) -> dict[str, Any]:
    if request.headers.get("content-type", "").startswith("application/json"):
        data = await request.json()
        return dict(data)
    form = await request.form()
    return {k: v for k, v in form.items() if isinstance(v, str)}


def _ok(result: Any) -> JSONResponse:
    return JSONResponse({"ok": True, "result": result})


def _error(code: int, description: str) -> JSONResponse:
    return JSONResponse(
        {"ok": False, "error_code": code, "description": description}, status_code=code
    )
