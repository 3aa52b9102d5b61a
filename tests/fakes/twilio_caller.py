"""A fake Twilio caller: signed voice webhooks in, TwiML out, followed as Twilio would.

It rings `POST /webhooks/twilio/voice` with the call's parameters, signs every request with
the RequestValidator's algorithm over the full public URL, parses each TwiML answer (Say,
Gather with its action, Redirect, Record, Dial, Hangup), and answers a Gather with `Digits`
or `SpeechResult` — or nothing, as Twilio does with `actionOnEmptyResult` — posting to the
Gather's action with the call's parameters again.
"""

from __future__ import annotations

import itertools
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import httpx
from twilio.request_validator import RequestValidator

from tests.fakes.twilio_api import ACCOUNT_SID, AUTH_TOKEN

_SIDS = itertools.count(1)


@dataclass
class Heard:
    """One TwiML answer as the caller experienced it."""

    says: list[str]
    gather: dict[str, str] | None = None  # the Gather's attributes (action, numDigits, …)
    record: dict[str, str] | None = None
    dial: dict[str, str] | None = None
    number: str | None = None
    redirect: str | None = None
    hangup: bool = False

    @property
    def text(self) -> str:
        return " ".join(self.says)

    @property
    def options(self) -> int:
        """How many "press N for" choices were read."""
        return sum(1 for s in self.says if s.startswith(("Oprima ", "Press ")))


@dataclass
class FakeCaller:
    """One phone call into the app under test."""

    client: httpx.AsyncClient
    public_url: str
    caller: str = "+17135550101"
    to: str = "+15005550006"
    token: str = AUTH_TOKEN
    call_sid: str = field(default_factory=lambda: f"CA{next(_SIDS):032x}")
    transcript: list[Heard] = field(default_factory=list)
    statuses: list[int] = field(default_factory=list)
    recordings: list[str] = field(default_factory=list)

    @property
    def last(self) -> Heard:
        return self.transcript[-1]

    def params(self, **more: str) -> dict[str, str]:
        return {
            "CallSid": self.call_sid,
            "AccountSid": ACCOUNT_SID,
            "From": self.caller,
            "To": self.to,
            "CallStatus": "in-progress",
            "Direction": "inbound",
            "ApiVersion": "2010-04-01",
            **more,
        }

    async def post(
        self, url: str, params: dict[str, str], *, forged: bool = False
    ) -> httpx.Response:
        """POST a form as Twilio does, signed over the full URL (or with a bad signature)."""
        if not url.startswith("http"):
            url = self.public_url + url
        signature = RequestValidator(self.token).compute_signature(url, params)
        headers = {"X-Twilio-Signature": "Zm9yZ2Vk" if forged else signature}
        parts = urlsplit(url)
        path = parts.path + (f"?{parts.query}" if parts.query else "")
        response = await self.client.post(path, data=params, headers=headers)
        self.statuses.append(response.status_code)
        return response

    async def dial_in(self) -> Heard:
        """The call is answered: the first TwiML."""
        return await self._follow("/webhooks/twilio/voice", self.params(CallStatus="ringing"))

    async def press(self, digits: str) -> Heard:
        """Keys pressed while the Gather listens."""
        return await self._answer(Digits=digits)

    async def say(self, words: str, confidence: str = "0.91") -> Heard:
        """Words spoken while the Gather listens."""
        return await self._answer(SpeechResult=words, Confidence=confidence)

    async def silence(self) -> Heard:
        """Nothing said: the Gather times out and posts to its action with no input."""
        return await self._answer()

    async def leave_voicemail(self, seconds: int = 14) -> Heard:
        """Speak after the beep, hang up: the action, then the recording status callback."""
        record = self.last.record
        assert record is not None, f"no <Record> in {self.last}"
        sid = f"RE{next(_SIDS):032x}"
        url = f"https://api.twilio.com/2010-04-01/Accounts/{ACCOUNT_SID}/Recordings/{sid}"
        heard = await self._follow(
            record["action"],
            self.params(RecordingUrl=url, RecordingDuration=str(seconds), Digits="hangup"),
        )
        callback = {
            "AccountSid": ACCOUNT_SID,
            "CallSid": self.call_sid,
            "RecordingSid": sid,
            "RecordingUrl": url,
            "RecordingStatus": "completed",
            "RecordingDuration": str(seconds),
            "RecordingChannels": "1",
            "RecordingSource": "RecordVerb",
        }
        response = await self.post(record["recordingStatusCallback"], callback)
        assert response.status_code < 300, response.status_code
        self.recordings.append(sid)
        return heard

    async def dial_ends(self, status: str) -> Heard:
        """The `<Dial>` ended (completed, busy, no-answer, failed): its action is told."""
        dial = self.last.dial
        assert dial is not None, f"no <Dial> in {self.last}"
        return await self._follow(dial["action"], self.params(DialCallStatus=status))

    async def hang_up(self, seconds: int = 60) -> httpx.Response:
        """The caller hangs up: the call's status callback."""
        return await self.post(
            "/webhooks/twilio/voice/status",
            self.params(CallStatus="completed", CallDuration=str(seconds)),
        )

    async def _answer(self, **given: str) -> Heard:
        gather = self.last.gather
        assert gather is not None, f"nothing is listening: {self.last}"
        assert "dtmf" in gather.get("input", "") and gather.get("action"), gather
        return await self._follow(gather["action"], self.params(**given))

    async def _follow(self, url: str, params: dict[str, str]) -> Heard:
        response = await self.post(url, params)
        assert response.status_code == 200, (url, response.status_code)
        heard = parse(response.text)
        self.transcript.append(heard)
        redirects = 0
        while heard.redirect and heard.gather is None and heard.record is None:
            redirects += 1
            assert redirects < 5, "redirect loop"
            response = await self.post(heard.redirect, self.params())
            heard = parse(response.text)
            self.transcript.append(heard)
        return heard


def parse(xml: str) -> Heard:
    """What a caller hears and what Twilio would do next, from one TwiML document."""
    root = ET.fromstring(xml)
    assert root.tag == "Response", xml
    heard = Heard(says=[])
    for node in root:
        _visit(node, heard)
    return heard


def _visit(node: ET.Element, heard: Heard) -> None:
    attrs: dict[str, Any] = dict(node.attrib)
    if node.tag == "Say":
        heard.says.append((node.text or "").strip())
    elif node.tag == "Gather":
        for child in node:
            _visit(child, heard)
        heard.gather = attrs
    elif node.tag == "Record":
        heard.record = attrs
    elif node.tag == "Dial":
        heard.dial = attrs
        number = node.find("Number")
        heard.number = (
            (number.text or "").strip() if number is not None else (node.text or "").strip()
        )
    elif node.tag == "Hangup":
        heard.hangup = True
    elif node.tag == "Redirect":
        heard.redirect = (node.text or "").strip()
