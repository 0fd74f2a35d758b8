"""Entry point of the ``ieval`` console script."""

from __future__ import annotations

import importlib

import typer

from harness.cli.plugins import CLI_PLUGINS

app = typer.Typer(
    name="ieval",
    help="Evaluate instruction-based image editors: suites x editors x metrics -> leaderboard.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


def _load_plugins() -> None:
    for entry in CLI_PLUGINS:
        module_name, _, attr = entry.partition(":")
        register = getattr(importlib.import_module(module_name), attr)
        register(app)


_load_plugins()

if __name__ == "__main__":
    app()
