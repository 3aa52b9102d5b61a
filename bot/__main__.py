"""`python -m bot` runs the `hotline` command."""

from bot.cli import main

main()
