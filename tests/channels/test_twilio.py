"""Twilio SMS/WhatsApp: signatures, inbox first, keywords, MMS, outages, status callbacks."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.channels.twilio_sms.webhook import EMPTY_TWIML, keyword
from bot.db import Database
from bot.models import OutboundStatus
from tests.fakes.engine import EchoEngine
from tests.fakes.server import LiveServer, free_port
from tests.fakes.twilio_api import FakeTwilio

from .support import (
    PUBLIC_URL,
    TWILIO_NUMBER,
    add_staff_message,
    contacts,
    fast_app,
    inbound_rows,
    outbound_rows,
    post_twilio,
    running,
    settings_for,
    settle,
    sign,
    sms,
    wait_for,
)

Fake = tuple[FakeTwilio, LiveServer]
PATH = "/webhooks/twilio/sms"
STATUS = "/webhooks/twilio/status"
ANA = "+17135550101"


async def test_unsigned_forged_or_misaddressed_posts_are_refused(
    database: Database, tmp_path: Path, twilio_api: Fake
) -> None:
    """A missing, forged or wrong-URL signature gets 403 and nothing is stored."""
    _fake, server = twilio_api
    app = fast_app(settings_for(tmp_path, twilio_api=server.url), database, EchoEngine())
    form = sms("SM1", ANA, "hola")
    async with running(app) as client:
        assert (await post_twilio(client, PATH, form, signature="")).status_code == 403
        assert (await post_twilio(client, PATH, form, signature="Zm9yZ2Vk")).status_code == 403
        other = sign("http://testserver" + PATH, form)  # signed for the internal URL
        assert (await post_twilio(client, PATH, form, signature=other)).status_code == 403
        tampered = {**form, "Body": "otra cosa"}
        assert (
            await post_twilio(client, PATH, tampered, signature=sign(PUBLIC_URL + PATH, form))
        ).status_code == 403
        assert (
            await post_twilio(
                client, STATUS, {"MessageSid": "SM9", "MessageStatus": "delivered"}, signature=""
            )
        ).status_code == 403
    assert inbound_rows(database) == []


async def test_local_mode_refuses_even_signed_posts(
    database: Database, tmp_path: Path, twilio_api: Fake
) -> None:
    """Without HOTLINE_PUBLIC_URL nothing can be verified, so the endpoint answers 403."""
    _fake, server = twilio_api
    settings = settings_for(tmp_path, twilio_api=server.url, public_url=None)
    app = fast_app(settings, database, EchoEngine())
    async with running(app) as client:
        assert (await post_twilio(client, PATH, sms("SM1", ANA, "hola"))).status_code == 403
    assert inbound_rows(database) == []


async def test_an_sms_is_stored_once_and_answered_through_the_rest_api(
    database: Database, tmp_path: Path, twilio_api: Fake
) -> None:
    """Empty TwiML at once; one reply via REST with a status callback, even if redelivered."""
    fake, server = twilio_api
    app = fast_app(settings_for(tmp_path, twilio_api=server.url), database, EchoEngine())
    async with running(app) as client:
        for _ in range(2):
            response = await post_twilio(client, PATH, sms("SM100", ANA, "hola"))
            assert response.status_code == 200 and response.text == EMPTY_TWIML
            assert response.headers["content-type"].startswith("text/xml")
        await wait_for(lambda: len(fake.sent) == 1, what="reply")
        await settle()
    assert len(fake.sent) == 1
    sent = fake.sent[0]
    row = outbound_rows(database)[0]
    assert (sent["To"], sent["From"], sent["Body"]) == (ANA, TWILIO_NUMBER, "echo: hola")
    assert sent["StatusCallback"] == f"{PUBLIC_URL}{STATUS}?o={row.id}"
    assert (row.status, row.provider_id) == (OutboundStatus.sent, sent["sid"])
    assert [(r.channel, r.provider_id) for r in inbound_rows(database)] == [("sms", "SM100")]


async def test_whatsapp_uses_whatsapp_addresses(
    database: Database, tmp_path: Path, twilio_api: Fake
) -> None:
    """A `whatsapp:` sender is the whatsapp channel and is answered from the WhatsApp number."""
    fake, server = twilio_api
    app = fast_app(settings_for(tmp_path, twilio_api=server.url), database, EchoEngine())
    async with running(app) as client:
        form = sms(
            "SM200",
            f"whatsapp:{ANA}",
            "hola",
            To=f"whatsapp:{TWILIO_NUMBER}",
            ProfileName="Ana",
            WaId=ANA[1:],
        )
        assert (await post_twilio(client, PATH, form)).status_code == 200
        await wait_for(lambda: len(fake.sent) == 1, what="reply")
    assert (fake.sent[0]["To"], fake.sent[0]["From"]) == (
        f"whatsapp:{ANA}",
        f"whatsapp:{TWILIO_NUMBER}",
    )
    inbound = inbound_rows(database)[0]
    assert (inbound.channel, inbound.sender) == ("whatsapp", ANA)
    assert (inbound.payload or {})["display_name"] == "Ana"


async def test_mms_media_are_stored_as_evidence_references(
    database: Database, tmp_path: Path, twilio_api: Fake
) -> None:
    """NumMedia / MediaUrl{i} / MediaContentType{i} become payload media entries."""
    _fake, server = twilio_api
    app = fast_app(settings_for(tmp_path, twilio_api=server.url), database, EchoEngine())
    media = {
        "NumMedia": "2",
        "MediaUrl0": "https://api.twilio.com/m/ME1",
        "MediaContentType0": "image/jpeg",
        "MediaUrl1": "https://api.twilio.com/m/ME2",
        "MediaContentType1": "audio/amr",
    }
    async with running(app) as client:
        assert (await post_twilio(client, PATH, sms("SM300", ANA, "", **media))).status_code == 200
    assert (inbound_rows(database)[0].payload or {})["media"] == [
        {"kind": "photo", "ref": "https://api.twilio.com/m/ME1", "content_type": "image/jpeg"},
        {"kind": "voice", "ref": "https://api.twilio.com/m/ME2", "content_type": "audio/amr"},
    ]


async def test_stop_suppresses_everything_until_start(
    database: Database, tmp_path: Path, twilio_api: Fake
) -> None:
    """BAJA is confirmed once; then a staff message is suppressed; after ALTA it flows again."""
    fake, server = twilio_api
    engine = EchoEngine()
    app = fast_app(settings_for(tmp_path, twilio_api=server.url), database, engine)
    async with running(app) as client:
        await post_twilio(client, PATH, sms("SM400", ANA, "hola"))
        await wait_for(lambda: len(fake.sent) == 1, what="first reply")
        await post_twilio(client, PATH, sms("SM401", ANA, " Baja! "))
        contact_id = contacts(database)[0].id or 0
        await wait_for(lambda: contacts(database)[0].opted_out, what="opt-out")
        await wait_for(lambda: len(fake.sent) == 2, what="opt-out confirmation")
        held = add_staff_message(database, contact_id, "¿Sigue ahí?")
        app.state.services.sender.wake()
        await wait_for(
            lambda: outbound_rows(database)[-1].status == OutboundStatus.suppressed,
            what="suppressed",
        )
        await post_twilio(client, PATH, sms("SM402", ANA, "alta"))
        await wait_for(lambda: not contacts(database)[0].opted_out, what="opt-in")
        add_staff_message(database, contact_id, "Le llamamos mañana")
        app.state.services.sender.wake()
        await wait_for(lambda: len(fake.sent) == 4, what="confirmation and staff message")
        await settle()
    assert fake.bodies()[0] == "echo: hola" and fake.bodies()[3] == "Le llamamos mañana"
    assert "ALTA" in fake.bodies()[1] and "¿Sigue ahí?" not in fake.bodies()
    assert "volvera a recibir" in fake.bodies()[2]  # rendered: GSM-7
    assert engine.seen == [inbound_rows(database)[0].id]  # keywords never reach the engine
    statuses = {r.id: r.status for r in outbound_rows(database)}
    assert statuses[held] == OutboundStatus.suppressed


async def test_help_is_answered_by_the_channel_without_touching_the_flow(
    database: Database, tmp_path: Path, twilio_api: Fake
) -> None:
    """A bare AYUDA gets who we are and how to reach a person; the engine does not see it."""
    fake, server = twilio_api
    engine = EchoEngine()
    app = fast_app(settings_for(tmp_path, twilio_api=server.url), database, engine)
    async with running(app) as client:
        await post_twilio(client, PATH, sms("SM500", ANA, "ayuda"))
        await post_twilio(client, PATH, sms("SM501", "+17135550102", "HELP"))
        await wait_for(lambda: len(fake.sent) == 2, what="help texts")
    assert "HUMANO" in fake.bodies(ANA)[0] and "1-520-623-7874" in fake.bodies(ANA)[0]
    assert "HUMAN" in fake.bodies("+17135550102")[0]
    assert engine.seen == []


async def test_error_21610_marks_the_person_opted_out(
    database: Database, tmp_path: Path, twilio_api: Fake
) -> None:
    """Twilio refusing with 21610 suppresses the row and records the opt-out."""
    fake, server = twilio_api
    fake.unsubscribed.add(ANA)
    app = fast_app(settings_for(tmp_path, twilio_api=server.url), database, EchoEngine())
    async with running(app) as client:
        await post_twilio(client, PATH, sms("SM600", ANA, "hola"))
        await wait_for(
            lambda: (
                bool(outbound_rows(database))
                and outbound_rows(database)[0].status == OutboundStatus.suppressed
            ),
            what="suppressed",
        )
    assert contacts(database)[0].opted_out and fake.sent == []


async def test_an_outage_delays_replies_but_delivers_each_exactly_once(
    database: Database, tmp_path: Path, twilio_api: Fake
) -> None:
    """Twilio answering 500 for a while: every reply is delivered once, in order."""
    fake, server = twilio_api
    fake.fail_sends = 3
    app = fast_app(settings_for(tmp_path, twilio_api=server.url), database, EchoEngine())
    async with running(app) as client:
        await post_twilio(client, PATH, sms("SM700", ANA, "twice"))
        await wait_for(lambda: len(fake.sent) == 2, within=20, what="both replies")
        await settle()
    assert fake.bodies() == ["echo: twice", "second"] and fake.fail_sends == 0


async def test_connection_refused_until_twilio_comes_back(
    database: Database, tmp_path: Path
) -> None:
    """With nothing listening the reply waits; once the API is up it is delivered once."""
    fake, port = FakeTwilio(), free_port()
    settings = settings_for(tmp_path, twilio_api=f"http://127.0.0.1:{port}")
    app = fast_app(settings, database, EchoEngine())
    async with running(app) as client:
        await post_twilio(client, PATH, sms("SM800", ANA, "hola"))
        await wait_for(
            lambda: bool(outbound_rows(database)) and outbound_rows(database)[0].attempts >= 2,
            what="failed attempts",
        )
        assert outbound_rows(database)[0].status in (OutboundStatus.pending, OutboundStatus.sending)
        server = LiveServer(fake.app(), port=port).start()
        try:
            await wait_for(lambda: len(fake.sent) == 1, within=20, what="delivery")
            await settle()
        finally:
            server.stop()
    assert fake.bodies() == ["echo: hola"]
    assert outbound_rows(database)[0].status == OutboundStatus.sent


async def test_status_callbacks_only_move_forward(
    database: Database, tmp_path: Path, twilio_api: Fake
) -> None:
    """delivered after sent sticks; a late `sent` or `queued` does not move it back; read does."""
    _fake, server = twilio_api
    app = fast_app(settings_for(tmp_path, twilio_api=server.url), database, EchoEngine())
    async with running(app) as client:
        await post_twilio(client, PATH, sms("SM900", ANA, "hola"))
        await wait_for(
            lambda: (
                bool(outbound_rows(database))
                and outbound_rows(database)[0].status == OutboundStatus.sent
            ),
            what="sent",
        )
        row = outbound_rows(database)[0]
        path = f"{STATUS}?o={row.id}"

        async def callback(status: str, **more: str) -> int:
            form = {
                "MessageSid": row.provider_id or "",
                "MessageStatus": status,
                "AccountSid": "AC",
                **more,
            }
            return (await post_twilio(client, path, form)).status_code

        assert await callback("delivered") == 204
        assert outbound_rows(database)[0].status == OutboundStatus.delivered
        assert await callback("sent") == 204
        assert await callback("queued") == 204
        assert outbound_rows(database)[0].status == OutboundStatus.delivered
        assert await callback("undelivered", ErrorCode="30003") == 204
        assert outbound_rows(database)[0].status == OutboundStatus.delivered
        assert await callback("read") == 204
        assert outbound_rows(database)[0].status == OutboundStatus.read
        assert await callback("delivered") == 204
        assert outbound_rows(database)[0].status == OutboundStatus.read


async def test_an_oversized_body_is_refused_with_413(
    database: Database, tmp_path: Path, twilio_api: Fake
) -> None:
    """A payload over 64 KiB is refused (not 2xx) and nothing is stored."""
    _fake, server = twilio_api
    app = fast_app(settings_for(tmp_path, twilio_api=server.url), database, EchoEngine())
    form = sms("SM950", ANA, "x" * 70_000)
    async with running(app) as client:
        assert (await post_twilio(client, PATH, form)).status_code == 413
    assert inbound_rows(database) == []


async def test_long_sms_text_is_cut_to_the_configured_maximum(
    database: Database, tmp_path: Path, twilio_api: Fake
) -> None:
    """Text over HOTLINE_MAX_MESSAGE_CHARS is stored cut, with its original length."""
    _fake, server = twilio_api
    app = fast_app(
        settings_for(tmp_path, twilio_api=server.url, max_message_chars=200), database, EchoEngine()
    )
    async with running(app) as client:
        assert (await post_twilio(client, PATH, sms("SM960", ANA, "y" * 500))).status_code == 200
    row = inbound_rows(database)[0]
    assert (len(row.text), row.truncated_from) == (200, 500)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("STOP", "stop"),
        ("stop", "stop"),
        ("Stop.", "stop"),
        ("ALTO", "stop"),
        ("parar", "stop"),
        ("BAJA", "stop"),
        ("báJa", "stop"),
        ("unsubscribe", "stop"),
        ("START", "start"),
        ("Alta", "start"),
        ("unstop", "start"),
        ("HELP", "help"),
        ("ayuda", "help"),
        ("Info", "help"),
        ("stop please", None),
        ("no me manden", None),
        ("altar", None),
        ("", None),
    ],
)
def test_keyword_recognises_single_words_only(text: str, expected: str | None) -> None:
    """Keywords work in any case and with accents, but only as the whole message."""
    found = keyword(text)
    assert (found[0] if found else None) == expected


async def test_yes_is_an_answer_unless_the_number_opted_out(
    database: Database, tmp_path: Path, twilio_api: Fake
) -> None:
    """'YES' reaches the conversation as an answer; after STOP it opts the number back in."""
    fake, server = twilio_api
    engine = EchoEngine()
    app = fast_app(settings_for(tmp_path, twilio_api=server.url), database, engine)
    async with running(app) as client:
        await post_twilio(client, PATH, sms("SM700", ANA, "yes"))
        await wait_for(lambda: len(fake.sent) == 1, what="the answer to 'yes'")
        await post_twilio(client, PATH, sms("SM701", ANA, "STOP"))
        await wait_for(lambda: contacts(database)[0].opted_out, what="opt-out")
        await post_twilio(client, PATH, sms("SM702", ANA, "YES"))
        await wait_for(lambda: not contacts(database)[0].opted_out, what="opt-in by YES")
        await settle()
    assert fake.bodies() == ["echo: yes"]  # STOP and YES are answered by Twilio itself
    assert engine.seen == [inbound_rows(database)[0].id]
