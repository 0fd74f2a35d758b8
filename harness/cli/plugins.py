"""Command groups contributed by other packages, as lazy ``"module:register"`` entries.

Each entry's module exposes ``register(app: typer.Typer) -> None`` and imports only light
dependencies at module level (heavy ones inside the command), so ``ieval --help`` stays fast and
works without optional extras. The harness names them as strings, so it never imports them
statically.
"""

CLI_PLUGINS: tuple[str, ...] = (
    "harness.cli.core_commands:register",
    "harness.cli.data_commands:register",
    "leaderboard.cli:register",
    "baselines.api.mock.cli:register",
    "imageedit_r1.cli:register",
    "harness.cli.judge_commands:register",
)
