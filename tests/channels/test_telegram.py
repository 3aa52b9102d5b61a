"""Telegram: webhook secret, inbox first, duplicates, buttons, groups, media, outages, polling."""

from __future__ import annotations

from pathlib import Path

from bot.channels.telegram.transport import keyboard
from bot.db import Database
from bot.models import InboundStatus, OutboundStatus
from bot.render import split_text
from tests.fakes.engine import EchoEngine
from tests.fakes.server import LiveServer
from tests.fakes.telegram_api import FakeBotAPI

from .support import (
    WEBHOOK_SECRET,
    add_staff_message,
    contacts,
    fast_app,
    inbound_rows,
    outbound_rows,
    post_update,
    running,
    settings_for,
    settle,
    tg_button,
    tg_message,
    wait_for,
)

Fake = tuple[FakeBotAPI, LiveServer]


async def test_webhook_refuses_a_missing_or_wrong_secret(
    database: Database, tmp_path: Path, bot_api: Fake
) -> None:
    """Without the right X-Telegram-Bot-Api-Secret-Token the webhook answers 403, stores nothing."""
    _fake, server = bot_api
    app = fast_app(settings_for(tmp_path, bot_api=server.url), database, EchoEngine())
    async with running(app) as client:
        assert (await post_update(client, tg_message(1, 77), secret=None)).status_code == 403
        assert (await post_update(client, tg_message(2, 77), secret="nope")).status_code == 403
        wrong = WEBHOOK_SECRET[:-1] + "X"
        assert (await post_update(client, tg_message(3, 77), secret=wrong)).status_code == 403
    assert inbound_rows(database) == []


async def test_webhook_mode_registers_the_webhook_with_its_secret(
    database: Database, tmp_path: Path, bot_api: Fake
) -> None:
    """On start the bot calls setWebhook with the public URL and the secret token."""
    fake, server = bot_api
    app = fast_app(settings_for(tmp_path, bot_api=server.url), database, EchoEngine())
    async with running(app):
        await wait_for(lambda: bool(fake.method_calls("setWebhook")), what="setWebhook")
    call = fake.method_calls("setWebhook")[0]
    assert call["url"] == "https://hotline.example.org/webhooks/telegram"
    assert call["secret_token"] == WEBHOOK_SECRET
    assert fake.method_calls("getMe")


async def test_a_redelivered_update_is_stored_and_answered_once(
    database: Database, tmp_path: Path, bot_api: Fake
) -> None:
    """The same update_id posted twice gives one inbox row and one reply."""
    fake, server = bot_api
    engine = EchoEngine()
    app = fast_app(settings_for(tmp_path, bot_api=server.url), database, engine)
    async with running(app) as client:
        for _ in range(3):
            assert (await post_update(client, tg_message(10, 501, "hola"))).status_code == 200
        await wait_for(lambda: len(fake.sent) >= 1, what="reply")
        await settle()
    assert fake.texts(501) == ["echo: hola"]
    rows = inbound_rows(database)
    assert [(r.provider_id, r.status) for r in rows] == [("10", InboundStatus.processed)]
    assert [r.status for r in outbound_rows(database)] == [OutboundStatus.sent]


async def test_choices_become_buttons_and_a_press_becomes_a_message(
    database: Database, tmp_path: Path, bot_api: Fake
) -> None:
    """Options go out as an inline keyboard; a press is stored as text and the query answered."""
    fake, server = bot_api
    app = fast_app(settings_for(tmp_path, bot_api=server.url), database, EchoEngine())
    async with running(app) as client:
        await post_update(client, tg_message(20, 502, "menu"))
        await wait_for(lambda: len(fake.sent) == 1, what="menu")
        buttons = fake.sent[0]["reply_markup"]["inline_keyboard"]
        assert [b[0]["callback_data"] for b in buttons] == ["raid", "2"]  # 70 bytes → number
        assert buttons[0][0]["text"] == "Redada o detención"
        await post_update(client, tg_button(21, 502, "raid", message_id=fake.sent[0]["message_id"]))
        await wait_for(lambda: len(fake.sent) == 2, what="answer to the press")
        await wait_for(lambda: bool(fake.method_calls("editMessageReplyMarkup")), what="edit")
    assert fake.texts(502)[1] == "echo: raid"
    assert fake.method_calls("answerCallbackQuery")[0]["callback_query_id"] == "cq21"
    assert inbound_rows(database)[1].payload == {
        "lang_hint": "es",
        "chat_type": "private",
        "button": True,
    }


