"""The `hotline` command: serve, db upgrade (and, as features land, chat, classify, …)."""

from __future__ import annotations

import logging
import sys

import typer

from bot.config import Settings, get_settings
from bot.errors import BotError

app = typer.Typer(
    help="Consular hotline and case-triage bot.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
db_app = typer.Typer(help="Database maintenance.", no_args_is_help=True)
app.add_typer(db_app, name="db")


def _setup_logging(settings: Settings) -> None:
    logging.basicConfig(
        level=settings.log_level,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    logging.getLogger("alembic").setLevel(logging.WARNING)


@app.command()
def serve(
    host: str = typer.Option("127.0.0.1", help="Address to listen on."),
    port: int = typer.Option(8000, help="Port to listen on."),
) -> None:
    """Run the whole service: webhooks, web chat, staff API and dashboard, sweeps."""
    import uvicorn

    from bot.app import create_app
    from bot.migrate import upgrade

    settings = get_settings()
    _setup_logging(settings)
    upgrade(settings.resolved_database_url)
    typer.echo(f"Hotline on http://{host}:{port}/  (health: /healthz)", err=True)
    uvicorn.run(create_app(settings), host=host, port=port, log_level="warning",
                proxy_headers=True)


@db_app.command("upgrade")
def db_upgrade() -> None:
    """Apply every pending migration to the configured database."""
    from bot.migrate import current_revision, upgrade

    settings = get_settings()
    _setup_logging(settings)
    upgrade(settings.resolved_database_url)
    typer.echo(f"database at revision {current_revision(settings.resolved_database_url)}")


def main() -> None:
    """Entry point: run the command, turning expected errors into one sentence."""
    try:
        app()
    except BotError as exc:
        typer.echo(str(exc), err=True)
        raise SystemExit(2) from None
