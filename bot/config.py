"""Settings from the environment and `.env`, validated once at start.

`get_settings()` builds them; nothing is read at import time. A missing or malformed value
raises `ConfigError` with one sentence that names the variable.
"""

from __future__ import annotations

import ipaddress
import logging
import os
import re
import secrets
from pathlib import Path
from typing import Any, Literal

from pydantic import (
    AliasChoices,
    Field,
    SecretStr,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic_settings import BaseSettings, SettingsConfigDict

from bot.errors import ConfigError

logger = logging.getLogger(__name__)

PROJECT_ROOT = Path(__file__).resolve().parent.parent
_WEBHOOK_SECRET = re.compile(r"^[A-Za-z0-9_-]{1,256}$")
_CONTENT_SID = re.compile(r"^HX[0-9a-fA-F]{32}$")


class Settings(BaseSettings):
    """Every knob of the hotline; each one is documented in `.env.example`."""

    model_config = SettingsConfigDict(
        env_file=".env", env_file_encoding="utf-8", extra="ignore", populate_by_name=True
    )

    data_dir: Path = Field(
        default=Path("var"), validation_alias=AliasChoices("HOTLINE_DATA_DIR", "data_dir")
    )
    database_url: str | None = Field(
        default=None, validation_alias=AliasChoices("HOTLINE_DATABASE_URL", "database_url")
    )
    sqlite_synchronous: Literal["full", "normal"] = Field(
        default="full",
        validation_alias=AliasChoices("HOTLINE_SQLITE_SYNCHRONOUS", "sqlite_synchronous"),
    )
    db_pool_size: int = Field(
        default=50,
        ge=5,
        le=500,
        validation_alias=AliasChoices("HOTLINE_DB_POOL_SIZE", "db_pool_size"),
    )
    secret_key: SecretStr | None = Field(
        default=None, validation_alias=AliasChoices("HOTLINE_SECRET_KEY", "secret_key")
    )
    old_secret_keys: SecretStr | None = Field(
        default=None,
        validation_alias=AliasChoices("HOTLINE_OLD_SECRET_KEYS", "old_secret_keys"),
    )
    secret_key_file: Path | None = Field(
        default=None,
        validation_alias=AliasChoices("HOTLINE_SECRET_KEY_FILE", "secret_key_file"),
    )
    public_url: str | None = Field(
        default=None, validation_alias=AliasChoices("HOTLINE_PUBLIC_URL", "public_url")
    )
    log_level: str = Field(
        default="INFO", validation_alias=AliasChoices("HOTLINE_LOG_LEVEL", "log_level")
    )
    conversation_timeout_hours: float = Field(
        default=24,
        gt=0,
        validation_alias=AliasChoices(
            "HOTLINE_CONVERSATION_TIMEOUT_HOURS", "conversation_timeout_hours"
        ),
    )
    retention_days: int = Field(
        default=90, gt=0, validation_alias=AliasChoices("HOTLINE_RETENTION_DAYS", "retention_days")
    )
    max_message_chars: int = Field(
        default=2000,
        ge=160,
        validation_alias=AliasChoices("HOTLINE_MAX_MESSAGE_CHARS", "max_message_chars"),
    )
    flood_per_sender_per_minute: int = Field(
        default=20,
        gt=0,
        validation_alias=AliasChoices(
            "HOTLINE_FLOOD_PER_SENDER_PER_MINUTE", "flood_per_sender_per_minute"
        ),
    )
    busy_backlog: int = Field(
        default=100,
        gt=0,
        validation_alias=AliasChoices("HOTLINE_BUSY_BACKLOG", "busy_backlog"),
    )
    sla_critical_minutes: int = Field(
        default=15,
        gt=0,
        validation_alias=AliasChoices("HOTLINE_SLA_CRITICAL_MINUTES", "sla_critical_minutes"),
    )
    sla_high_minutes: int = Field(
        default=120,
        gt=0,
        validation_alias=AliasChoices("HOTLINE_SLA_HIGH_MINUTES", "sla_high_minutes"),
    )
    sla_normal_business_days: int = Field(
        default=1,
        gt=0,
        validation_alias=AliasChoices(
            "HOTLINE_SLA_NORMAL_BUSINESS_DAYS", "sla_normal_business_days"
        ),
    )
    sla_low_business_days: int = Field(
        default=3,
        gt=0,
        validation_alias=AliasChoices("HOTLINE_SLA_LOW_BUSINESS_DAYS", "sla_low_business_days"),
    )
    alert_telegram_chat_id: str | None = Field(
        default=None,
        validation_alias=AliasChoices("HOTLINE_ALERT_TELEGRAM_CHAT_ID", "alert_telegram_chat_id"),
    )
    alert_sms_number: str | None = Field(
        default=None,
        validation_alias=AliasChoices("HOTLINE_ALERT_SMS_NUMBER", "alert_sms_number"),
    )
    local_mode: bool | None = Field(
        default=None, validation_alias=AliasChoices("HOTLINE_LOCAL_MODE", "local_mode")
    )
    staff_session_hours: float = Field(
        default=12,
        gt=0,
        le=24 * 7,
        validation_alias=AliasChoices("HOTLINE_STAFF_SESSION_HOURS", "staff_session_hours"),
    )
    staff_idle_minutes: float = Field(
        default=30,
        gt=0,
        le=24 * 60,
        validation_alias=AliasChoices("HOTLINE_STAFF_IDLE_MINUTES", "staff_idle_minutes"),
    )
    staff_token_days: int = Field(
        default=90,
        gt=0,
        le=730,
        validation_alias=AliasChoices("HOTLINE_STAFF_TOKEN_DAYS", "staff_token_days"),
    )
    ops_token: SecretStr | None = Field(
        default=None, validation_alias=AliasChoices("HOTLINE_OPS_TOKEN", "ops_token")
    )
    max_body_bytes: int = Field(
        default=64 * 1024,
        ge=4 * 1024,
        le=10 * 1024 * 1024,
        validation_alias=AliasChoices("HOTLINE_MAX_BODY_BYTES", "max_body_bytes"),
    )

    telegram_rate: float = Field(
        default=30.0,
        gt=0,
        le=100_000,  # a test server or a local Bot API may take more than Telegram
        validation_alias=AliasChoices("HOTLINE_TELEGRAM_RATE", "telegram_rate"),
    )
    twilio_rate: float = Field(
        default=1.0,
        gt=0,
        le=1000,
        validation_alias=AliasChoices("HOTLINE_TWILIO_RATE", "twilio_rate"),
    )

    telegram_bot_token: SecretStr | None = Field(
        default=None, validation_alias=AliasChoices("TELEGRAM_BOT_TOKEN", "telegram_bot_token")
    )
    telegram_webhook_secret: SecretStr | None = Field(
        default=None,
        validation_alias=AliasChoices("TELEGRAM_WEBHOOK_SECRET", "telegram_webhook_secret"),
    )
    telegram_api_base_url: str = Field(
        default="https://api.telegram.org",
        validation_alias=AliasChoices("TELEGRAM_API_BASE_URL", "telegram_api_base_url"),
    )
    twilio_account_sid: str | None = Field(
        default=None, validation_alias=AliasChoices("TWILIO_ACCOUNT_SID", "twilio_account_sid")
    )
    twilio_auth_token: SecretStr | None = Field(
        default=None, validation_alias=AliasChoices("TWILIO_AUTH_TOKEN", "twilio_auth_token")
    )
    twilio_from_number: str | None = Field(
        default=None, validation_alias=AliasChoices("TWILIO_FROM_NUMBER", "twilio_from_number")
    )
    twilio_api_base_url: str = Field(
        default="https://api.twilio.com",
        validation_alias=AliasChoices("TWILIO_API_BASE_URL", "twilio_api_base_url"),
    )
    twilio_whatsapp_template_es: str | None = Field(
        default=None,
        validation_alias=AliasChoices("TWILIO_WHATSAPP_TEMPLATE_ES", "twilio_whatsapp_template_es"),
    )
    twilio_whatsapp_template_en: str | None = Field(
        default=None,
        validation_alias=AliasChoices("TWILIO_WHATSAPP_TEMPLATE_EN", "twilio_whatsapp_template_en"),
    )
    media_max_bytes: int = Field(
        default=10 * 1024 * 1024,
        gt=0,
        le=100 * 1024 * 1024,
        validation_alias=AliasChoices("HOTLINE_MEDIA_MAX_BYTES", "media_max_bytes"),
    )
    trusted_proxies: str = Field(
        default="",
        validation_alias=AliasChoices("HOTLINE_TRUSTED_PROXIES", "trusted_proxies"),
    )
    web_sessions_per_address_per_minute: int = Field(
        default=20,
        gt=0,
        validation_alias=AliasChoices(
            "HOTLINE_WEB_SESSIONS_PER_ADDRESS_PER_MINUTE", "web_sessions_per_address_per_minute"
        ),
    )
    web_sessions_per_minute: int = Field(
        default=600,
        gt=0,
        validation_alias=AliasChoices("HOTLINE_WEB_SESSIONS_PER_MINUTE", "web_sessions_per_minute"),
    )
    web_messages_per_address_per_minute: int = Field(
        default=120,
        gt=0,
        validation_alias=AliasChoices(
            "HOTLINE_WEB_MESSAGES_PER_ADDRESS_PER_MINUTE", "web_messages_per_address_per_minute"
        ),
    )
    web_messages_per_minute: int = Field(
        default=3000,
        gt=0,
        validation_alias=AliasChoices("HOTLINE_WEB_MESSAGES_PER_MINUTE", "web_messages_per_minute"),
    )
    web_session_days: int = Field(
        default=30,
        gt=0,
        le=365,
        validation_alias=AliasChoices("HOTLINE_WEB_SESSION_DAYS", "web_session_days"),
    )

    @field_validator("database_url")
    @classmethod
    def _known_database(cls, value: str | None) -> str | None:
        if value is None or value == "":
            return None
        if not value.startswith(("sqlite:", "postgresql:", "postgresql+psycopg:")):
            raise ValueError("must be a sqlite:/// or postgresql+psycopg:// URL")
        return value

    @field_validator("public_url", "telegram_api_base_url", "twilio_api_base_url")
    @classmethod
    def _http_url(cls, value: str | None) -> str | None:
        if value is None or value == "":
            return None
        if not re.match(r"^https?://[^\s/]+", value):
            raise ValueError("must be an http:// or https:// URL")
        return value.rstrip("/")

    @field_validator("twilio_whatsapp_template_es", "twilio_whatsapp_template_en")
    @classmethod
    def _content_sid(cls, value: str | None) -> str | None:
        if not value:
            return None
        if not _CONTENT_SID.match(value):
            raise ValueError("must be a Content SID: HX followed by 32 hex digits")
        return value

    @field_validator("trusted_proxies")
    @classmethod
    def _proxy_networks(cls, value: str) -> str:
        items = [item.strip() for item in value.split(",") if item.strip()]
        for item in items:
            try:
                network = ipaddress.ip_network(item, strict=False)
            except ValueError:
                raise ValueError(f"{item!r} is not an IP address or CIDR network") from None
            if network.prefixlen == 0:
                raise ValueError(f"{item} would trust every address: list the proxies only")
        return ",".join(items)

    @field_validator("log_level")
    @classmethod
    def _log_level(cls, value: str) -> str:
        level = value.upper()
        if level not in {"DEBUG", "INFO", "WARNING", "ERROR"}:
            raise ValueError("must be DEBUG, INFO, WARNING or ERROR")
        return level

    @field_validator("secret_key")
    @classmethod
    def _strong_secret(cls, value: SecretStr | None) -> SecretStr | None:
        if value is None or value.get_secret_value() == "":
            return None
        if len(value.get_secret_value()) < 32:
            raise ValueError("must be at least 32 random characters")
        if value.get_secret_value().lower().startswith("change"):
            raise ValueError("is still the placeholder from .env.example")
        return value

    @field_validator("old_secret_keys")
    @classmethod
    def _strong_old_secrets(cls, value: SecretStr | None) -> SecretStr | None:
        keys = split_keys(value.get_secret_value()) if value is not None else []
        if not keys:
            return None
        if any(len(key) < 32 for key in keys):
            raise ValueError("each key must be at least 32 characters (commas between keys)")
        return value

    @field_validator("secret_key_file", mode="before")
    @classmethod
    def _empty_path_is_unset(cls, value: object) -> object:
        return None if value == "" else value

    @field_validator("local_mode", mode="before")
    @classmethod
    def _empty_mode_is_unset(cls, value: object) -> object:
        return None if value == "" else value

    @field_validator("ops_token")
    @classmethod
    def _strong_ops_token(cls, value: SecretStr | None) -> SecretStr | None:
        if value is None or value.get_secret_value() == "":
            return None
        if len(value.get_secret_value()) < 32:
            raise ValueError("must be at least 32 random characters")
        return value

    @field_validator("telegram_bot_token", "telegram_webhook_secret", "twilio_auth_token")
    @classmethod
    def _empty_secret_is_unset(cls, value: SecretStr | None) -> SecretStr | None:
        return None if value is None or value.get_secret_value() == "" else value

    @field_validator(
        "twilio_account_sid", "twilio_from_number", "alert_telegram_chat_id", "alert_sms_number"
    )
    @classmethod
    def _empty_is_unset(cls, value: str | None) -> str | None:
        return value or None

    @model_validator(mode="after")
    def _consistent(self) -> Settings:
        secret = self.telegram_webhook_secret
        if secret is not None and not _WEBHOOK_SECRET.match(secret.get_secret_value()):
            raise ValueError(
                "TELEGRAM_WEBHOOK_SECRET may hold only letters, digits, _ and - (1-256)"
            )
        if self.telegram_bot_token and self.public_url and secret is None:
            raise ValueError("TELEGRAM_WEBHOOK_SECRET is required when HOTLINE_PUBLIC_URL is set")
        if bool(self.twilio_account_sid) != bool(self.twilio_auth_token):
            raise ValueError("TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN must be set together")
        if self.twilio_account_sid and not self.twilio_from_number:
            raise ValueError("TWILIO_FROM_NUMBER is required when Twilio is configured")
        return self

    @model_validator(mode="after")
    def _local_mode_needs_plain_http(self) -> Settings:
        if self.local_mode and self.public_url and self.public_url.startswith("https:"):
            raise ValueError(
                "HOTLINE_LOCAL_MODE=true cannot go with an https HOTLINE_PUBLIC_URL "
                "(local mode sends staff cookies without Secure)"
            )
        return self

    @property
    def is_local(self) -> bool:
        """Local mode (a trial on http://127.0.0.1): staff cookies without Secure or the
        `__Host-` prefix, and /metrics and /openapi.json open without HOTLINE_OPS_TOKEN.
        HOTLINE_LOCAL_MODE decides; unset, it is on exactly when HOTLINE_PUBLIC_URL is unset."""
        return self.local_mode if self.local_mode is not None else self.public_url is None

    @property
    def resolved_database_url(self) -> str:
        """The configured URL, or the SQLite file under the data directory."""
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.data_dir / 'hotline.db').as_posix()}"

    @property
    def telegram_enabled(self) -> bool:
        return self.telegram_bot_token is not None

    @property
    def twilio_enabled(self) -> bool:
        return self.twilio_account_sid is not None

    def whatsapp_template(self, lang: str) -> str | None:
        """The approved WhatsApp template (Content SID) for a language, if configured."""
        return (
            self.twilio_whatsapp_template_en if lang == "en" else self.twilio_whatsapp_template_es
        )


