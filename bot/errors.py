"""The project's exceptions, one tree so edges can translate them.

    BotError
     ├── ConfigError          a setting is missing or malformed (start-up stops, one sentence)
     ├── FlowSpecError        a flow file is invalid (start-up stops: file, step, reason)
     ├── CatalogError         a locale catalog is missing a key or a placeholder
     ├── DeskDataError        the desk / jurisdiction data is invalid
     ├── DecryptError         a stored value could not be decrypted (wrong key or tampering)
     ├── NotFound             a case, desk or staff member does not exist
     ├── Forbidden            the caller may not see or act on this
     ├── IllegalTransition    a case cannot move from its status to the requested one
     └── ChannelSendError     a provider refused or failed a delivery
          └── PermanentSendError   retrying will not help (opted out, invalid number)

Core code raises these; the staff API maps them to 4xx, channels answer the person with a
kind generic message, and the command line prints one sentence.
"""

from __future__ import annotations


class BotError(Exception):
    """Base of every error the project raises on purpose."""


class ConfigError(BotError):
    """A setting is missing or malformed."""


class FlowSpecError(BotError):
    """A flow definition is invalid."""


class CatalogError(BotError):
    """A message catalog is incomplete or inconsistent."""


class DeskDataError(BotError):
    """The desk data is wrong: `file`, `row` (1-based line, 0 = whole file) and `reason`."""

    def __init__(self, file: object, row: int, reason: str) -> None:
        self.file, self.row, self.reason = str(file), row, reason
        super().__init__(f"{file}:{row}: {reason}" if row else f"{file}: {reason}")


class DecryptError(BotError):
    """A stored value could not be decrypted."""


class NotFound(BotError):
    """The requested object does not exist."""


class Forbidden(BotError):
    """The caller may not see or act on the object."""


class IllegalTransition(BotError):
    """A case cannot make the requested status change."""


class ChannelSendError(BotError):
    """A provider failed to deliver a message; it may be retried."""


class PermanentSendError(ChannelSendError):
    """A provider refused a message for good; retrying will not help."""
