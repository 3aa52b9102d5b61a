"""`hotline keys`: which keys sealed the stored data, and rotating to a new secret while
the service runs.

Rotating (README "Keys", SECURITY.md):
1. Put a new secret first — `HOTLINE_SECRET_KEY=<new>`, `HOTLINE_OLD_SECRET_KEYS=<old>` (or a
   new first line in the key file) — and restart every process: from then on they seal and
   hash under the new secret, still open what the old one sealed, and still find people by
   their old hash (`bot.contacts.find_contact`).
2. `hotline keys rotate` brings every stored row to the current secret, `batch` rows per
   transaction, so the service keeps answering:
   - encrypted values sealed under another secret, or in the format before key ids: re-sealed;
   - lookup hashes (contacts' addresses, the inbox's senders, cases' person keys):
     recomputed from the encrypted value each one stands for;
   - values an earlier version kept in clear in a column now sealed (outbox options, case
     reasons): sealed.
   Each write applies only if the row is still as it was read (compare and set): a row the
   service changed in between is left as the service wrote it, under the current secret.
   Stopped and run again, it resumes: rows already done are not selected again.
3. When it reports that nothing needs an old secret any more, remove the old secret(s) and
   restart: everything still opens.

Lookup hashes are rehashed rather than kept under a key that never changes: after a leak,
the removed key must not go on recognising every phone number in the database.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Final

import typer
from sqlalchemy import (
    Column,
    LargeBinary,
    Table,
    Text,
    and_,
    cast,
    func,
    literal,
    or_,
    select,
    true,
    type_coerce,
    update,
)
from sqlalchemy.exc import IntegrityError
from sqlalchemy.sql.elements import ColumnElement
from sqlmodel import SQLModel

from bot.config import get_settings, load_secret_keys
from bot.crypto import (
    HEADER_BYTES,
    EncryptedJSON,
    EncryptedText,
    SealedJSON,
    install_keyring,
    keyring,
    unseal_json,
    unseal_text,
)
from bot.db import Database
from bot.erasure import ERASED_HASH_PREFIX
from bot.errors import DecryptError
from bot.inbox import sender_key
from bot.models import Case, Contact, EncryptedBytes, InboundMessage

BATCH: Final = 200
NO_KEY_ID: Final = "format 1 (no key id)"
CLEAR: Final = "in clear"
_SEALED_BYTES: Final = (EncryptedText, EncryptedJSON, EncryptedBytes)

app = typer.Typer(help="Encryption keys: status and rotation.", no_args_is_help=True)


@dataclass
class Rotation:
    """What a rotation did, and what (if anything) still needs an old secret."""

    key_id: str
    resealed: Counter[str] = field(default_factory=Counter)  # "table.column" → values
    rehashed: Counter[str] = field(default_factory=Counter)  # "table.column" → hashes
    conflicts: int = 0  # contacts whose new hash another contact already has
    remaining: dict[str, int] = field(default_factory=dict)  # key id → values still under it

    @property
    def done(self) -> bool:
        """True when no stored value needs a secret other than the current one."""
        return not self.remaining and not self.conflicts


Progress = Callable[[str], None]


def rotate(db: Database, *, batch: int = BATCH, progress: Progress | None = None) -> Rotation:
    """Bring every stored row to the keyring's current secret (see the module docstring)."""
    say = progress or (lambda _line: None)
    report = Rotation(keyring().key_id)
    for table, columns in sealed_columns().items():
        _reseal(db, table, columns, batch, report)
        for column in columns:
            name = f"{table.name}.{column.name}"
            if report.resealed[name]:
                say(f"{name}: {report.resealed[name]} value(s) re-sealed")
    for rehash in (_rehash_contacts, _rehash_senders, _rehash_people):
        rehash(db, batch, report)
    for name, count in report.rehashed.items():
        say(f"{name}: {count} lookup hash(es) recomputed")
    current = report.key_id
    report.remaining = {k: n for k, n in sealed_counts(db).items() if k != current and n}
    return report


def sealed_columns() -> dict[Table, list[Column[Any]]]:
    """Every encrypted column of the schema, by table (new encrypted columns included)."""
    found: dict[Table, list[Column[Any]]] = {}
    for table in SQLModel.metadata.sorted_tables:
        columns = [c for c in table.columns if isinstance(c.type, (*_SEALED_BYTES, SealedJSON))]
        if columns:
            found[table] = columns
    return found


