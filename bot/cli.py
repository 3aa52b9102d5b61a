"""The `hotline` command: serve, chat, classify, route, queue, staff, db upgrade."""

from __future__ import annotations

import logging
import sys
from datetime import datetime
from typing import Any

import typer

from bot.config import Settings, get_settings
from bot.db import Database
from bot.errors import BotError
from bot.keys import app as keys_app
from bot.redact import install_redaction

app = typer.Typer(
    help="Consular hotline and case-triage bot.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
db_app = typer.Typer(help="Database maintenance.", no_args_is_help=True)
app.add_typer(db_app, name="db")
staff_app = typer.Typer(help="Staff accounts.", no_args_is_help=True)
app.add_typer(staff_app, name="staff")
triage_app = typer.Typer(help="The learned triage model.", no_args_is_help=True)
app.add_typer(triage_app, name="triage")
slots_app = typer.Typer(help="Legal-aid consultation slots.", no_args_is_help=True)
app.add_typer(slots_app, name="slots")
app.add_typer(keys_app, name="keys")


def _setup_logging(settings: Settings, *, quiet: bool = False) -> None:
    logging.basicConfig(
        level="WARNING" if quiet else settings.log_level,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    install_redaction(settings)  # no text, chat id, number or token in any record, DEBUG too
    logging.getLogger("alembic").setLevel(logging.WARNING)
    # httpx logs every request URL at INFO, and Telegram's URLs carry the bot token;
    # twilio's client logs request headers. Neither belongs in our logs.
    for noisy in ("httpx", "httpcore", "twilio.http_client"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    # The scheduler says "Running job …" twice per sweep per run: only when debugging.
    if settings.log_level.upper() != "DEBUG":
        logging.getLogger("apscheduler.executors").setLevel(logging.WARNING)


@app.command()
def serve(
    host: str = typer.Option("127.0.0.1", help="Address to listen on."),
    port: int = typer.Option(8000, help="Port to listen on."),
    workers: int = typer.Option(
        1, min=1, help="Worker processes behind the one port (PostgreSQL only)."
    ),
) -> None:
    """Run the whole service: webhooks, web chat, staff API and dashboard, sweeps."""
    import uvicorn

    from bot.migrate import upgrade

    settings = get_settings()
    _setup_logging(settings)
    if workers > 1 and not settings.resolved_database_url.startswith("postgresql"):
        typer.echo(
            "--workers needs PostgreSQL: SQLite takes one writer at a time, so on SQLite the "
            "hotline runs as one process (set HOTLINE_DATABASE_URL to a postgresql+psycopg:// "
            "URL to run several).",
            err=True,
        )
        raise typer.Exit(2)
    upgrade(settings.resolved_database_url)
    if workers > 1:  # a key generated on first run is made once, before the workers read it
        from bot.config import load_secret_keys

        load_secret_keys(settings)
    typer.echo(
        f"Hotline on http://{host}:{port}/  (health: /healthz; {workers} worker process"
        f"{'es' if workers > 1 else ''})",
        err=True,
    )
    proxies = settings.trusted_proxies  # uvicorn believes X-Forwarded-* as bot.clientaddr does
    uvicorn.run(
        "bot.cli:service" if workers > 1 else service(settings),
        factory=workers > 1,
        workers=workers,
        host=host,
        port=port,
        log_level="warning",
        proxy_headers=bool(proxies),
        forwarded_allow_ips=proxies,
    )


def service(settings: Settings | None = None) -> Any:
    """The service's ASGI app; with several workers, uvicorn calls this in each process."""
    from bot.app import create_app

    if settings is None:
        settings = get_settings()
        _setup_logging(settings)
    return create_app(settings)


@db_app.command("upgrade")
def db_upgrade() -> None:
    """Apply every pending migration to the configured database."""
    from bot.migrate import current_revision

    settings = get_settings()
    _setup_logging(settings)
    _database(settings).dispose()
    typer.echo(f"database at revision {current_revision(settings.resolved_database_url)}")


@app.command()
def chat(
    lang: str = typer.Option(None, "--lang", help="Start in this language: es or en."),
    channel: str = typer.Option("sms", "--channel", help="Render as: sms or telegram."),
    sender: str = typer.Option(None, "--sender", help="Who is writing; the same id continues."),
    json_mode: bool = typer.Option(False, "--json", help="One JSON line out per line in."),
) -> None:
    """Talk to the bot in the terminal, through the real engine and database."""
    from bot.terminal import TerminalChat

    if lang not in (None, "es", "en"):
        raise typer.BadParameter("--lang must be es or en")
    if channel not in ("sms", "telegram"):
        raise typer.BadParameter("--channel must be sms or telegram")
    settings = get_settings()
    _setup_logging(settings, quiet=True)
    session = TerminalChat.open(settings, sender=sender, render_as=channel, lang=lang)
    try:
        session.run(sys.stdin, sys.stdout, json_mode=json_mode)
    finally:
        session.close()


@app.command()
def classify() -> None:
    """Triage JSON Lines: {"text", "zip"?} in; {"intent", "priority", "desk", "reasons"} out."""
    from bot.routing.commands import classify_lines

    for line in classify_lines(sys.stdin):
        sys.stdout.write(line + "\n")
        sys.stdout.flush()


@app.command("route")
def route_location(location: str = typer.Argument(..., help="A ZIP code or a place.")) -> None:
    """Print the desk id for a ZIP code or a place ("Houston, TX", "east LA")."""
    from bot.routing.commands import route_command

    code, line = route_command(location)
    typer.echo(line, err=code != 0)
    raise typer.Exit(code)


def _database(settings: Settings) -> Database:
    """The configured database, migrated, with desks in place and keys installed."""
    from bot.cases import sync_desks
    from bot.config import load_secret_keys
    from bot.crypto import install_keyring
    from bot.migrate import upgrade
    from bot.routing import load_desks

    install_keyring(*load_secret_keys(settings))
    upgrade(settings.resolved_database_url)
    db = Database.from_settings(settings)
    with db.write() as session:  # desks only: no need to load flows and catalogs here
        sync_desks(session, load_desks())
    return db


@app.command()
def queue(
    desk: str = typer.Option(None, "--desk", help="Only this desk (default: every desk)."),
    json_mode: bool = typer.Option(False, "--json", help="One JSON object per line."),
) -> None:
    """List the open cases in queue order (most urgent first)."""
    from bot.staff.commands import queue_lines

    settings = get_settings()
    _setup_logging(settings, quiet=True)
    db = _database(settings)
    try:
        for line in queue_lines(db, desk, json_mode):
            typer.echo(line)
    finally:
        db.dispose()


@staff_app.command("add")
def staff_add(
    name: str = typer.Option(..., "--name", help="The staff member's name (their login)."),
    desk: str = typer.Option(..., "--desk", help="Their desk id, e.g. houston or central."),
    role: str = typer.Option("agent", "--role", help="agent, supervisor or admin."),
    password: bool = typer.Option(False, "--password", help="Also set a dashboard password."),
    legal_aid: bool = typer.Option(
        False, "--legal-aid", help="Holds legal-aid consultations (sees screening answers)."
    ),
) -> None:
    """Create a staff account and print its API token once (it is stored hashed)."""
    from bot.staff.commands import add_staff

    secret = None
    if password:
        secret = typer.prompt("Dashboard password", hide_input=True, confirmation_prompt=True)
    settings = get_settings()
    _setup_logging(settings, quiet=True)
    db = _database(settings)
    try:
        staff, token = add_staff(
            db,
            name=name,
            desk=desk,
            role=role,
            password=secret,
            legal_aid=legal_aid,
            token_days=settings.staff_token_days,
        )
    finally:
        db.dispose()
    typer.echo(f"created {staff.role} {staff.name!r} at desk {staff.desk_id}")
    _echo_token(token, staff.token_expires_at)


def _echo_token(token: str, expires: datetime | None) -> None:
    typer.echo(f"API token (shown once, keep it safe): {token}")
    if expires is not None:
        typer.echo(f"it stops working at {expires:%Y-%m-%d %H:%M} UTC")


@staff_app.command("password")
def staff_password(
    name: str = typer.Option(..., "--name", help="The staff member's name."),
) -> None:
    """Set or change a staff member's dashboard password (asked twice, never echoed)."""
    from bot.staff.commands import set_password

    secret = typer.prompt("New dashboard password", hide_input=True, confirmation_prompt=True)
    settings = get_settings()
    _setup_logging(settings, quiet=True)
    db = _database(settings)
    try:
        set_password(db, name=name, password=secret)
    finally:
        db.dispose()
    typer.echo("password set; every dashboard session of this person has ended")


@staff_app.command("deactivate")
def staff_deactivate(
    name: str = typer.Option(..., "--name", help="The staff member's name."),
) -> None:
    """Deactivate an account: its sessions end and its API token is revoked at once."""
    from bot.staff.commands import deactivate_staff

    settings = get_settings()
    _setup_logging(settings, quiet=True)
    db = _database(settings)
    try:
        staff = deactivate_staff(db, name=name)
    finally:
        db.dispose()
    typer.echo(f"deactivated {staff.name!r}: sessions ended, API token revoked")


@staff_app.command("token")
def staff_token(
    name: str = typer.Option(..., "--name", help="The staff member's name."),
    rotate: bool = typer.Option(False, "--rotate", help="Print a new token; the old one ends."),
) -> None:
    """Say when a staff member's API token expires; with --rotate, replace it."""
    from bot.staff.commands import rotate_token, token_expiry

    settings = get_settings()
    _setup_logging(settings, quiet=True)
    db = _database(settings)
    try:
        if not rotate:
            expires = token_expiry(db, name=name)
            typer.echo(
                "no usable API token (--rotate issues one, unless deactivated)"
                if expires is None
                else f"the API token stops working at {expires:%Y-%m-%d %H:%M} UTC"
            )
            return
        staff, token = rotate_token(db, name=name, days=settings.staff_token_days)
    finally:
        db.dispose()
    typer.echo(f"new API token for {staff.name!r}; the old one no longer works")
    _echo_token(token, staff.token_expires_at)


@triage_app.command("train")
def triage_train() -> None:
    """Train the triage model on the labelled sets and write data/triage/model.npz."""
    from bot.triage.model import MODEL_PATH
    from bot.triage.training import train

    model, _ = train(progress=lambda step: typer.echo(step, err=True))
    s = model.settings
    typer.echo(
        f"wrote {MODEL_PATH} ({len(model.vectorizer.names)} features; critical at "
        f"p >= {s.critical_threshold}, review below {s.review_threshold}; "
        f"data sha256 {s.data_sha256[:12]})"
    )


@triage_app.command("eval")
def triage_eval(
    blind: bool = typer.Option(False, "--blind", help="Also the frozen blind set (run once)."),
) -> None:
    """Leave-one-author-out figures (and the blind set) for the committed triage model."""
    from datetime import UTC, datetime

    from bot.routing import extract_location, route
    from bot.triage.classify import default_classifier
    from bot.triage.evaluation import blind as blind_report, desk_chooser, leave_one_author_out

    clf = default_classifier()
    if clf.model is None:
        raise typer.BadParameter("no triage model: run `hotline triage train` first")
    desk_of = desk_chooser(extract_location, route, datetime(2026, 11, 23, 18, tzinfo=UTC))
    reports = leave_one_author_out(clf.model.settings, desk_of=desk_of)
    if blind:
        reports.append(blind_report(clf, desk_of=desk_of))
    for rep in reports:
        typer.echo("\n".join(rep.lines()))


@slots_app.command("add")
def slots_add(
    desk: str = typer.Option(..., "--desk", help="The desk id, e.g. houston or central."),
    at: str = typer.Option(..., "--at", help="Local time at the desk: YYYY-MM-DDTHH:MM."),
    minutes: int = typer.Option(30, "--minutes", help="How long the consultation lasts."),
) -> None:
    """Add one consultation slot, in the desk's time zone."""
    from datetime import datetime

    from bot.appointments import SlotError, add_slot, describe
    from bot.models import utcnow

    try:
        local = datetime.strptime(at, "%Y-%m-%dT%H:%M")  # noqa: DTZ007 (the desk's wall clock)
    except ValueError:
        raise SlotError(
            f"--at {at!r}: write it as YYYY-MM-DDTHH:MM, e.g. 2026-12-03T10:30"
        ) from None
    settings = get_settings()
    _setup_logging(settings, quiet=True)
    db = _database(settings)
    try:
        with db.write() as session:
            slot = add_slot(session, desk_id=desk, local=local, minutes=minutes, now=utcnow())
            shown = describe(session, slot, "en")
    finally:
        db.dispose()
    typer.echo(f"slot added at {desk}: {shown}, {minutes} minutes")


@slots_app.command("list")
def slots_list(
    desk: str = typer.Option(..., "--desk", help="The desk id."),
    json_mode: bool = typer.Option(False, "--json", help="One JSON object per line."),
) -> None:
    """The desk's coming slots (local time), booked or free."""
    import json

    from bot.appointments import list_slots
    from bot.models import utcnow

    settings = get_settings()
    _setup_logging(settings, quiet=True)
    db = _database(settings)
    try:
        with db.read() as session:
            rows = list_slots(session, desk_id=desk, now=utcnow())
    finally:
        db.dispose()
    for row in rows:
        if json_mode:
            typer.echo(json.dumps(row, ensure_ascii=False))
        else:
            booked = f"booked {row['ref']}" if row["booked"] else "free"
            typer.echo(f"{row['at']}  {row['minutes']:>3} min  {booked}")


def main() -> None:
    """Entry point: run the command, turning expected errors into one sentence."""
    try:
        app()
    except BotError as exc:
        typer.echo(str(exc), err=True)
        raise SystemExit(2) from None
