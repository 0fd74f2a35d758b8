"""``ieval submit``, ``ieval verify``, ``ieval leaderboard add|build``, ``ieval report``, ``ieval compare``.

Only typer and rich are imported here; the leaderboard modules load inside each command.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING

import typer
from rich.console import Console

if TYPE_CHECKING:
    from leaderboard.verify import Tolerance

EXIT_MISMATCH = 1
EXIT_USAGE = 2
stderr = Console(stderr=True)
stdout = Console()

board_app = typer.Typer(
    help="Maintain a leaderboard directory of verified submissions.", no_args_is_help=True
)


def fail(message: str, code: int = EXIT_USAGE) -> None:
    stderr.print("[red]error:[/] ", end="")
    stderr.print(message, highlight=False, soft_wrap=True, markup=False)
    raise typer.Exit(code)


def _tolerance(abs_tol: float, rel_tol: float) -> Tolerance:
    from leaderboard.verify import Tolerance

    return Tolerance(abs_tol=abs_tol, rel_tol=rel_tol)


ABS_TOL = typer.Option(1e-4, "--abs-tol", help="Declared absolute tolerance for re-scored values.")
REL_TOL = typer.Option(1e-4, "--rel-tol", help="Declared relative tolerance for re-scored values.")
REJUDGE = typer.Option(False, "--rejudge", help="Call judge metrics again instead of replaying the cache.")
CACHE_DIR = typer.Option(
    None, "--cache-dir", help="Score cache to replay judges from (default $IEVAL_CACHE_DIR)."
)
BOARD = typer.Option(Path("leaderboard-store"), "--board", help="Leaderboard directory.")


def submit(
    run: Path = typer.Option(..., "--run", help="Run directory written by 'ieval run'."),
    out: Path = typer.Option(..., "--out", help="Bundle to write (a .zip)."),
) -> None:
    """Pack a run's manifest, records and edited images (PNG) into one zip with a sha256 index."""
    from leaderboard.bundle import BundleError, pack_bundle
    from leaderboard.rundir import RunDirError

    try:
        summary = pack_bundle(run, out)
    except (BundleError, RunDirError) as exc:
        fail(str(exc))
    stdout.print(
        f"wrote {summary.path}: {summary.files} files, {summary.images} images, {summary.bytes} bytes"
    )


def verify(
    bundle: Path = typer.Argument(..., help="Bundle made by 'ieval submit'."),
    abs_tol: float = ABS_TOL,
    rel_tol: float = REL_TOL,
    rejudge: bool = REJUDGE,
    cache_dir: str | None = CACHE_DIR,
    as_json: bool = typer.Option(False, "--json", help="Print the verification report as JSON."),
) -> None:
    """Check a bundle and re-compute its deterministic metrics; exit 1 when a value does not match."""
    from leaderboard.bundle import BundleError
    from leaderboard.verify import verify_bundle

    try:
        report = verify_bundle(
            bundle, tolerance=_tolerance(abs_tol, rel_tol), rejudge=rejudge, cache_dir=cache_dir
        )
    except BundleError as exc:
        fail(str(exc))
    if as_json:
        stdout.print_json(json.dumps(report.to_json()))
    else:
        for line in report.lines():
            stdout.print(line, highlight=False, markup=False, soft_wrap=True)
    counts: dict[str, int] = {}
    for cell in report.cells:
        counts[cell.provenance] = counts.get(cell.provenance, 0) + 1
    if not as_json:
        stdout.print(
            f"{len(report.cells)} cells: " + ", ".join(f"{n} {p}" for p, n in sorted(counts.items()))
        )
    if not report.ok:
        bad = sorted({s for c in report.cells for s in c.mismatched})
        fail(
            f"{len(bad)} samples have reported values that differ from their images: {', '.join(bad[:20])}",
            EXIT_MISMATCH,
        )