def sealed_counts(db: Database) -> Counter[str]:
    """How many stored values each key id sealed (format-1 and clear values apart)."""
    counts: Counter[str] = Counter()
    with db.read() as session:
        for table, columns in sealed_columns().items():
            for column in columns:
                if isinstance(column.type, SealedJSON):
                    counts.update(_json_key_ids(session, table, column))
                    continue
                head = func.substr(type_coerce(column, LargeBinary), 1, HEADER_BYTES)
                rows = session.execute(
                    select(head, func.count()).where(column.is_not(None)).group_by(head)
                ).all()
                for header, count in rows:
                    counts[_key_id(bytes(header))] += int(count)
    return counts


def _json_key_ids(session: Any, table: Table, column: Column[Any]) -> Counter[str]:
    counts: Counter[str] = Counter()
    rows = session.execute(select(cast(column, Text)).where(column.is_not(None))).scalars()
    for text in rows:
        value = json.loads(text)
        if value is not None:  # JSON null: nothing stored
            counts[_key_id(unseal_text(value)) if isinstance(value, str) else CLEAR] += 1
    return counts


def _key_id(sealed: bytes) -> str:
    return keyring().sealed_key_id(sealed) or NO_KEY_ID


def _pk(table: Table) -> Column[Any]:
    (pk,) = table.primary_key.columns  # every table with encrypted columns has one `id`
    return pk


def _reseal(
    db: Database, table: Table, columns: list[Column[Any]], batch: int, report: Rotation
) -> None:
    """Re-seal the table's values not sealed under the current secret, batch by batch."""
    pk = _pk(table)
    header = literal(keyring().header, LargeBinary)
    binary = [c for c in columns if not isinstance(c.type, SealedJSON)]
    texts = [c for c in columns if isinstance(c.type, SealedJSON)]
    # Binary values show their key id: select only the stale ones. JSON ones need a look.
    stale: ColumnElement[bool] = (
        or_(
            *(
                and_(
                    c.is_not(None),
                    func.substr(type_coerce(c, LargeBinary), 1, HEADER_BYTES) != header,
                )
                for c in binary
            )
        )
        if not texts
        else true()
    )
    shown: list[Any] = [type_coerce(c, LargeBinary).label(c.name) for c in binary]
    shown += [cast(c, Text).label(c.name) for c in texts]
    after: Any = None
    while True:
        query = select(pk, *shown).where(stale).order_by(pk).limit(batch)
        if after is not None:
            query = query.where(pk > after)
        with db.write() as session:
            rows = session.execute(query).all()
            for row in rows:
                try:
                    values, unchanged = _resealed(row._mapping, binary, texts)
                except DecryptError as exc:
                    raise DecryptError(f"{table.name} row {row[0]}: {exc}") from None
                if not values:
                    continue
                statement = update(table).where(pk == row[0], *unchanged).values(values)
                if session.exec(statement).rowcount:
                    for column in values:
                        report.resealed[f"{table.name}.{column.name}"] += 1
        if len(rows) < batch:
            return
        after = rows[-1][0]


def _resealed(
    row: Mapping[Any, Any], binary: list[Column[Any]], texts: list[Column[Any]]
) -> tuple[dict[Column[Any], Any], list[ColumnElement[bool]]]:
    """The row's values sealed anew under the current secret (those that need it), and the
    conditions that the row still holds what was read."""
    ring = keyring()
    values: dict[Column[Any], Any] = {}
    unchanged: list[ColumnElement[bool]] = []
    for column in binary:
        raw = row[column.name]
        if raw is None or bytes(raw[:HEADER_BYTES]) == ring.header:
            continue
        raw = bytes(raw)
        values[column] = literal(ring.encrypt(ring.decrypt(raw)), LargeBinary)
        unchanged.append(type_coerce(column, LargeBinary) == literal(raw, LargeBinary))
    for column in texts:
        text = row[column.name]
        value = None if text is None else json.loads(text)
        if value is None or (
            isinstance(value, str) and unseal_text(value)[:HEADER_BYTES] == ring.header
        ):
            continue
        values[column] = unseal_json(value)  # the column's type seals it anew
        unchanged.append(cast(column, Text) == text)
    return values, unchanged


