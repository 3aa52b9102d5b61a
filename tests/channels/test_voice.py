"""The phone line: a fake Twilio caller rings the app and completes reports by phone."""

from __future__ import annotations

import shutil
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import httpx
import pytest
from sqlmodel import col, select

from bot.channels.twilio_voice.twiml import spelled
from bot.config import PROJECT_ROOT
from bot.conversations import Hotline
from bot.db import Database
from bot.engine import load_flows
from bot.models import Case, CaseEvent, Contact, InboundMessage
from bot.routing import DeskDirectory, load_desks
from bot.routing.desks import DATA_DIR as ROUTING_DATA, DeskDataError
from bot.staff.commands import add_staff
from tests.fakes.server import LiveServer
from tests.fakes.twilio_api import FakeTwilio
from tests.fakes.twilio_caller import FakeCaller, Heard
from tests.staff.support import PASSWORD, log_in

from .support import PUBLIC_URL, fast_app, running, settings_for

MAX_TURNS = 30
Fake = tuple[FakeTwilio, LiveServer]


@pytest.fixture
def hotline(tmp_path: Path) -> Hotline:
    return Hotline.load(settings_for(tmp_path))


@asynccontextmanager
async def line(
    database: Database, tmp_path: Path, hotline: Hotline, twilio_api: Fake, **more: object
) -> AsyncIterator[httpx.AsyncClient]:
    _fake, server = twilio_api
    app = fast_app(settings_for(tmp_path, twilio_api=server.url, **more), database, hotline)
    async with running(app) as client:
        yield client


def cases(db: Database) -> list[Case]:
    with db.read() as session:
        return list(session.exec(select(Case).order_by(col(Case.id))).all())


def events(db: Database, kind: str) -> list[CaseEvent]:
    with db.read() as session:
        return list(session.exec(select(CaseEvent).where(CaseEvent.kind == kind)).all())


async def answer(call: FakeCaller, heard: Heard) -> Heard:
    """What a hurried caller does: the first choice, a ZIP or a number by keypad, or "no"."""
    gather = heard.gather or {}
    if heard.options:
        return await call.press("1")
    if gather.get("numDigits") == "5":
        return await call.press("77036")
    if "#" in heard.text or "gato" in heard.text or "pound" in heard.text:
        return await call.press("2#")
    return await call.say("no")


async def report_by_phone(db: Database, call: FakeCaller, lang: str, menu_digit: str) -> Case:
    heard = await call.dial_in()
    heard = await call.press("1" if lang == "es" else "2")
    assert heard.options >= 6, heard.says  # the menu, read as "press N for …"
    heard = await call.press(menu_digit)
    for _ in range(MAX_TURNS):
        found = [c for c in cases(db) if c.channel == "voice"]
        if found and found[-1].intake_step is None:
            return found[-1]
        heard = await answer(call, heard)
    raise AssertionError(f"no finished case; last heard: {call.last.says}")


async def test_forged_or_unconfigured_voice_requests_get_403(
    database: Database, tmp_path: Path, hotline: Hotline, twilio_api: Fake
) -> None:
    """Every voice path checks the signature; without a public URL nothing is accepted."""
    async with line(database, tmp_path, hotline, twilio_api) as client:
        call = FakeCaller(client, PUBLIC_URL)
        for path in (
            "/webhooks/twilio/voice",
            "/webhooks/twilio/voice/lang?r=0",
            "/webhooks/twilio/voice/turn?n=1",
            "/webhooks/twilio/voice/recording?c=HL-7K4M2Q",
            "/webhooks/twilio/voice/status",
        ):
            response = await call.post(path, call.params(Digits="1"), forged=True)
            assert response.status_code == 403, path
        wrong = FakeCaller(client, "http://testserver")  # signed for another address
        assert (await wrong.post("/webhooks/twilio/voice", wrong.params())).status_code == 403
    async with line(database, tmp_path, hotline, twilio_api, public_url=None) as client:
        call = FakeCaller(client, PUBLIC_URL)
        assert (await call.post("/webhooks/twilio/voice", call.params())).status_code == 403
    with database.read() as session:
        assert session.exec(select(InboundMessage)).first() is None


