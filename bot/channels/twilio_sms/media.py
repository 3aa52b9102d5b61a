"""Photos and voice notes sent by SMS (MMS) or WhatsApp, fetched from Twilio.

Twilio posts `MediaUrl0..9`; only the message and media sids are taken from each URL (and
only for our own account), and the file is fetched from under TWILIO_API_BASE_URL with the
account's credentials. The Twilio copy is deleted there when the person's data is erased.
"""

from __future__ import annotations

import re
from typing import Final

from bot.channels.media import MediaUnavailable, download, store_media
from bot.config import Settings
from bot.db import Database

MEDIA_URL: Final = re.compile(
    r"/Accounts/(AC[0-9a-fA-F]{32})/Messages/((?:MM|SM)[0-9a-fA-F]{32})/Media/(ME[0-9a-fA-F]{32})$"
)


def media_resource(settings: Settings, url: str) -> str | None:
    """`Messages/MM…/Media/ME…` for one of our account's media URLs, else None."""
    found = MEDIA_URL.search(url.split("?", 1)[0])
    if found is None or found.group(1) != settings.twilio_account_sid:
        return None
    return f"Messages/{found.group(2)}/Media/{found.group(3)}"


def fetch_and_store(
    settings: Settings, db: Database, inbound_id: int, channel: str, urls: list[str]
) -> int:
    """Fetch each of a message's media from Twilio and keep it; return how many were kept."""
    token = settings.twilio_auth_token
    account = settings.twilio_account_sid
    if token is None or account is None:
        return 0
    kept = 0
    for url in urls:
        resource = media_resource(settings, url)
        if resource is None:
            continue  # not a Twilio media URL of ours: never fetched
        where = f"{settings.twilio_api_base_url}/2010-04-01/Accounts/{account}/{resource}"
        try:
            data, kind = download(
                where,
                max_bytes=settings.media_max_bytes,
                auth=(account, token.get_secret_value()),
            )
        except MediaUnavailable:
            continue
        store_media(
            db,
            inbound_id=inbound_id,
            channel=channel,
            content_type=kind,
            data=data,
            provider_ref=resource,
        )
        kept += 1
    return kept