def _rehash(
    db: Database,
    batch: int,
    report: Rotation,
    *,
    hash_column: Column[Any],
    sources: list[Column[Any]],
    where: ColumnElement[bool],
    compute: Callable[[Mapping[Any, Any]], str | None],
) -> None:
    """Recompute one hash column from the (decrypted) columns it stands for."""
    table = hash_column.table
    assert isinstance(table, Table)
    pk = _pk(table)
    after: Any = None
    while True:
        query = select(pk, hash_column, *sources).where(where).order_by(pk).limit(batch)
        if after is not None:
            query = query.where(pk > after)
        with db.write() as session:
            rows = session.execute(query).all()
            for row in rows:
                old, new = row._mapping[hash_column.name], compute(row._mapping)
                if new is None or new == old:
                    continue
                statement = (
                    update(table).where(pk == row[0], hash_column == old).values({hash_column: new})
                )
                try:
                    with session.begin_nested():
                        done = session.exec(statement).rowcount
                except IntegrityError:  # another contact already holds this hash
                    report.conflicts += 1
                    continue
                if done:
                    report.rehashed[f"{table.name}.{hash_column.name}"] += 1
        if len(rows) < batch:
            return
        after = rows[-1][0]


def _rehash_contacts(db: Database, batch: int, report: Rotation) -> None:
    t = Contact.__table__  # type: ignore[attr-defined]
    _rehash(
        db,
        batch,
        report,
        hash_column=t.c.address_hash,
        sources=[t.c.channel, t.c.address],
        # An erased contact's hash is random (`bot.erasure.unlinkable_hash`): nothing to redo.
        where=and_(t.c.erased_at.is_(None), t.c.address.is_not(None)),
        compute=lambda r: sender_key(r["channel"], r["address"]) if r["address"] else None,
    )


def _rehash_senders(db: Database, batch: int, report: Rotation) -> None:
    t = InboundMessage.__table__  # type: ignore[attr-defined]
    _rehash(
        db,
        batch,
        report,
        hash_column=t.c.sender_hash,
        sources=[t.c.channel, t.c.sender],
        where=~t.c.sender_hash.startswith(ERASED_HASH_PREFIX),
        compute=lambda r: sender_key(r["channel"], r["sender"]) if r["sender"] else None,
    )


def _rehash_people(db: Database, batch: int, report: Rotation) -> None:
    from bot.cases import person_hash_of  # triage and routing: only when rotating

    t = Case.__table__  # type: ignore[attr-defined]
    _rehash(
        db,
        batch,
        report,
        hash_column=t.c.person_hash,
        sources=[t.c.answers],
        where=t.c.person_hash.is_not(None),
        compute=lambda r: person_hash_of(r["answers"] or {}),
    )


def _open() -> Database:
    """The configured database, migrated, under the configured keyring."""
    from bot.migrate import upgrade

    settings = get_settings()
    install_keyring(*load_secret_keys(settings))
    upgrade(settings.resolved_database_url)
    return Database(settings.resolved_database_url)


def _describe(counts: Mapping[str, int]) -> str:
    current = keyring().key_id
    parts = [f"{n} under {k}{' (current)' if k == current else ''}" for k, n in counts.items()]
    return ", ".join(parts) or "none stored yet"


@app.command("status")
def status_command() -> None:
    """Show the keyring's key ids and how many stored values each key sealed."""
    db = _open()
    try:
        ring = keyring()
        old = ", ".join(ring.key_ids[1:]) or "none"
        typer.echo(f"keyring: current key {ring.key_id}; old keys: {old}")
        typer.echo(f"stored values: {_describe(sealed_counts(db))}")
    finally:
        db.dispose()


@app.command("rotate")
def rotate_command(
    batch: int = typer.Option(BATCH, min=1, max=5000, help="Rows per transaction."),
) -> None:
    """Re-seal and rehash every stored row under the current key, a few rows per transaction
    while the service runs; stopped and run again, it resumes."""
    db = _open()
    try:
        ring = keyring()
        typer.echo(
            f"rotating to key {ring.key_id} (old keys: {', '.join(ring.key_ids[1:]) or 'none'})"
        )
        report = rotate(db, batch=batch, progress=typer.echo)
    finally:
        db.dispose()
    if report.conflicts:
        typer.echo(
            f"{report.conflicts} contact(s) could not be rehashed: another contact already "
            "has the same address; run it again.",
            err=True,
        )
    if report.remaining:
        typer.echo(
            f"still under old keys: {_describe(report.remaining)}. Is a process still running "
            "with an old HOTLINE_SECRET_KEY? Restart every process with the new one, then run "
            "`hotline keys rotate` again.",
            err=True,
        )
    if not report.done:
        raise typer.Exit(1)
    old = ", ".join(ring.key_ids[1:])
    typer.echo(
        f"done: every stored value is sealed, and every lookup hash made, under {ring.key_id}."
        + (
            f" No row needs the old key(s) {old} any more: remove them from "
            "HOTLINE_OLD_SECRET_KEYS (or the key file) and restart."
            if old
            else ""
        )
    )
