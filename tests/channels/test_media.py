"""Evidence photos and voice notes: fetched from Twilio by the service, capped, encrypted,
shown to the case's desk through the service, erased with the person's data."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import httpx
from sqlmodel import select, update

from bot.conversations import Hotline
from bot.db import Database
from bot.models import Case, Contact, Media, OutboundMessage, utcnow
from bot.staff.commands import add_staff
from bot.staff.retention import purge_expired
from tests.fakes.twilio_api import ACCOUNT_SID
from tests.staff.support import PASSWORD, log_in

from .support import TWILIO_NUMBER, fast_app, post_twilio, running, settings_for, sms, wait_for
from .test_whatsapp_window import REPORT, WA, Fake

PHOTO = b"\xff\xd8\xff\xe0JFIF-evidence-photo-of-the-van" * 20
NOTE = b"OggS-voice-note" * 10
BIG = b"x" * 5000
SVG = b'<svg xmlns="http://www.w3.org/2000/svg" onload="fetch(\'/api/v1/cases\')"/>'


def media_url(n: int, account: str = ACCOUNT_SID) -> tuple[str, str]:
    mm, me = f"MM{n:032x}", f"ME{n:032x}"
    return mm, f"https://api.twilio.com/2010-04-01/Accounts/{account}/Messages/{mm}/Media/{me}"


def sms_sid(n: int) -> str:
    return f"SM{n:032x}"


def provider_ids(db: Database) -> set[str | None]:
    with db.read() as session:
        return set(session.exec(select(OutboundMessage.provider_id)).all())


def kept(db: Database) -> list[Media]:
    with db.read() as session:
        return list(session.exec(select(Media).order_by(Media.id)).all())


async def test_media_are_fetched_capped_encrypted_and_shown_to_the_desk_only(
    database: Database, tmp_path: Path, twilio_api: Fake
) -> None:
    fake, server = twilio_api
    fake.media.update(
        {
            f"ME{1:032x}": (PHOTO, "image/jpeg"),
            f"ME{2:032x}": (NOTE, "audio/ogg"),
            f"ME{3:032x}": (BIG, "image/png"),
            f"ME{5:032x}": (SVG, "image/svg+xml"),
        }
    )
    settings = settings_for(tmp_path, twilio_api=server.url, media_max_bytes=4096)
    app = fast_app(settings, database, Hotline.load(settings))
    (_, photo), (_, note), (_, big) = media_url(1), media_url(2), media_url(3)
    _, foreign = media_url(4, account="AC" + "9" * 32)  # not our account: never fetched
    _, svg = media_url(5)
    async with running(app) as client:
        form = sms(
            sms_sid(400),
            WA,
            REPORT,
            To=f"whatsapp:{TWILIO_NUMBER}",
            NumMedia="5",
            MediaUrl0=photo,
            MediaContentType0="image/jpeg",
            MediaUrl1=note,
            MediaContentType1="audio/ogg",
            MediaUrl2=big,
            MediaContentType2="image/png",
            MediaUrl3=foreign,
            MediaContentType3="image/png",
            MediaUrl4=svg,
            MediaContentType4="image/svg+xml",
        )
        assert (await post_twilio(client, "/webhooks/twilio/sms", form)).status_code == 200
        await wait_for(lambda: len(kept(database)) == 3, what="the media kept")
        await wait_for(lambda: len(fake.sent) >= 1, what="the reply")
        accept = sms(sms_sid(401), WA, "sí", To=f"whatsapp:{TWILIO_NUMBER}")
        assert (await post_twilio(client, "/webhooks/twilio/sms", accept)).status_code == 200
        await wait_for(lambda: len(fake.sent) >= 2, what="the second reply")
        photo_row, note_row, svg_row = kept(database)
        assert (photo_row.content_type, photo_row.size, photo_row.data) == (
            "image/jpeg",
            len(PHOTO),
            PHOTO,
        )
        assert note_row.content_type == "audio/ogg" and note_row.data == NOTE
        fetched = [f"ME{n:032x}" for n in (1, 2, 3, 5)]
        assert sorted(fake.media_fetched) == fetched
        with database.read() as session:
            raw = session.connection().exec_driver_sql("SELECT data FROM media").all()
        assert all(PHOTO[:20] not in bytes(r[0]) and b"OggS" not in bytes(r[0]) for r in raw)

        with database.read() as session:
            case = session.exec(select(Case)).one()
        add_staff(database, name="Ana Ruiz", desk=case.desk_id, role="agent", password=PASSWORD)
        add_staff(database, name="Otro", desk="los-angeles", role="agent", password=PASSWORD)
        base = "https://testserver"
        async with httpx.AsyncClient(transport=client._transport, base_url=base) as https:
            assert (await log_in(https, "Ana Ruiz")).status_code == 303
            page = (await https.get(f"/staff/cases/{case.ref}")).text
            src = f"/staff/cases/{case.ref}/media/{photo_row.id}"
            assert f'<img src="{src}"' in page
            assert f'<audio controls preload="none" src="/staff/cases/{case.ref}/media/' in page
            assert "twilio" not in page.lower() and ACCOUNT_SID not in page
            shown = await https.get(src)
            assert shown.status_code == 200 and shown.content == PHOTO
            assert shown.headers["content-type"] == "image/jpeg"
            # A picture that can carry script is never shown in the dashboard's origin:
            # listed as a download, served as one, sandboxed even if opened.
            svg_src = f"/staff/cases/{case.ref}/media/{svg_row.id}"
            assert f'<img src="{svg_src}"' not in page and f'<a href="{svg_src}">' in page
            offered = await https.get(svg_src)
            assert offered.headers["content-type"] == "application/octet-stream"
            assert offered.headers["content-disposition"] == "attachment"
            assert offered.headers["content-security-policy"].startswith("sandbox")
        async with httpx.AsyncClient(transport=client._transport, base_url=base) as other:
            await log_in(other, "Otro")
            assert (await other.get(src)).status_code == 403

        # BORRAR: the files go here, and Twilio's copies are deleted there.
        for sid, text in ((sms_sid(402), "borrar"), (sms_sid(403), "sí")):
            erase = sms(sid, WA, text, To=f"whatsapp:{TWILIO_NUMBER}")
            assert (await post_twilio(client, "/webhooks/twilio/sms", erase)).status_code == 200
        await wait_for(lambda: kept(database) == [], what="the media erased")
        wanted = {f"Messages/{media_url(n)[0]}/Media/ME{n:032x}" for n in (1, 2, 5)}
        await wait_for(lambda: wanted <= set(fake.deleted), what="Twilio's copies deleted")
        # Twilio's records of the messages themselves (text and number) go too: what the
        # person sent and what we had sent at once, the rest (the confirmation of the
        # erasure, a reply in flight) when retention clears the address a day later.
        records = {f"Messages/{sms_sid(n)}" for n in range(400, 404)}
        records |= {f"Messages/{m['sid']}" for m in fake.sent[:2]}
        await wait_for(lambda: records <= set(fake.deleted), what="message records deleted")
        await wait_for(
            lambda: "borramos sus datos" in fake.sent[-1]["Body"], what="the confirmation"
        )
        confirmation = fake.sent[-1]["sid"]
        assert f"Messages/{confirmation}" not in fake.deleted
        await wait_for(lambda: confirmation in provider_ids(database), what="the sid recorded")
        with database.write() as session:  # two days later
            session.exec(update(Contact).values(erased_at=utcnow() - timedelta(days=2)))
        purge = purge_expired(database, now=utcnow(), retention_days=90)
        assert purge["addresses"] == 1
        every_reply = {f"Messages/{m['sid']}" for m in fake.sent}
        await wait_for(
            lambda: every_reply <= set(fake.deleted), within=25, what="every reply's record"
        )
