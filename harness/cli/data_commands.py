"""``ieval data``: fetch benchmark data at its pinned revision, verify a local copy, show where it lives."""

from __future__ import annotations

import json
from pathlib import Path

import typer

data_app = typer.Typer(help="Download and verify benchmark datasets.", no_args_is_help=True)


def _fail(message: str, code: int = 1) -> None:
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(code)


def _benchmark(name: str):  # noqa: ANN202 - returns the loader class
    from harness.data.fetch import FetchError, benchmark_class
    from harness.registry import UnknownNameError

    try:
        return benchmark_class(name)
    except (UnknownNameError, FetchError) as exc:
        _fail(str(exc.args[0]) if exc.args else str(exc), code=2)


@data_app.command("fetch")
def fetch_command(
    name: str = typer.Argument(..., help="benchmark name, e.g. gedit-bench"),
    include: list[str] = typer.Option([], "--include", help="only files matching this glob (repeatable)"),
    revision: str = typer.Option("", help="override the pinned revision (recorded in the manifest)"),
    data_dir: Path | None = typer.Option(
        None, help="data folder (default $IEVAL_DATA_DIR or ~/.cache/ieval/data)"
    ),
) -> None:
    """Download NAME at its pinned revision (or check a manual download) and record its manifest."""
    from harness.data.fetch import FetchError, fetch

    _benchmark(name)
    try:
        result = fetch(name, data_dir=data_dir, include=tuple(include), revision=revision or None)
    except FetchError as exc:
        _fail(str(exc))
    counts = ", ".join(f"{split} {count}" for split, count in result.counts.items()) or "none readable"
    typer.echo(
        f"{name}: {result.files} files in {result.folder} (revision {result.revision or 'n/a'}); records: {counts}"
    )
    for note in result.notes:
        typer.echo(f"note: {note}")


@data_app.command("verify")
def verify_command(
    name: str = typer.Argument(..., help="benchmark name"),
    data_dir: Path | None = typer.Option(
        None, help="data folder (default $IEVAL_DATA_DIR or ~/.cache/ieval/data)"
    ),
    as_json: bool = typer.Option(False, "--json", help="print the report as JSON"),
) -> None:
    """Check a local copy against its manifest (hashes, revision) and the published split sizes."""
    from harness.data.manifest import verify
    from harness.suites.benchmarks.base import DataError

    cls = _benchmark(name)
    try:
        report = verify(cls(data_dir=data_dir))
    except DataError as exc:
        _fail(f"{name}: {exc}")
    if as_json:
        typer.echo(
            json.dumps(
                {
                    "name": name,
                    "ok": report.ok,
                    "problems": report.problems,
                    "notes": report.notes,
                    "files_checked": report.files_checked,
                    "counts": report.counts,
                },
                indent=1,
            )
        )
    else:
        for note in report.notes:
            typer.echo(f"note: {note}")
        for problem in report.problems:
            typer.echo(f"problem: {problem}", err=True)
        status = "ok" if report.ok else f"FAILED ({len(report.problems)} problems)"
        typer.echo(f"{name}: {status}; {report.files_checked} files checked; records {report.counts}")
    if not report.ok:
        raise typer.Exit(1)


@data_app.command("where")
def where_command(name: str = typer.Argument("", help="benchmark name (empty: the data root)")) -> None:
    """Print the folder a benchmark is (or would be) stored in."""
    from harness.data.location import data_root, dataset_dir

    typer.echo(str(dataset_dir(name) if name else data_root()))


def register(app: typer.Typer) -> None:
    app.add_typer(data_app, name="data")