_ALIASES = {
    name: next(a for a in field.validation_alias.choices if isinstance(a, str) and a.isupper())
    for name, field in Settings.model_fields.items()
    if isinstance(field.validation_alias, AliasChoices)
}


def get_settings(**overrides: Any) -> Settings:
    """Build the settings, or raise ConfigError with one sentence naming the variable."""
    try:
        return Settings(**overrides)
    except ValidationError as exc:
        error = exc.errors()[0]
        field = str(error["loc"][0]) if error["loc"] else ""
        variable = _ALIASES.get(field, field)
        message = error["msg"].removeprefix("Value error, ").rstrip(".")
        if variable:
            message = f"{variable}: {message[:1].lower()}{message[1:]}"
        raise ConfigError(f"Configuration error: {message}.") from None


KEY_FILE_NAME = "secret.key"
_warned: set[Path] = set()


def split_keys(value: str) -> list[str]:
    """The keys of a list separated by commas or white space (HOTLINE_OLD_SECRET_KEYS)."""
    return [key for key in re.split(r"[,\s]+", value) if key]


def default_key_file() -> Path:
    """Where a generated secret key goes: the user's configuration directory
    (`$XDG_CONFIG_HOME/hotline/secret.key`, else `~/.config/hotline/secret.key`). It is
    outside the data directory on purpose: a copy of the data (a backup, a copied `var/`) is
    then not also a copy of the key that opens it."""
    base = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / "hotline" / KEY_FILE_NAME