async def test_the_greeting_says_911_first_and_how_to_choose_english(
    database: Database, tmp_path: Path, hotline: Hotline, twilio_api: Fake
) -> None:
    async with line(database, tmp_path, hotline, twilio_api) as client:
        call = FakeCaller(client, PUBLIC_URL)
        heard = await call.dial_in()
        assert "9 1 1" in heard.says[0]
        assert "For English, press 2" in heard.text and "oprima 1" in heard.text
        assert heard.gather is not None
        assert heard.gather["input"] == "dtmf speech" and heard.gather["language"] == "es-MX"
        assert heard.gather["action"].startswith(PUBLIC_URL + "/webhooks/twilio/voice/")
        heard = await call.silence()  # asked once more, then Spanish
        assert "For English, press 2" in heard.text
        heard = await call.silence()
        assert heard.options >= 6 and heard.says[-1].startswith("Oprima")


@pytest.mark.parametrize("lang", ["es", "en"])
@pytest.mark.parametrize(
    ("digit", "intent"), [("1", "raid"), ("2", "detention"), ("3", "harassment")]
)
async def test_every_report_flow_by_phone_reaches_the_desk_queue(
    database: Database,
    tmp_path: Path,
    hotline: Hotline,
    twilio_api: Fake,
    lang: str,
    digit: str,
    intent: str,
) -> None:
    """Keys and words through the same flows as the chat: a case for Houston's queue."""
    async with line(database, tmp_path, hotline, twilio_api) as client:
        call = FakeCaller(client, PUBLIC_URL)
        case = await report_by_phone(database, call, lang, digit)
    assert (case.channel, case.intent, case.lang, case.desk_id) == (
        "voice",
        intent,
        lang,
        "houston",
    )
    assert case.status == "open"
    with database.read() as session:
        texts = [m.text for m in session.exec(select(InboundMessage)).all()]
        assert "77036" in texts
        ids = [m.provider_id for m in session.exec(select(InboundMessage)).all()]
        assert all(i.startswith(call.call_sid + ":") for i in ids)
    gathers = [h.gather for h in call.transcript if h.gather is not None]
    assert {g["language"] for g in gathers[1:]} == {"es-MX" if lang == "es" else "en-US"}


async def test_a_critical_report_reads_its_reference_slowly_twice(
    database: Database, tmp_path: Path, hotline: Hotline, twilio_api: Fake
) -> None:
    """Said at the menu, a critical report opens its case at once; the reference is spelled
    out, then said again."""
    async with line(database, tmp_path, hotline, twilio_api) as client:
        call = FakeCaller(client, PUBLIC_URL)
        await call.dial_in()
        await call.press("1")
        heard = await call.say("la migra se llevó a mi hermano ahorita en el trabajo en Dallas")
    (case,) = cases(database)
    assert case.priority == "critical" and case.channel == "voice"
    assert sum(spelled(case.ref) in s for s in heard.says) == 2, heard.says
    assert "H. L." in heard.text and case.ref not in heard.text


async def test_silence_wrong_keys_and_a_hang_up_leave_a_case_with_what_was_said(
    database: Database, tmp_path: Path, hotline: Hotline, twilio_api: Fake
) -> None:
    """No input and wrong keys go to the engine as such: asked once more, then it moves on;
    the case keeps what the caller said; the hang-up is noted on it."""
    async with line(database, tmp_path, hotline, twilio_api) as client:
        call = FakeCaller(client, PUBLIC_URL)
        await call.dial_in()
        await call.press("1")
        await call.press("1")  # raid
        first = await call.press("9")  # "are you safe?" has no 9
        again = await call.press("9")
        assert first.says[-1] == again.says[-1] or first.text != again.text
        heard = again
        for _ in range(6):  # past the privacy notice, to the place
            if heard.gather and heard.gather.get("numDigits") == "5":
                break
            heard = await call.press("1") if heard.options else await call.silence()
        heard = await call.say("en el Walmart de Bellaire en Houston")
        heard = await call.silence()
        repeated = await call.silence()
        assert repeated.says != heard.says  # moved on after asking twice
        assert (await call.hang_up(seconds=75)).status_code == 204
    (case,) = cases(database)
    assert case.channel == "voice" and case.intent == "raid" and case.intake_step is not None
    assert case.desk_id == "houston"
    ended = events(database, "call_ended")
    assert [e.data for e in ended] == [{"status": "completed", "seconds": 75}]
    with database.read() as session:
        said = [m.text for m in session.exec(select(InboundMessage)).all()]
    assert "en el Walmart de Bellaire en Houston" in said and "(sin respuesta)" in said


