"""Fixtures for the channel tests: the fake Bot API and Twilio servers on 127.0.0.1."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.fakes.server import LiveServer
from tests.fakes.telegram_api import FakeBotAPI
from tests.fakes.twilio_api import FakeTwilio


@pytest.fixture
def bot_api() -> Iterator[tuple[FakeBotAPI, LiveServer]]:
    fake = FakeBotAPI()
    server = LiveServer(fake.app()).start()
    yield fake, server
    server.stop()


@pytest.fixture
def twilio_api() -> Iterator[tuple[FakeTwilio, LiveServer]]:
    fake = FakeTwilio()
    server = LiveServer(fake.app()).start()
    yield fake, server
    server.stop()