def load_secret_keys(settings: Settings) -> tuple[str, ...]:
    """The keyring's secrets, the current one first: `HOTLINE_SECRET_KEY`, else the key
    file's first line (a key generated into it on first run); then the old secrets a
    rotation still needs: `HOTLINE_OLD_SECRET_KEYS` and the key file's other lines."""
    old = (
        split_keys(settings.old_secret_keys.get_secret_value()) if settings.old_secret_keys else []
    )
    if settings.secret_key is not None:
        return (settings.secret_key.get_secret_value(), *old)
    return (*_key_file_keys(settings), *old)


def load_secret_key(settings: Settings) -> str:
    """The current secret key (see `load_secret_keys`)."""
    return load_secret_keys(settings)[0]


def _key_file_keys(settings: Settings) -> list[str]:
    path = settings.secret_key_file or default_key_file()
    legacy = settings.data_dir / KEY_FILE_NAME
    if settings.secret_key_file is None and legacy.exists():
        path = legacy  # generated by an earlier version, which kept it with the data
    if _inside(path, settings.data_dir):
        _warn_once(
            path,
            "the secret key file %s is inside the data directory: a copy of the data is a "
            "copy of the key. Move it to %s (or set HOTLINE_SECRET_KEY_FILE or "
            "HOTLINE_SECRET_KEY) and back it up apart from the data.",
            path,
            default_key_file(),
        )
    if path.exists():
        return _read_keys(path)
    return [_generate(path)]


def _read_keys(path: Path) -> list[str]:
    lines = path.read_text(encoding="utf-8").splitlines()
    keys = [line.strip() for line in lines if line.strip() and not line.startswith("#")]
    if not keys or any(len(key) < 32 for key in keys):
        raise ConfigError(
            f"Configuration error: {path} must hold one key of at least 32 characters per "
            "line (the current key first)."
        )
    if path.stat().st_mode & 0o077:
        _warn_once(path, "the secret key file %s is readable by other users: chmod 600 it", path)
    return keys


def _generate(path: Path) -> str:
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    key = secrets.token_urlsafe(48)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:  # another process generated it a moment ago
        return _read_keys(path)[0]
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(key + "\n")
    logger.warning(
        "HOTLINE_SECRET_KEY is not set: generated one into %s. Back it up now, apart from the "
        "data: without it the stored personal data cannot be read.",
        path,
    )
    return key


def _inside(path: Path, directory: Path) -> bool:
    return path.resolve().is_relative_to(directory.resolve())


def _warn_once(path: Path, message: str, *args: object) -> None:
    if path not in _warned:
        _warned.add(path)
        logger.warning(message, *args)
