"""Settings: defaults, and one clear sentence for each bad value."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from bot.config import get_settings, load_secret_key
from bot.errors import ConfigError

from .conftest import make_settings


def test_defaults_need_no_token(tmp_path: Path) -> None:
    """With nothing configured the hotline runs on SQLite under the data dir, channels off."""
    settings = make_settings(tmp_path, secret_key=None)
    assert settings.resolved_database_url == f"sqlite:///{tmp_path.as_posix()}/hotline.db"
    assert not settings.telegram_enabled
    assert not settings.twilio_enabled
    assert settings.conversation_timeout_hours == 24
    assert settings.retention_days == 90
    assert (settings.telegram_rate, settings.twilio_rate) == (30, 1)


@pytest.mark.parametrize(
    ("env", "variable"),
    [
        ({"HOTLINE_DATABASE_URL": "mysql://localhost/x"}, "HOTLINE_DATABASE_URL"),
        ({"HOTLINE_PUBLIC_URL": "hotline.example.org"}, "HOTLINE_PUBLIC_URL"),
        ({"HOTLINE_SECRET_KEY": "short"}, "HOTLINE_SECRET_KEY"),
        ({"HOTLINE_RETENTION_DAYS": "ninety"}, "HOTLINE_RETENTION_DAYS"),
        ({"HOTLINE_CONVERSATION_TIMEOUT_HOURS": "-1"}, "HOTLINE_CONVERSATION_TIMEOUT_HOURS"),
        ({"TWILIO_ACCOUNT_SID": "AC123"}, "TWILIO_AUTH_TOKEN"),
        ({"HOTLINE_TWILIO_RATE": "0"}, "HOTLINE_TWILIO_RATE"),
        ({"HOTLINE_TELEGRAM_RATE": "fast"}, "HOTLINE_TELEGRAM_RATE"),
        (
            {"TELEGRAM_BOT_TOKEN": "1:abc", "HOTLINE_PUBLIC_URL": "https://h.example.org"},
            "TELEGRAM_WEBHOOK_SECRET",
        ),
        ({"TELEGRAM_WEBHOOK_SECRET": "has spaces!"}, "TELEGRAM_WEBHOOK_SECRET"),
    ],
)
def test_bad_setting_names_the_variable(
    env: dict[str, str], variable: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """A malformed value fails with one sentence that names the variable."""
    monkeypatch.chdir(tmp_path)  # no developer .env
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    with pytest.raises(ConfigError) as raised:
        get_settings()
    message = str(raised.value)
    assert variable in message
    assert message.startswith("Configuration error:")
    assert "\n" not in message


def test_cli_reports_bad_setting_without_traceback(tmp_path: Path) -> None:
    """`hotline db upgrade` with a bad URL prints one sentence and exits 2."""
    env = {**os.environ, "HOTLINE_DATABASE_URL": "oracle://nope"}
    result = subprocess.run(
        [sys.executable, "-m", "bot", "db", "upgrade"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert "HOTLINE_DATABASE_URL" in result.stderr


def test_env_file_is_read(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Variables in ./.env are used."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("HOTLINE_RETENTION_DAYS", raising=False)
    (tmp_path / ".env").write_text("HOTLINE_RETENTION_DAYS=30\n", encoding="utf-8")
    assert get_settings().retention_days == 30


def test_secret_key_is_generated_once_and_private(tmp_path: Path) -> None:
    """Without HOTLINE_SECRET_KEY a key is generated into the key file, readable by us only."""
    key_file = tmp_path / "config" / "secret.key"
    settings = make_settings(tmp_path / "data", secret_key=None, secret_key_file=key_file)
    first = load_secret_key(settings)
    assert len(first) >= 32
    assert load_secret_key(settings) == first
    assert key_file.stat().st_mode & 0o077 == 0


def test_env_example_as_is_gives_the_local_defaults(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Copying .env.example to .env unchanged starts the hotline in local mode."""
    example = Path(__file__).resolve().parent.parent / ".env.example"
    (tmp_path / ".env").write_text(example.read_text(encoding="utf-8"), encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    settings = get_settings()
    assert settings.database_url is None and settings.public_url is None
    assert not settings.telegram_enabled and not settings.twilio_enabled


def test_env_example_documents_every_setting() -> None:
    """Every setting's variable appears in .env.example."""
    from bot.config import _ALIASES

    example = (Path(__file__).resolve().parent.parent / ".env.example").read_text("utf-8")
    missing = [v for v in _ALIASES.values() if f"\n{v}=" not in example]
    assert missing == []