def board_add(
    bundle: Path = typer.Argument(..., help="Bundle made by 'ieval submit'."),
    board: Path = BOARD,
    abs_tol: float = ABS_TOL,
    rel_tol: float = REL_TOL,
    rejudge: bool = REJUDGE,
    cache_dir: str | None = CACHE_DIR,
    allow_mismatch: bool = typer.Option(
        False, "--allow-mismatch", help="File it even if values do not re-score."
    ),
) -> None:
    """Verify a bundle, file it in the board and rebuild the leaderboard."""
    from leaderboard.bundle import BundleError
    from leaderboard.store import Board, BoardError

    try:
        result = Board(board).add(
            bundle, tolerance=_tolerance(abs_tol, rel_tol), rejudge=rejudge, cache_dir=cache_dir,
            allow_mismatch=allow_mismatch,
        )  # fmt: skip
    except (BundleError, BoardError) as exc:
        fail(str(exc), EXIT_MISMATCH if isinstance(exc, BoardError) else EXIT_USAGE)
    counts: dict[str, int] = {}
    for cell in result.report.cells:
        counts[cell.provenance] = counts.get(cell.provenance, 0) + 1
    summary = ", ".join(f"{n} {p}" for p, n in sorted(counts.items()))
    stdout.print(f"added run {result.run_id} to {board} ({summary}); {len(result.table.rows)} rows")
    _print_smoke(result.table.smoke_excluded)


def board_build(board: Path = BOARD) -> None:
    """Rebuild rows.jsonl, leaderboard.csv and leaderboard.md from the runs in the board."""
    from leaderboard.store import Board

    if not Board.is_board(board):
        fail(
            f"{board}: not a leaderboard directory; create one with 'ieval leaderboard add BUNDLE --board {board}'"
        )
    table = Board(board).build()
    stdout.print(f"built {board}/leaderboard.md: {len(table.rows)} rows")
    _print_smoke(table.smoke_excluded)


def _print_smoke(count: int) -> None:
    if count:
        stdout.print(f"{count} records computed with random (smoke) weights were excluded")


def report(
    source: Path = typer.Argument(..., help="A run directory or a leaderboard directory."),
    out: Path | None = typer.Option(None, "--out", help="Site folder (default SOURCE/report)."),
    open_browser: bool = typer.Option(False, "--open", help="Open index.html in a browser."),
    title: str = typer.Option("", "--title", help="Page title."),
) -> None:
    """Write a static HTML report (index.html; no server needed)."""
    from leaderboard.report import write_report
    from leaderboard.rundir import RunDirError

    try:
        index = write_report(source, out or source / "report", title=title)
    except RunDirError as exc:
        fail(str(exc))
    stdout.print(f"wrote {index}")
    if open_browser:
        import webbrowser

        webbrowser.open(index.resolve().as_uri())


def compare(
    run_a: Path = typer.Argument(..., help="Run directory A."),
    run_b: Path = typer.Argument(..., help="Run directory B."),
    editor_a: str | None = typer.Option(None, "--editor-a", help="Editor of A to compare (default: shared)."),
    editor_b: str | None = typer.Option(None, "--editor-b", help="Editor of B to compare."),
    seed: int = typer.Option(0, "--seed", help="Bootstrap / permutation seed."),
) -> None:
    """Per-metric differences B - A over shared samples, with paired bootstrap and permutation tests."""
    from leaderboard.compare import compare_runs, format_differences
    from leaderboard.rundir import RunDirError, load_run

    try:
        a, b = load_run(run_a), load_run(run_b)
    except RunDirError as exc:
        fail(str(exc))
    rows = compare_runs(a, b, editor_a=editor_a, editor_b=editor_b, seed=seed)
    if not rows:
        fail("the runs share no (suite, metric, editor) cell; name the editors with --editor-a/--editor-b")
    stdout.print(f"B - A over shared samples (A = {run_a}, B = {run_b})", markup=False, highlight=False)
    for line in format_differences(rows):
        stdout.print(line, markup=False, highlight=False, soft_wrap=True)


def register(app: typer.Typer) -> None:
    app.command("submit")(submit)
    app.command("verify")(verify)
    app.command("report")(report)
    app.command("compare")(compare)
    board_app.command("add")(board_add)
    board_app.command("build")(board_build)
    app.add_typer(board_app, name="leaderboard")