async def test_a_group_gets_one_polite_refusal_and_no_report(
    database: Database, tmp_path: Path, bot_api: Fake
) -> None:
    """Messages from a group are not stored as reports; the group is answered once."""
    fake, server = bot_api
    engine = EchoEngine()
    app = fast_app(settings_for(tmp_path, bot_api=server.url), database, engine)
    async with running(app) as client:
        for update_id in (30, 31):
            update = tg_message(update_id, -100123, "hay una redada", chat_type="supergroup")
            assert (await post_update(client, update)).status_code == 200
        await wait_for(lambda: len(fake.sent) == 1, what="refusal")
        await settle()
    assert len(fake.sent) == 1 and "privad" in fake.sent[0]["text"]
    assert inbound_rows(database) == [] and engine.seen == []


async def test_media_location_and_language_go_into_the_payload(
    database: Database, tmp_path: Path, bot_api: Fake
) -> None:
    """Photos, voice notes and locations are stored as references; language_code as a hint."""
    fake, server = bot_api
    app = fast_app(settings_for(tmp_path, bot_api=server.url), database, EchoEngine())
    photo = [
        {"file_id": "small", "file_unique_id": "s", "width": 90, "height": 90},
        {"file_id": "big", "file_unique_id": "b", "width": 900, "height": 900},
    ]
    voice = {"file_id": "v1", "file_unique_id": "v", "duration": 3, "mime_type": "audio/ogg"}
    async with running(app) as client:
        await post_update(
            client, tg_message(40, 503, None, photo=photo, caption="mi casa", lang="en-US")
        )
        await post_update(client, tg_message(41, 503, None, voice=voice))
        await post_update(
            client, tg_message(42, 503, None, location={"latitude": 29.7, "longitude": -95.4})
        )
        await wait_for(lambda: len(fake.sent) == 3, what="three replies")
    first, second, third = (r.payload or {} for r in inbound_rows(database))
    assert inbound_rows(database)[0].text == "mi casa"
    assert first["media"] == [{"kind": "photo", "ref": "big", "content_type": "image/jpeg"}]
    assert first["lang_hint"] == "en-US" and first["display_name"] == "Ana"
    assert second["media"] == [{"kind": "voice", "ref": "v1", "content_type": "audio/ogg"}]
    assert third["location"] == {"lat": 29.7, "lon": -95.4}


async def test_an_outage_delays_replies_but_delivers_each_exactly_once(
    database: Database, tmp_path: Path, bot_api: Fake
) -> None:
    """The Bot API failing with 500 for a while: every reply arrives once, in order."""
    fake, server = bot_api
    fake.fail_sends = 4
    app = fast_app(settings_for(tmp_path, bot_api=server.url), database, EchoEngine())
    async with running(app) as client:
        await post_update(client, tg_message(50, 504, "twice"))
        await post_update(client, tg_message(51, 505, "hola"))
        await wait_for(lambda: len(fake.sent) == 3, within=20, what="all replies")
        await settle()
    assert fake.texts(504) == ["echo: twice", "second"]
    assert fake.texts(505) == ["echo: hola"]
    assert fake.fail_sends == 0
    assert {r.status for r in outbound_rows(database)} == {OutboundStatus.sent}


async def test_flood_control_from_telegram_pauses_sending(
    database: Database, tmp_path: Path, bot_api: Fake
) -> None:
    """A 429 with retry_after holds the sender back, then the message goes out once."""
    fake, server = bot_api
    fake.retry_after = 1
    app = fast_app(settings_for(tmp_path, bot_api=server.url), database, EchoEngine())
    async with running(app) as client:
        await post_update(client, tg_message(60, 506, "hola"))
        await wait_for(lambda: len(fake.sent) == 1, within=10, what="reply after 429")
    assert fake.texts(506) == ["echo: hola"]


