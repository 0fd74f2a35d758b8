"""``ieval run``, ``ieval ls``, ``ieval suite export`` and ``ieval merge``."""

from __future__ import annotations

import json
import math
import sys
from pathlib import Path

import typer
from rich.console import Console
from rich.table import Table

from harness.registry import UnknownNameError

EXIT_USAGE = 2
DEFAULT_EDITORS = ("identity", "oracle", "classic-pipeline", "imageedit-r1")
stderr = Console(stderr=True, width=None if sys.stderr.isatty() else 120)
stdout = Console(width=None if sys.stdout.isatty() else 160)

suite_app = typer.Typer(help="Work with suites.", no_args_is_help=True)


def fail(message: str, code: int = EXIT_USAGE) -> None:
    stderr.print(f"[red]error:[/] {message}", highlight=False, soft_wrap=True)
    raise typer.Exit(code)


def split_names(value: str | None) -> list[str] | None:
    if value is None:
        return None
    return [name.strip() for name in value.split(",") if name.strip()]


def default_editors() -> list[str]:
    from harness import registry

    return [name for name in DEFAULT_EDITORS if name in registry.editors]


def parse_shard(value: str | None) -> tuple[int, int] | None:
    if value is None:
        return None
    try:
        k, n = (int(part) for part in value.split("/"))
    except ValueError:
        fail(f"--shard must look like K/N (e.g. 2/3), got '{value}'")
    if not 1 <= k <= n:
        fail(f"--shard K/N needs 1 <= K <= N, got '{value}'")
    return (k, n)


def run(
    suite: str = typer.Option("all", "--suite", help="Suite names, comma-separated, or 'all'."),
    editors: str | None = typer.Option(
        None,
        "--editors",
        help=f"Editor names, comma-separated (default: {','.join(DEFAULT_EDITORS)}); a name may end in "
        "options, e.g. imageedit-r1:smollm2+defer=false.",
    ),
    metrics: str | None = typer.Option(None, "--metrics", help="Metric names (default: each suite's own)."),
    split: str | None = typer.Option(None, "--split", help="Split (default: each suite's test split)."),
    limit: int | None = typer.Option(None, "--limit", min=1, help="At most this many samples per suite."),
    seed: int = typer.Option(0, "--seed", help="Seed for generated suites, editors and bootstrap."),
    out: Path = typer.Option(Path("ieval-runs/default"), "--out", help="Run directory (resumable)."),
    shard: str | None = typer.Option(None, "--shard", help="Run only slice K of N (K/N), for job arrays."),
    no_cache: bool = typer.Option(False, "--no-cache", help="Do not read or write the edit/score cache."),
    cache_dir: Path | None = typer.Option(
        None, "--cache-dir", help="Cache location (default $IEVAL_CACHE_DIR)."
    ),
    batch_size: int = typer.Option(32, "--batch-size", min=1, help="Samples per batch."),
    dry_run: bool = typer.Option(
        False, "--dry-run", help="Print planned calls, cache hits and cost; run nothing."
    ),
    weights_dir: Path | None = typer.Option(
        None, "--weights-dir", help="Folder with learned-metric weights (also IEVAL_WEIGHTS_DIR)."
    ),
    allow_random_weights: bool = typer.Option(
        False, "--allow-random-weights", help="Smoke-test learned metrics with random weights (tagged smoke)."
    ),
    judge_url: str | None = typer.Option(None, "--judge-url", help="OpenAI-compatible endpoint for judges."),
    judge_model: str | None = typer.Option(None, "--judge-model", help="Judge model name at that endpoint."),
    max_judge_usd: float | None = typer.Option(
        None, "--max-judge-usd", min=0.0, help="Stop paid judge calls once this much is spent."
    ),
    backend: str = typer.Option("local", "--backend", help="Where edits and scores run: local or ray."),
    ray_address: str | None = typer.Option(
        None, "--ray-address", help="Existing Ray cluster address (default: start a local one)."
    ),
) -> None:
    """Evaluate editors on suites; write records, manifest and leaderboard to --out."""
    from harness.runner import RunConfig, RunError, run_evaluation

    config = RunConfig(
        suites=split_names(suite) or ["all"],
        editors=split_names(editors) or default_editors(),
        metrics=split_names(metrics),
        split=split,
        limit=limit,
        seed=seed,
        out=out,
        shard=parse_shard(shard),
        use_cache=not no_cache,
        cache_dir=cache_dir,
        batch_size=batch_size,
        backend=backend,
        ray_address=ray_address,
    )
    if backend not in ("local", "ray"):
        fail(f"--backend must be 'local' or 'ray', got '{backend}'")
    configure_learned_components(
        out, weights_dir, allow_random_weights, judge_url, judge_model, max_judge_usd
    )
    try:
        if dry_run:
            from harness.dry_run import print_dry_run

            print_dry_run(config, stdout)
            return
        summary = run_evaluation(config, stderr)
    except UnknownNameError as exc:
        fail(str(exc))
    except RunError as exc:
        fail(str(exc))
    c = summary.counters
    stderr.print(
        f"edits: {c.edits_computed} computed, {c.edits_reused} reused; "
        f"scores: {c.scores_computed} computed, {c.scores_reused} reused; "
        f"records: {c.records_written} written, {c.records_skipped} already done; "
        f"wall {summary.wall_seconds:.1f}s"
    )
    print_summary(summary.cells, summary.out, summary.primary_metrics)


