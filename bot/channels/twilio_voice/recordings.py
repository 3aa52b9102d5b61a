"""Voicemails for staff: fetched from Twilio by the service, never linked to.

A recording is known by its sid only (`RE` + 32 hex digits, kept on the case's `voicemail`
event). The audio is fetched from under TWILIO_API_BASE_URL — never from a URL taken from a
request — with the account's credentials, capped in size, and handed to the staff member's
browser by the service, so staff never see a Twilio URL or credential.
"""

from __future__ import annotations

import re
from typing import Final

import httpx

from bot.config import Settings
from bot.errors import ChannelSendError

RECORDING_SID: Final = re.compile(r"^RE[0-9a-fA-F]{32}$")
MAX_BYTES: Final = 10 * 1024 * 1024  # two minutes of MP3 is about 1 MB
TIMEOUT: Final = 15.0


class RecordingUnavailable(ChannelSendError):
    """Twilio is not configured, the recording is gone, too large, or Twilio is away."""


def recording_url(settings: Settings, sid: str) -> str:
    """Where the service fetches the recording's MP3 (under the configured API root)."""
    if not RECORDING_SID.match(sid) or not settings.twilio_account_sid:
        raise RecordingUnavailable("not a recording sid, or Twilio is not configured")
    account = settings.twilio_account_sid
    return f"{settings.twilio_api_base_url}/2010-04-01/Accounts/{account}/Recordings/{sid}.mp3"


def fetch_recording(settings: Settings, sid: str, *, max_bytes: int = MAX_BYTES) -> bytes:
    """The recording's audio (MP3), read up to `max_bytes`."""
    url = recording_url(settings, sid)
    token = settings.twilio_auth_token
    assert settings.twilio_account_sid and token is not None
    auth = (settings.twilio_account_sid, token.get_secret_value())
    try:
        with (
            httpx.Client(timeout=TIMEOUT, follow_redirects=False) as client,
            client.stream("GET", url, auth=auth) as response,
        ):
            if response.status_code != 200:
                raise RecordingUnavailable(f"twilio HTTP {response.status_code}")
            chunks: list[bytes] = []
            size = 0
            for chunk in response.iter_bytes():
                size += len(chunk)
                if size > max_bytes:
                    raise RecordingUnavailable("recording over the size cap")
                chunks.append(chunk)
            return b"".join(chunks)
    except httpx.HTTPError as exc:
        raise RecordingUnavailable(f"twilio: {type(exc).__name__}") from None


# What an erasure may delete at Twilio, under the account: a recording, one media file of a
# message, a message's record, a call's record. Anything else in the queue is refused (never
# a URL taken from a request).
TWILIO_RESOURCE: Final = re.compile(
    r"^(Recordings/RE[0-9a-fA-F]{32}|Calls/CA[0-9a-fA-F]{32}"
    r"|Messages/(MM|SM)[0-9a-fA-F]{32}(/Media/ME[0-9a-fA-F]{32})?)$"
)


def delete_at_twilio(settings: Settings, resource: str) -> None:
    """DELETE a recording, a message's media, a message or a call at Twilio (gone already
    counts as deleted; a message still being delivered is refused there and retried)."""
    if not TWILIO_RESOURCE.match(resource) or not settings.twilio_account_sid:
        raise RecordingUnavailable("not a Twilio resource we delete, or Twilio is not configured")
    token = settings.twilio_auth_token
    assert token is not None
    account = settings.twilio_account_sid
    url = f"{settings.twilio_api_base_url}/2010-04-01/Accounts/{account}/{resource}.json"
    try:
        with httpx.Client(timeout=TIMEOUT, follow_redirects=False) as client:
            response = client.delete(url, auth=(account, token.get_secret_value()))
    except httpx.HTTPError as exc:
        raise RecordingUnavailable(f"twilio: {type(exc).__name__}") from None
    if response.status_code not in (200, 204, 404):
        raise RecordingUnavailable(f"twilio HTTP {response.status_code}")