async def test_two_replies_to_one_chat_go_out_as_a_short_burst(
    database: Database, tmp_path: Path, bot_api: Fake
) -> None:
    """Telegram allows short bursts in a private chat: two replies are not held a second
    apart (past the burst, one per second: tests/channels/test_pacing.py)."""
    fake, server = bot_api
    app = fast_app(settings_for(tmp_path, bot_api=server.url), database, EchoEngine())
    async with running(app) as client:
        await post_update(client, tg_message(70, 507, "twice"))
        await wait_for(lambda: len(fake.sent) == 2, within=10, what="two replies")
    assert fake.sent[1]["at"] - fake.sent[0]["at"] < 0.5


async def test_long_staff_messages_are_split_at_4096(
    database: Database, tmp_path: Path, bot_api: Fake
) -> None:
    """A message over Telegram's 4096 characters goes out in pieces, buttons on the last."""
    fake, server = bot_api
    app = fast_app(settings_for(tmp_path, bot_api=server.url), database, EchoEngine())
    async with running(app) as client:
        await post_update(client, tg_message(80, 508, "hola"))
        await wait_for(lambda: len(fake.sent) == 1, what="first reply")
        add_staff_message(database, contacts(database)[0].id or 0, ("palabra " * 1000).strip())
        app.state.services.sender.wake()
        await wait_for(lambda: len(fake.sent) == 3, within=10, what="two pieces")
    assert [len(m["text"]) <= 4096 for m in fake.sent[1:]] == [True, True]
    assert " ".join(m["text"] for m in fake.sent[1:]) == ("palabra " * 1000).strip()


async def test_polling_mode_stores_updates_before_moving_on(
    database: Database, tmp_path: Path, bot_api: Fake
) -> None:
    """Without a public URL the bot long-polls getUpdates; each update is stored and answered."""
    fake, server = bot_api
    fake.updates.append(tg_message(90, 509, "hola"))
    settings = settings_for(
        tmp_path, bot_api=server.url, public_url=None, telegram_webhook_secret=None
    )
    app = fast_app(settings, database, EchoEngine())
    async with running(app) as client:
        await wait_for(lambda: len(fake.sent) == 1, within=10, what="reply to polled update")
        await wait_for(
            lambda: any(int(c.get("offset") or 0) == 91 for c in fake.method_calls("getUpdates")),
            what="offset",
        )
        assert (await post_update(client, tg_message(92, 509))).status_code == 403
    assert fake.method_calls("deleteWebhook") and not fake.method_calls("setWebhook")
    assert [r.provider_id for r in inbound_rows(database)] == ["90"]


def test_keyboard_keeps_callback_data_within_64_bytes() -> None:
    """Values over 64 UTF-8 bytes are replaced by the option's number."""
    markup = keyboard([{"label": "Sí", "value": "sí"}, {"label": "x", "value": "ó" * 33}])
    assert markup is not None
    data = [row[0].callback_data for row in markup.inline_keyboard]
    assert data == ["sí", "2"]
    assert keyboard([]) is None


def test_split_text_cuts_at_word_breaks() -> None:
    """split_text never exceeds the limit and keeps every word."""
    text = "uno dos tres cuatro cinco seis"
    parts = split_text(text, limit=10)
    assert all(len(p) <= 10 for p in parts) and " ".join(parts) == text
    assert split_text("", limit=10) == [""]


async def test_blocking_the_bot_is_an_opt_out_until_the_person_writes_again(
    database: Database, tmp_path: Path, bot_api: Fake
) -> None:
    """A 403 'blocked by the user' suppresses further messages; writing again lifts it."""
    from bot.conversations import Hotline

    fake, server = bot_api
    settings = settings_for(tmp_path, bot_api=server.url)
    app = fast_app(settings, database, Hotline.load(settings))
    async with running(app) as client:
        await post_update(client, tg_message(1, 901, "hola"))
        await wait_for(lambda: len(fake.sent) == 1, what="first reply")
        fake.blocked_chats.add(901)
        held = add_staff_message(database, contacts(database)[0].id or 0, "¿Sigue ahí?")
        app.state.services.sender.wake()
        await wait_for(lambda: contacts(database)[0].opted_out, what="opt-out recorded")
        statuses = {r.id: r.status for r in outbound_rows(database)}
        assert statuses[held] == OutboundStatus.suppressed
        fake.blocked_chats.discard(901)
        await post_update(client, tg_message(2, 901, "menu"))
        await wait_for(lambda: len(fake.sent) == 2, what="reply after unblocking")
    assert not contacts(database)[0].opted_out
