"""Photos and voice notes sent on Telegram, fetched through the Bot API.

An update carries only a `file_id`; the service asks the configured Bot API
(TELEGRAM_API_BASE_URL) for the file's path with `getFile`, then downloads
`/file/bot<token>/<path>` from the same root, at most HOTLINE_MEDIA_MAX_BYTES, and keeps it
encrypted in `Media` like SMS media. Nothing of Telegram's (URL, token, path) is stored.
Telegram's own copy cannot be deleted by a bot, so no provider reference is kept.
"""

from __future__ import annotations

import re
from typing import Any, Final

import httpx

from bot.channels.media import TIMEOUT, MediaUnavailable, download, store_media
from bot.config import Settings
from bot.db import Database

FETCHED_KINDS: Final = ("photo", "voice")
_FILE_PATH: Final = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.\-/]{0,250}$")
_AUDIO_TYPE: Final = re.compile(r"^audio/[a-z0-9.+\-]{1,60}$")


def file_path(settings: Settings, file_id: str) -> str:
    """The file's path on the Bot API's file server (`getFile`), refused when it is over
    the size cap or not a plain relative path."""
    assert settings.telegram_bot_token is not None
    token = settings.telegram_bot_token.get_secret_value()
    where = f"{settings.telegram_api_base_url}/bot{token}/getFile"
    try:
        answer = httpx.post(where, json={"file_id": file_id}, timeout=TIMEOUT)
        body: dict[str, Any] = answer.json()
    except (httpx.HTTPError, ValueError) as exc:
        raise MediaUnavailable(type(exc).__name__) from None
    result = body.get("result") if isinstance(body, dict) and body.get("ok") else None
    if not isinstance(result, dict):
        raise MediaUnavailable(f"getFile HTTP {answer.status_code}")
    size, path = result.get("file_size"), str(result.get("file_path") or "")
    if isinstance(size, int) and size > settings.media_max_bytes:
        raise MediaUnavailable("over the size cap")
    if not _FILE_PATH.match(path) or ".." in path:
        raise MediaUnavailable("no usable file path")
    return path


def fetch_and_store(
    settings: Settings, db: Database, inbound_id: int, media: list[dict[str, Any]]
) -> int:
    """Fetch a message's photos and voice notes from the Bot API and keep them; return how
    many were kept."""
    token = settings.telegram_bot_token
    if token is None:
        return 0
    kept = 0
    for item in media:
        if item.get("kind") not in FETCHED_KINDS or not item.get("ref"):
            continue
        try:
            path = file_path(settings, str(item["ref"]))
            root = f"{settings.telegram_api_base_url}/file/bot{token.get_secret_value()}"
            data, _served = download(f"{root}/{path}", max_bytes=settings.media_max_bytes)
        except MediaUnavailable:
            continue
        kind = _content_type(item)
        store_media(db, inbound_id=inbound_id, channel="telegram", content_type=kind, data=data)
        kept += 1
    return kept


def _content_type(item: dict[str, Any]) -> str:
    """What staff's browser is told the file is: Telegram photos are JPEG; a voice note's
    type comes from the sender's app, so only an audio type is believed (the file server
    itself says application/octet-stream)."""
    if item.get("kind") == "photo":
        return "image/jpeg"
    declared = str(item.get("content_type") or "")
    return declared if _AUDIO_TYPE.match(declared) else "audio/ogg"
