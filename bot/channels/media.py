"""Evidence files (photos, voice notes) fetched from a provider and kept encrypted.

A file is fetched by the service only from under the provider's configured API root, with
the provider's credentials — never from a URL taken from a request as is — read up to
`HOTLINE_MEDIA_MAX_BYTES`, and stored in `Media` (bytes encrypted at rest) linked to its
inbound message. Staff see it on the case through a service URL. Fetching runs after the
webhook has answered; a failure is logged and the evidence keeps its content type only.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import Any, Final

import httpx

from bot.cases import latest_open_case
from bot.db import Database
from bot.errors import ChannelSendError
from bot.models import InboundMessage, Media, utcnow

logger = logging.getLogger(__name__)
TIMEOUT: Final = 20.0
_tasks: set[asyncio.Task[Any]] = set()


class MediaUnavailable(ChannelSendError):
    """The file is gone, over the size cap, or the provider is away."""


def download(url: str, *, max_bytes: int, auth: tuple[str, str] | None = None) -> tuple[bytes, str]:
    """GET `url` (built by the caller under the provider's root), at most `max_bytes`.
    Redirects (Twilio hands media out from its storage) are followed without the
    credentials, which httpx drops when the host changes."""
    try:
        with (
            httpx.Client(timeout=TIMEOUT, follow_redirects=True, max_redirects=3) as client,
            client.stream("GET", url, auth=auth) as response,
        ):
            if response.status_code != 200:
                raise MediaUnavailable(f"HTTP {response.status_code}")
            declared = response.headers.get("content-length", "")
            if declared.isdigit() and int(declared) > max_bytes:
                raise MediaUnavailable("over the size cap")
            chunks: list[bytes] = []
            size = 0
            for chunk in response.iter_bytes():
                size += len(chunk)
                if size > max_bytes:
                    raise MediaUnavailable("over the size cap")
                chunks.append(chunk)
            kind = response.headers.get("content-type", "application/octet-stream")
            return b"".join(chunks), kind.split(";")[0].strip()[:80]
    except httpx.HTTPError as exc:
        raise MediaUnavailable(type(exc).__name__) from None


def store_media(
    db: Database,
    *,
    inbound_id: int,
    channel: str,
    content_type: str,
    data: bytes,
    provider_ref: str | None = None,
) -> int:
    """Keep one fetched file (encrypted) linked to its message; return its id."""
    with db.write() as session:
        inbound = session.get(InboundMessage, inbound_id)
        contact_id = inbound.contact_id if inbound is not None else None
        case = latest_open_case(session, contact_id) if contact_id is not None else None
        media = Media(
            inbound_id=inbound_id,
            contact_id=contact_id,
            case_id=case.id if case is not None else None,  # the report it is evidence for
            channel=channel,
            content_type=content_type,
            size=len(data),
            data=data,
            provider_ref=provider_ref,
            created_at=utcnow(),
        )
        session.add(media)
        session.flush()
        assert media.id is not None
        return media.id


def in_background(work: Callable[[], Any], what: str) -> None:
    """Run a blocking fetch in a worker thread after the webhook has answered."""

    async def run() -> None:
        try:
            await asyncio.to_thread(work)
        except Exception as exc:
            logger.warning("%s: media not kept (%s)", what, exc)

    task = asyncio.get_running_loop().create_task(run())
    _tasks.add(task)
    task.add_done_callback(_tasks.discard)
