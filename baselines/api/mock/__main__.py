"""``python -m baselines.api.mock --port PORT [--latency S] [--faults SPEC]``: same as ``ieval mock-server``."""

import typer

from baselines.api.mock.cli import register

app = typer.Typer(add_completion=False)
register(app)

if __name__ == "__main__":
    app()