def configure_learned_components(
    out: Path,
    weights_dir: Path | None,
    allow_random: bool,
    judge_url: str | None,
    judge_model: str | None,
    max_judge_usd: float | None,
) -> None:
    """Pass weight and judge options to the metric and judge layers (process-wide settings)."""
    if weights_dir is not None or allow_random:
        from harness.metrics.learned import weights

        weights.configure(weights_dir=weights_dir, allow_random=allow_random)
    judge_changes: dict[str, object] = {"ledger_path": out / "judge_costs.jsonl"}
    if judge_url:
        judge_changes["base_url"] = judge_url
    if judge_model:
        judge_changes["model"] = judge_model
    if max_judge_usd is not None:
        judge_changes["max_judge_usd"] = max_judge_usd
    from harness.judges import config as judge_config

    judge_config.configure(**judge_changes)


def print_summary(cells: list, out: Path, primary_metrics: dict[str, str]) -> None:
    """One table per suite, ranked by the same metric as the suite's table in leaderboard.md."""
    from harness.aggregate import rank_editors, ranking_metric

    for suite_name in sorted({c.suite for c in cells}):
        suite_cells = [c for c in cells if c.suite == suite_name and c.group == "all"]
        metric_names = sorted({c.metric for c in suite_cells})
        table = Table(title=f"{suite_name}", title_justify="left")
        table.add_column("editor")
        table.add_column("cov", justify="right")
        for name in metric_names:
            table.add_column(name, justify="right")
        primary = ranking_metric(suite_cells, primary_metrics.get(suite_name))
        for ranked in rank_editors(suite_cells, suite_name, primary):
            row = [ranked.editor + (" (ref)" if ranked.reference else ""), f"{ranked.coverage:.3f}"]
            for name in metric_names:
                cell = next((c for c in suite_cells if c.editor == ranked.editor and c.metric == name), None)
                row.append("—" if cell is None or math.isnan(cell.mean) else f"{cell.mean:.3f}")
            table.add_row(*row)
        stdout.print(table)
    stdout.print(f"leaderboard: {out / 'leaderboard.md'}  (csv: {out / 'leaderboard.csv'})")


def ls(as_json: bool = typer.Option(False, "--json", help="Print JSON.")) -> None:
    """List suites, editors, metrics and judges, with availability and the reason when unavailable."""
    from harness import registry

    listing = {}
    for key, reg in (("suites", registry.suites), ("editors", registry.editors),
                     ("metrics", registry.metrics), ("judges", registry.judges)):  # fmt: skip
        entries = []
        for name in reg.names():
            if name.endswith("<arg>"):
                entries.append({"name": name, "available": False, "reason": "needs an argument in its name"})
                continue
            availability = reg.availability(name)
            entry = {"name": name, "available": availability.available, "reason": availability.reason}
            if availability.available:  # what `NAME+key=value` may set, with the defaults
                entry["options"] = _printable(registry.option_defaults(reg.factory(name)[0]))
            entries.append(entry)
        listing[key] = entries
    if as_json:
        sys.stdout.write(json.dumps(listing, indent=2) + "\n")
        return
    for key, entries in listing.items():
        table = Table(title=key, title_justify="left")
        table.add_column("name")
        table.add_column("available")
        table.add_column("reason")
        table.add_column("options (+key=value)")
        for entry in entries:
            shown = ", ".join(f"{k}={json.dumps(v)}" for k, v in entry.get("options", {}).items())
            table.add_row(entry["name"], "yes" if entry["available"] else "no", entry["reason"], shown)
        stdout.print(table)


def _printable(defaults: dict[str, object]) -> dict[str, object]:
    """Defaults as JSON can hold them (an object's default shows as its text)."""
    out = {}
    for key, value in defaults.items():
        try:
            json.dumps(value)
        except TypeError:
            value = repr(value)
        out[key] = value
    return out


@suite_app.command("export")
def suite_export(
    name: str = typer.Argument(..., help="Suite name (synth-edit, photo-ops, ...)."),
    split: str = typer.Option("train", "--split"),
    n: int = typer.Option(100, "--n", min=1, help="Number of samples."),
    out: Path = typer.Option(..., "--out", help="Output folder (PNGs + samples.jsonl)."),
    seed: int = typer.Option(0, "--seed"),
) -> None:
    """Write a suite split as a folder dataset (PNGs + samples.jsonl) usable as --suite folder:DIR."""
    from harness.export import ExportError, export_suite

    try:
        path = export_suite(name, split=split, n=n, out=out, seed=seed)
    except UnknownNameError as exc:
        fail(str(exc))
    except ExportError as exc:
        fail(str(exc))
    stdout.print(f"wrote {n} samples to {path}")


def merge(
    dirs: list[Path] = typer.Argument(..., help="Run directories to merge (e.g. shards)."),
    out: Path = typer.Option(..., "--out", help="Merged run directory."),
    seed: int = typer.Option(0, "--seed", help="Bootstrap seed for the merged leaderboard."),
) -> None:
    """Merge run directories (e.g. --shard outputs) into one, and rebuild its leaderboard."""
    from harness.merge import MergeError, merge_runs

    try:
        merge_runs(dirs, out, seed=seed)
    except MergeError as exc:
        fail(str(exc))
    stdout.print(f"merged {len(dirs)} runs into {out}")


def register(app: typer.Typer) -> None:
    app.command("run")(run)
    app.command("ls")(ls)
    app.command("merge")(merge)
    app.add_typer(suite_app, name="suite")
