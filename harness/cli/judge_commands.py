"""``ieval judge-audit``: how often a VLM judge agrees with the exact checkers on a run's edits."""

from __future__ import annotations

import json
from pathlib import Path

import typer


def register(app: typer.Typer) -> None:
    app.command("judge-audit")(judge_audit)


def judge_audit(
    judge: str = typer.Option(..., "--judge", help="registered judge, e.g. viescore_edit"),
    run: Path = typer.Option(None, "--run", help="run directory with synth-edit / photo-ops records"),
    suites: str = typer.Option("synth-edit,photo-ops", "--suites", help="comma-separated suites to audit"),
    editors: str = typer.Option("", "--editors", help="comma-separated editors (default: all in the run)"),
    split: str = typer.Option("test", "--split", help="split to edit when no --run is given"),
    judge_url: str = typer.Option(
        "", "--judge-url", help="OpenAI-compatible base URL (vLLM, SGLang, OpenAI)"
    ),
    judge_model: str = typer.Option("", "--judge-model", help="model name sent to the endpoint"),
    api_key_env: str = typer.Option("", "--api-key-env", help="environment variable holding the API key"),
    max_judge_usd: float = typer.Option(None, "--max-judge-usd", help="stop paid judge calls at this spend"),
    passes: int = typer.Option(1, "--passes", min=1),
    judge_threshold: float = typer.Option(
        None, "--judge-threshold", help="judge success cut (default: mid-range)"
    ),
    limit: int = typer.Option(None, "--limit", min=1, help="audit at most this many edits"),
    template_dir: Path = typer.Option(None, "--template-dir", help="folder of official prompt files"),
    cache_dir: Path = typer.Option(None, "--cache-dir", help="judge-call cache (default $IEVAL_CACHE_DIR)"),
    json_out: Path = typer.Option(None, "--json", help="also write the report as JSON here"),
) -> None:
    """Score the edits in RUN (or the --editors' edits of --suites, made now) with JUDGE and report agreement
    with the exact checkers (accuracy, Spearman, confusion by level)."""
    from harness import registry
    from harness.judges import config
    from harness.judges.audit import AuditInputError, audit, collect_from_suites, load_run_inputs
    from harness.judges.ledger import run_ledger

    changes: dict[str, object] = {"passes": passes, "max_judge_usd": max_judge_usd}
    for key, value in (
        ("base_url", judge_url),
        ("model", judge_model),
        ("api_key_env", api_key_env),
        ("template_dir", template_dir),
        ("cache_dir", cache_dir),
    ):
        if value:
            changes[key] = value
    config.configure(**changes)
    try:
        metric = registry.judges.create(judge)
    except (registry.UnknownNameError, registry.UnavailableError) as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from None
    suite_names = tuple(s for s in suites.split(",") if s)
    editor_names = tuple(e for e in editors.split(",") if e)
    try:
        if run is not None:
            items, inputs = load_run_inputs(run, suites=suite_names, editors=editor_names, limit=limit)
        elif editor_names:
            items, inputs = collect_from_suites(suite_names, editor_names, split=split, limit=limit)
        else:
            raise AuditInputError("give --run RUN_DIR, or --suites and --editors to edit now")
    except (AuditInputError, registry.UnknownNameError, registry.UnavailableError) as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from None
    report = audit(metric, items, inputs, judge_threshold=judge_threshold)
    typer.echo(report.table())
    cost = run_ledger().summary()
    typer.echo(f"judge calls {cost['calls']} (cached {cost['cached_calls']}), cost ${cost['usd']:.4f}")
    if json_out:
        json_out.write_text(json.dumps({**report.to_dict(), "cost": cost}, indent=2) + "\n", encoding="utf-8")
