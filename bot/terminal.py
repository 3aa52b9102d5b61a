"""The terminal channel behind `hotline chat`: a person typing in a terminal.

Each line goes through the same path as a webhook: stored in the inbox, processed by the
engine, replies stored in the outbox — then printed and marked delivered. Staff replies to
a terminal person wait in the outbox and are printed at their next `hotline chat`.
"""

from __future__ import annotations

import json
import secrets
import uuid
from typing import TextIO

from sqlmodel import col, select

from bot.config import Settings, load_secret_keys
from bot.contacts import find_contact, sender_of
from bot.conversations import Hotline
from bot.crypto import install_keyring
from bot.db import Database
from bot.inbox import store_inbound
from bot.migrate import upgrade
from bot.models import OutboundMessage, OutboundStatus, utcnow
from bot.outbox import mark_delivered

CHANNEL = "terminal"


class TerminalChat:
    """One person's terminal session."""

    def __init__(
        self, hotline: Hotline, db: Database, *, sender: str, render_as: str, lang: str | None
    ) -> None:
        self.hotline, self.db = hotline, db
        self.sender, self.render_as, self.lang = sender, render_as, lang

    @classmethod
    def open(
        cls, settings: Settings, *, sender: str | None, render_as: str, lang: str | None
    ) -> TerminalChat:
        """Migrate, load the hotline, and start a session for the sender (new if None)."""
        install_keyring(*load_secret_keys(settings))
        upgrade(settings.resolved_database_url)
        hotline = Hotline.load(settings)
        db = Database(settings.resolved_database_url)
        hotline.prepare(db)
        return cls(
            hotline,
            db,
            sender=sender or f"local-{secrets.token_hex(4)}",
            render_as=render_as,
            lang=lang,
        )

    def close(self) -> None:
        """Release the database."""
        self.db.dispose()

    def send(self, text: str) -> list[dict[str, object]]:
        """One message from the person; returns the replies as {"text", "options"}."""
        payload: dict[str, object] = {"render_as": self.render_as}
        if self.lang:
            payload["lang_hint"] = self.lang
        with self.db.write() as session:
            inbound_id = store_inbound(
                session,
                channel=CHANNEL,
                provider_id=uuid.uuid4().hex,
                sender=self.sender,
                text=text,
                payload=payload,
                max_chars=self.hotline.settings.max_message_chars,
            )
        assert inbound_id is not None
        self.hotline.process(self.db, inbound_id)
        return self.pending(inbound_id)

    def pending(self, inbound_id: int | None = None) -> list[dict[str, object]]:
        """Every reply not yet shown to this person (staff replies included), marked delivered;
        after a message, to the contact it was processed for (BORRAR's confirmation too)."""
        with self.db.write() as session:
            contact = (
                find_contact(session, CHANNEL, self.sender)
                if inbound_id is None
                else sender_of(session, inbound_id, CHANNEL, self.sender)
            )
            if contact is None:
                return []
            rows = session.exec(
                select(OutboundMessage)
                .where(
                    OutboundMessage.contact_id == contact.id,
                    OutboundMessage.status == OutboundStatus.pending,
                )
                .order_by(col(OutboundMessage.id))
            ).all()
            mark_delivered(session, [row.id for row in rows if row.id is not None], now=utcnow())
            return [
                {"text": row.text, "options": [o["label"] for o in row.options]} for row in rows
            ]

    def run(self, stdin: TextIO, stdout: TextIO, *, json_mode: bool) -> None:
        """Read lines until end of input, answering each."""
        if not json_mode:
            stdout.write(f"(you are '{self.sender}'; Ctrl-D to leave)\n")
            self._show(self.pending(), stdout)
        try:
            for line in stdin:
                replies = self.send(line.rstrip("\r\n"))
                if json_mode:
                    stdout.write(json.dumps({"replies": replies}, ensure_ascii=False) + "\n")
                else:
                    self._show(replies, stdout)
                stdout.flush()
        except KeyboardInterrupt:
            stdout.write("\n")

    @staticmethod
    def _show(replies: list[dict[str, object]], stdout: TextIO) -> None:
        for reply in replies:
            stdout.write(f"bot> {reply['text']}\n")
        stdout.write("you> " if replies else "")
        stdout.flush()
