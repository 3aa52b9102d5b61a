"""A fake Twilio REST API: Messages.json records what the real twilio client sends;
Recordings/<sid>.mp3 serves a voicemail's audio to an authenticated fetch; a DELETE on a
recording, a message's media, a message or a call is recorded in `deleted`;
Messages/<MM>/Media/<ME> serves the media set in `media`. Like Twilio, a free-form WhatsApp
body to a number whose 24-hour window is closed (`window_closed`) is refused with 63016,
while a ContentSid (an approved template) goes."""

from __future__ import annotations

import base64
import itertools
import threading
import time
from dataclasses import dataclass, field
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

ACCOUNT_SID = "AC" + "0" * 32
AUTH_TOKEN = "fake-twilio-auth-token-0123456789"


@dataclass
class FakeTwilio:
    """State of the fake server; tests read `sent` and set the failure knobs."""

    sid: str = ACCOUNT_SID
    token: str = AUTH_TOKEN
    sent: list[dict[str, Any]] = field(default_factory=list)
    fail_sends: int = 0  # the next N creates answer 500
    unsubscribed: set[str] = field(default_factory=set)  # "To" values answered with 21610
    fetched: list[str] = field(default_factory=list)  # recording sids served
    deleted: list[str] = field(default_factory=list)  # "Recordings/RE…", "Messages/SM…", …
    media: dict[str, tuple[bytes, str]] = field(default_factory=dict)  # ME sid → (bytes, type)
    media_fetched: list[str] = field(default_factory=list)
    window_closed: set[str] = field(default_factory=set)  # "whatsapp:+1…" past 24 h of silence
    _ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1))
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def app(self) -> Starlette:
        return Starlette(
            routes=[
                Route("/2010-04-01/Accounts/{sid}/Messages.json", self._create, methods=["POST"]),
                Route("/2010-04-01/Accounts/{sid}/Recordings/{rec}.mp3", self._recording),
                Route(
                    "/2010-04-01/Accounts/{sid}/Recordings/{rec}.json",
                    self._delete,
                    methods=["DELETE"],
                ),
                Route(
                    "/2010-04-01/Accounts/{sid}/Messages/{msg}/Media/{me}.json",
                    self._delete,
                    methods=["DELETE"],
                ),
                Route(
                    "/2010-04-01/Accounts/{sid}/Messages/{msg}.json",
                    self._delete,
                    methods=["DELETE"],
                ),
                Route(
                    "/2010-04-01/Accounts/{sid}/Calls/{call}.json", self._delete, methods=["DELETE"]
                ),
                Route("/2010-04-01/Accounts/{sid}/Messages/{msg}/Media/{me}", self._media),
            ]
        )

    def bodies(self, to: str | None = None) -> list[str]:
        return [m["Body"] for m in self.sent if to is None or m["To"] == to]

    def _authentic(self, request: Request) -> bool:
        expected = base64.b64encode(f"{self.sid}:{self.token}".encode()).decode()
        return request.headers.get("authorization") == f"Basic {expected}" and (
            request.path_params["sid"] == self.sid
        )

    async def _recording(self, request: Request) -> Response:
        if not self._authentic(request):
            return _error(401, 20003, "Authenticate")
        rec = request.path_params["rec"]
        self.fetched.append(rec)
        return Response(b"ID3" + rec.encode(), media_type="audio/mpeg")

    async def _delete(self, request: Request) -> Response:
        if not self._authentic(request):
            return _error(401, 20003, "Authenticate")
        tail = request.url.path.split(f"/Accounts/{self.sid}/", 1)[1].removesuffix(".json")
        self.deleted.append(tail)
        return Response(status_code=204)

    async def _media(self, request: Request) -> Response:
        if not self._authentic(request):
            return _error(401, 20003, "Authenticate")
        me = request.path_params["me"]
        if me not in self.media:
            return _error(404, 20404, "Not Found")
        self.media_fetched.append(me)
        content, content_type = self.media[me]
        return Response(content, media_type=content_type)

    async def _create(self, request: Request) -> JSONResponse:
        if not self._authentic(request):
            return _error(401, 20003, "Authenticate")
        form = {k: v for k, v in (await request.form()).items() if isinstance(v, str)}
        with self._lock:
            if self.fail_sends > 0:
                self.fail_sends -= 1
                return _error(500, 20500, "Internal Server Error")
            if form.get("To") in self.unsubscribed:
                return _error(400, 21610, "Attempt to send to unsubscribed recipient")
            if form.get("To") in self.window_closed and "ContentSid" not in form:
                return _error(
                    400,
                    63016,
                    "Failed to send freeform message because you are outside "
                    "the allowed window. Please use a Template.",
                )
            sid = f"SM{next(self._ids):032x}"
            self.sent.append({**form, "sid": sid, "at": time.monotonic()})
        return JSONResponse(
            {
                "sid": sid,
                "account_sid": self.sid,
                "to": form.get("To"),
                "from": form.get("From"),
                "messaging_service_sid": form.get("MessagingServiceSid"),
                "body": form.get("Body"),
                "status": "queued",
                "num_segments": "1",
                "direction": "outbound-api",
                "date_created": "Mon, 23 Nov 2026 19:00:00 +0000",
                "api_version": "2010-04-01",
                "uri": f"/2010-04-01/Accounts/{self.sid}/Messages/{sid}.json",
            },
            status_code=201,
        )


def _error(status: int, code: int, message: str) -> JSONResponse:
    return JSONResponse(
        {
            "code": code,
            "message": message,
            "status": status,
            "more_info": f"https://www.twilio.com/docs/errors/{code}",
        },
        status_code=status,
    )
