"""Logs without personal data or secrets, at every level and from every library.

`install_redaction` wraps the process's log-record factory, so every record is cleaned when
it is made, before any handler, formatter or capture sees it:

- the libraries' records (python-telegram-bot, httpx, twilio, uvicorn, SQLAlchemy, ...) keep
  their message template, but an argument is shown only when it is a plain word or a small
  number (an API method, a status code): the updates, request parameters, URLs, chat ids
  and texts they pass at DEBUG become `<…>`;
- the hotline's own records (`bot.*`, which log keyed ids, never a number or a text) keep
  their arguments;
- then, in every message, traceback and stack: the configured secrets (bot token, Twilio
  auth token, webhook secret, keys) and anything shaped like a bot token, a phone number
  or a chat id (six digits or more) are replaced.
"""

from __future__ import annotations

import logging
import re
import traceback
from collections.abc import Callable, Iterable, Mapping
from typing import Any, Final

from pydantic import SecretStr

from bot.config import Settings

HIDDEN: Final = "<…>"
_OURS: Final = "bot"
_SMALL_NUMBER: Final = 100_000  # ports, status codes, counts; chat ids and phones are longer
_PLAIN_WORD: Final = re.compile(r"[A-Za-z_][A-Za-z0-9_.-]{0,63}")
_PATTERNS: Final = (
    (re.compile(r"/bot[^/\s'\"]+"), "/bot" + HIDDEN),  # Bot API URLs carry the token
    (re.compile(r"\b\d{5,}:[A-Za-z0-9_-]{30,}\b"), HIDDEN),  # a Telegram bot token
    (re.compile(r"(?<![\w.])\+?1?[ (]*\d{3}[) .-]*\d{3}[ .-]*\d{4}(?![\w])"), HIDDEN),  # phone
    (re.compile(r"(?<![\w.:])[-+]?\d{6,}(?![\w])"), HIDDEN),  # chat ids, A-numbers, numbers
)

Factory = Callable[..., logging.LogRecord]


class Redactor:
    """Cleans log records: libraries' arguments, configured secrets, number-like strings."""

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        # Longest first, so a secret containing another is replaced whole.
        self.secrets = sorted({s for s in secrets if len(s) >= 6}, key=len, reverse=True)

    def scrub(self, text: str) -> str:
        """`text` without the configured secrets and anything shaped like a token or number."""
        for secret in self.secrets:
            text = text.replace(secret, HIDDEN)
        for pattern, replacement in _PATTERNS:
            text = pattern.sub(replacement, text)
        return text

    def clean(self, record: logging.LogRecord) -> None:
        """Replace the record's message, traceback and stack with cleaned text."""
        try:
            ours = record.name == _OURS or record.name.startswith(_OURS + ".")
            message = record.getMessage() if ours else _library_message(record)
        except Exception:  # a malformed record must never break the code that logs it
            message = f"unformattable log record from {record.name}"
        record.msg, record.args = self.scrub(message), None
        if record.exc_info:
            record.exc_text = self.scrub("".join(traceback.format_exception(*record.exc_info)))
            record.exc_text = record.exc_text.rstrip("\n")
        if record.stack_info:
            record.stack_info = self.scrub(record.stack_info)


def _library_message(record: logging.LogRecord) -> str:
    """A library's message with only its harmless arguments shown."""
    if not isinstance(record.msg, str):
        return HIDDEN  # an object logged as the message: its text is unknown
    args = record.args
    if not args:
        return record.msg
    shown: Mapping[str, Any] | tuple[Any, ...]
    if isinstance(args, Mapping):
        shown = {key: _shown(value) for key, value in args.items()}
    else:
        shown = tuple(_shown(value) for value in args)
    try:
        return record.msg % shown
    except (TypeError, ValueError, KeyError):  # e.g. %d given a hidden value
        return f"{record.msg} [arguments hidden]"


def _shown(value: object) -> object:
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, int | float):
        return value if abs(value) < _SMALL_NUMBER else HIDDEN
    if isinstance(value, str) and _PLAIN_WORD.fullmatch(value):
        return value
    return HIDDEN


class _RedactingFactory:
    """The log-record factory that cleans each record as it is made."""

    def __init__(self, inner: Factory, redactor: Redactor) -> None:
        self.inner, self.redactor = inner, redactor

    def __call__(self, *args: Any, **kwargs: Any) -> logging.LogRecord:
        record = self.inner(*args, **kwargs)
        self.redactor.clean(record)
        return record


def configured_secrets(settings: Settings) -> list[str]:
    """Every secret the settings hold (tokens, passwords, keys): never to appear in a log."""
    found: list[str] = []
    for name in type(settings).model_fields:
        value = getattr(settings, name)
        if isinstance(value, SecretStr):
            found.append(value.get_secret_value())
    return found


def install_redaction(settings: Settings) -> None:
    """Clean every log record of this process from now on (installing again replaces the
    secrets; records are never cleaned twice)."""
    current = logging.getLogRecordFactory()
    inner = current.inner if isinstance(current, _RedactingFactory) else current
    logging.setLogRecordFactory(_RedactingFactory(inner, Redactor(configured_secrets(settings))))
