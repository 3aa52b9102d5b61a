"""Telegram evidence: photos and voice notes fetched through the Bot API (getFile, then the
file server), capped, kept encrypted, shown to the desk through the service only."""

from __future__ import annotations

from pathlib import Path

import httpx
from sqlmodel import select

from bot.conversations import Hotline
from bot.db import Database
from bot.models import Case, Media
from bot.staff.commands import add_staff
from tests.fakes.server import LiveServer
from tests.fakes.telegram_api import FakeBotAPI
from tests.staff.support import PASSWORD, log_in

from .support import fast_app, post_update, running, settings_for, tg_message, wait_for

Fake = tuple[FakeBotAPI, LiveServer]
CHAT = 5150
REPORT = "la migra se llevó a mi hermano ahorita en el trabajo en Houston"
PHOTO = b"\xff\xd8\xff\xe0JFIF-telegram-photo-of-the-van" * 20
NOTE = b"OggS-telegram-voice-note" * 10
BIG = b"x" * 5000


def kept(db: Database) -> list[Media]:
    with db.read() as session:
        return list(session.exec(select(Media).order_by(Media.id)).all())  # type: ignore[arg-type]


def photo(file_id: str) -> list[dict[str, object]]:
    small = {"file_id": f"{file_id}-thumb", "file_unique_id": "t", "width": 90, "height": 90}
    return [small, {"file_id": file_id, "file_unique_id": "p", "width": 800, "height": 600}]


def voice(file_id: str) -> dict[str, object]:
    return {"file_id": file_id, "file_unique_id": "v", "duration": 3, "mime_type": "audio/ogg"}


async def test_telegram_media_are_fetched_capped_encrypted_and_shown_through_the_service(
    database: Database, tmp_path: Path, bot_api: Fake
) -> None:
    fake, server = bot_api
    fake.files.update({"PHOTO1": PHOTO, "VOICE1": NOTE, "BIGVOICE": BIG, "BIGPHOTO": BIG})
    fake.sizes_hidden.add("BIGPHOTO")  # no file_size from getFile: the download is capped
    settings = settings_for(tmp_path, bot_api=server.url, media_max_bytes=4096)
    app = fast_app(settings, database, Hotline.load(settings))
    async with running(app) as client:
        updates = [
            tg_message(1, CHAT, None, caption=REPORT, photo=photo("PHOTO1")),
            tg_message(2, CHAT, "sí"),
            tg_message(3, CHAT, None, voice=voice("VOICE1")),
            tg_message(4, CHAT, None, voice=voice("BIGVOICE")),
            tg_message(5, CHAT, None, photo=photo("BIGPHOTO")),
        ]
        for number, update in enumerate(updates, start=1):
            assert (await post_update(client, update)).status_code == 200
            await wait_for(lambda n=number: len(fake.sent) >= n, within=30, what=f"reply {number}")
        await wait_for(
            lambda: len(fake.method_calls("getFile")) == 4, within=30, what="getFile calls"
        )
        await wait_for(lambda: len(kept(database)) == 2, within=30, what="the media kept")
        assert (await post_update(client, updates[0])).status_code == 200  # redelivered

        photo_row, note_row = kept(database)
        assert (photo_row.channel, photo_row.content_type, photo_row.data) == (
            "telegram",
            "image/jpeg",
            PHOTO,
        )
        assert (note_row.content_type, note_row.size, note_row.data) == (
            "audio/ogg",
            len(NOTE),
            NOTE,
        )
        assert photo_row.provider_ref is None and note_row.provider_ref is None
        # The largest photo size only; the over-cap voice note is never downloaded, the
        # photo whose size getFile did not give is refused at the download.
        # (the files of different updates are fetched concurrently: in any order)
        assert sorted(c["file_id"] for c in fake.method_calls("getFile")) == [
            "BIGPHOTO",
            "BIGVOICE",
            "PHOTO1",
            "VOICE1",
        ]
        assert fake.files_fetched == ["PHOTO1", "VOICE1", "BIGPHOTO"]
        with database.read() as session:
            raw = session.connection().exec_driver_sql("SELECT data FROM media").all()
        assert all(b"JFIF" not in bytes(r[0]) and b"OggS" not in bytes(r[0]) for r in raw)

        with database.read() as session:
            case = session.exec(select(Case)).one()
        add_staff(database, name="Ana Ruiz", desk=case.desk_id, role="agent", password=PASSWORD)
        add_staff(database, name="Otro", desk="los-angeles", role="agent", password=PASSWORD)
        base = "https://testserver"
        async with httpx.AsyncClient(transport=client._transport, base_url=base) as https:
            assert (await log_in(https, "Ana Ruiz")).status_code == 303
            page = (await https.get(f"/staff/cases/{case.ref}")).text
            image = f"/staff/cases/{case.ref}/media/{photo_row.id}"
            audio = f"/staff/cases/{case.ref}/media/{note_row.id}"
            assert f'<img src="{image}"' in page
            assert f'<audio controls preload="none" src="{audio}"' in page
            for secret in (fake.token, server.url, "/file/bot", "api.telegram.org", "PHOTO1"):
                assert secret not in page, secret
            shown = await https.get(image)
            assert shown.status_code == 200 and shown.content == PHOTO
            assert shown.headers["content-type"] == "image/jpeg"
            played = await https.get(audio)
            assert played.content == NOTE and played.headers["content-type"] == "audio/ogg"
        async with httpx.AsyncClient(transport=client._transport, base_url=base) as other:
            await log_in(other, "Otro")
            assert (await other.get(image)).status_code == 403
    assert fake.files_fetched == ["PHOTO1", "VOICE1", "BIGPHOTO"]
    assert len(kept(database)) == 2