async def test_a_retried_webhook_is_stored_once_and_answered_the_same(
    database: Database, tmp_path: Path, hotline: Hotline, twilio_api: Fake
) -> None:
    """Twilio retries a turn (same CallSid and turn): one inbox row, the same words back."""
    async with line(database, tmp_path, hotline, twilio_api) as client:
        call = FakeCaller(client, PUBLIC_URL)
        await call.dial_in()
        menu = await call.press("1")
        gather = call.transcript[-2].gather
        assert gather is not None
        again = await call._follow(gather["action"], call.params(Digits="1"))
        assert again.says == menu.says
    with database.read() as session:
        assert len(session.exec(select(InboundMessage)).all()) == 1


async def test_an_anonymous_caller_still_makes_a_case(
    database: Database, tmp_path: Path, hotline: Hotline, twilio_api: Fake
) -> None:
    """No number: one sender per call, a case all the same, no phone kept for a callback."""
    async with line(database, tmp_path, hotline, twilio_api) as client:
        call = FakeCaller(client, PUBLIC_URL, caller="anonymous")
        case = await report_by_phone(database, call, "es", "1")
        other = FakeCaller(client, PUBLIC_URL, caller="anonymous")
        await other.dial_in()
        await other.press("1")
    assert case.channel == "voice" and case.desk_id == "houston"
    with database.read() as session:
        addresses = sorted(c.address or "" for c in session.exec(select(Contact)).all())
    assert addresses == sorted([f"anonymous:{call.call_sid}", f"anonymous:{other.call_sid}"])


async def test_asking_for_a_person_records_a_voicemail_on_the_case(
    database: Database, tmp_path: Path, hotline: Hotline, twilio_api: Fake
) -> None:
    """0 at any time: with no on-duty phone the caller leaves a voicemail, which the
    recording callback attaches to the case by its sid (no Twilio URL kept)."""
    async with line(database, tmp_path, hotline, twilio_api) as client:
        call = FakeCaller(client, PUBLIC_URL)
        await call.dial_in()
        await call.press("1")
        heard = await call.press("0")  # the privacy notice comes first
        assert heard.options == 2
        heard = await call.press("1")
        assert heard.record is not None and heard.record["maxLength"] == "120"
        assert heard.record["recordingStatusCallback"].startswith(PUBLIC_URL)
        (case,) = cases(database)
        assert spelled(case.ref) in heard.text  # the reference before the beep
        heard = await call.leave_voicemail(seconds=14)
        assert spelled(case.ref) in heard.text and not heard.hangup  # then the SMS offer
        bye = await call.silence()
        assert bye.hangup
        (voicemail,) = events(database, "voicemail")
        assert voicemail.case_id == case.id
        assert voicemail.data == {"recording": call.recordings[0], "seconds": 14}
        assert "twilio.com" not in str(voicemail.data)
        await staff_hears_it(database, client, case, call.recordings[0], twilio_api[0])


async def staff_hears_it(
    db: Database, client: httpx.AsyncClient, case: Case, sid: str, fake: FakeTwilio
) -> None:
    """The case page plays the voicemail from the service; other desks cannot."""
    add_staff(db, name="Ana Ruiz", desk=case.desk_id or "", role="agent", password=PASSWORD)
    add_staff(db, name="Otro", desk="los-angeles", role="agent", password=PASSWORD)
    https = httpx.AsyncClient(transport=client._transport, base_url="https://testserver")
    async with https:
        assert (await log_in(https, "Ana Ruiz")).status_code == 303
        page = await https.get(f"/staff/cases/{case.ref}")
        audio = f"/staff/cases/{case.ref}/recordings/{sid}.mp3"
        assert f'src="{audio}"' in page.text and "twilio" not in page.text.lower()
        played = await https.get(audio)
        assert played.status_code == 200 and played.content == b"ID3" + sid.encode()
        assert played.headers["content-type"] == "audio/mpeg" and fake.fetched == [sid]
        other = f"/staff/cases/{case.ref}/recordings/RE{'0' * 32}.mp3"
        assert (await https.get(other)).status_code == 404  # not this case's recording
    async with httpx.AsyncClient(transport=client._transport, base_url="https://testserver") as c:
        await log_in(c, "Otro")
        assert (await c.get(audio)).status_code == 403
    assert fake.fetched == [sid]


def desks_with_phones(tmp_path: Path, settings_yaml: str) -> DeskDirectory:
    """The shipped desk data with another desk_settings.yaml."""
    data = tmp_path / "routing"
    shutil.copytree(ROUTING_DATA, data)
    (data / "desk_settings.yaml").write_text(settings_yaml, encoding="utf-8")
    return load_desks(data)


async def test_asking_for_a_person_rings_the_desks_on_duty_phone(
    database: Database, tmp_path: Path, twilio_api: Fake
) -> None:
    """An open desk with an on-duty phone (desk_settings.yaml, read by the desk directory) is
    dialled; no answer there means a voicemail. An open desk without one: a voicemail."""
    desks = desks_with_phones(
        tmp_path,
        "defaults:\n  hours: always\ndesks:\n  central:\n    on_duty_phone: '+1 512-555-0199'\n",
    )
    assert desks.get("central").on_duty_phone == "+15125550199"
    assert desks.get("houston").on_duty_phone is None
    settings = settings_for(tmp_path)
    hotline = Hotline(flows=load_flows(PROJECT_ROOT / "flows"), desks=desks, settings=settings)
    async with line(database, tmp_path, hotline, twilio_api) as client:
        houston = FakeCaller(client, PUBLIC_URL, caller="+17135550103")
        reported = await report_by_phone(database, houston, "es", "1")
        assert reported.desk_id == "houston"
        heard = await houston.press("0")
        assert heard.dial is None and heard.record is not None  # open, but no phone
        call = FakeCaller(client, PUBLIC_URL, caller="+15005550101")  # no place: central
        await call.dial_in()
        await call.press("2")
        await call.press("0")
        heard = await call.press("1")
        case = cases(database)[-1]
        assert case.desk_id == "central"
        assert heard.dial is not None and heard.number == "+15125550199"
        assert heard.dial["timeout"] == "20"
        heard = await call.dial_ends("no-answer")
        assert heard.record is not None
        answered = FakeCaller(client, PUBLIC_URL, caller="+15005550102")
        await answered.dial_in()
        await answered.press("1")
        await answered.press("0")
        await answered.press("1")
        heard = await answered.dial_ends("completed")
        assert heard.hangup and heard.record is None


def test_an_on_duty_phone_must_be_a_us_number(tmp_path: Path) -> None:
    with pytest.raises(DeskDataError, match="houston: on_duty_phone"):
        desks_with_phones(tmp_path, "desks:\n  houston:\n    on_duty_phone: '5550199'\n")


async def test_the_callers_words_are_stored_encrypted(
    database: Database, tmp_path: Path, hotline: Hotline, twilio_api: Fake
) -> None:
    """Speech is personal data: the inbox keeps it encrypted like chat text."""
    async with line(database, tmp_path, hotline, twilio_api) as client:
        call = FakeCaller(client, PUBLIC_URL)
        await call.dial_in()
        await call.press("1")
        await call.say("se llevaron a mi vecino Rogelio")
    with database.read() as session:
        raw = session.connection().exec_driver_sql("SELECT text, sender FROM inboundmessage").all()
    assert raw and all("Rogelio" not in str(r) and "7135550101" not in str(r) for r in raw)
