"""``ieval judge-audit`` offline against the loopback judge server, on a run directory written here."""

from __future__ import annotations

import json

import numpy as np
import pytest
import typer
from judge_server import ok, refusal
from typer.testing import CliRunner

from harness.cli.judge_commands import register
from harness.images import ImageStore
from harness.records import EditRecord, JsonlLog, RunRecord, SampleRecord

pytest.importorskip("httpx")


def write_run(run_dir, server) -> None:
    """Six synth-edit samples x identity/oracle. The judge is told (by the server's script) to pass every
    oracle edit and fail every identity edit, except: it passes one identity edit at L2 (a false
    positive) and refuses one oracle edit at L1."""
    store = ImageStore(run_dir / "images")
    rng = np.random.default_rng(7)
    with (
        JsonlLog(run_dir / "samples.jsonl") as samples,
        JsonlLog(run_dir / "edits.jsonl") as edits,
        JsonlLog(run_dir / "records.jsonl") as records,
    ):
        for i in range(6):
            level = "L1" if i < 3 else "L2"
            source = rng.integers(0, 256, (16, 16, 3), dtype=np.uint8)
            target = rng.integers(0, 256, (16, 16, 3), dtype=np.uint8)
            sid = f"synth-{i}"
            samples.append(
                SampleRecord(
                    "synth-edit",
                    "test",
                    sid,
                    f"recolor shape {i}",
                    "recolor",
                    level,
                    source_hash=store.put(source),
                    target_hash=store.put(target),
                )
            )
            for editor, edited, exact in (("identity", source, 0.0), ("oracle", target, 1.0)):
                digest = store.put(edited)
                edits.append(EditRecord("synth-edit", "test", sid, editor, "fp", "ok", edited_hash=digest))
                records.append(
                    RunRecord(
                        "synth-edit",
                        "1",
                        "test",
                        sid,
                        "recolor",
                        level,
                        editor,
                        "fp",
                        "synth_exact",
                        "mfp",
                        True,
                        0.0,
                        "ok",
                        value=exact,
                    )
                )
                good = exact == 1.0 or (i == 4 and editor == "identity")
                sc = ok(success=9, overediting=9) if good else ok(success=1, overediting=9)
                if i == 0 and editor == "oracle":
                    sc = refusal()
                server.add_case(
                    f"{sid}/{editor}", edited, viescore_sc=[sc], viescore_pq=[ok(naturalness=8, artifacts=8)]
                )
        # a failed edit and a non-exact metric are ignored by the audit
        edits.append(EditRecord("synth-edit", "test", "synth-0", "broken", "fp", "error", error="boom"))
        records.append(
            RunRecord(
                "synth-edit",
                "1",
                "test",
                "synth-0",
                "recolor",
                "L1",
                "identity",
                "fp",
                "psnr",
                "mfp",
                True,
                0.0,
                "ok",
                value=20.0,
            )
        )


def test_judge_audit_prints_agreement_table(judge_server, judge_settings, tmp_path):
    run_dir = tmp_path / "run"
    run_dir.mkdir()
    write_run(run_dir, judge_server)
    app = typer.Typer()
    register(app)

    @app.callback()
    def main() -> None:  # keeps judge-audit a named sub-command
        return None

    args = [
        "judge-audit",
        "--judge",
        "viescore_edit",
        "--run",
        str(run_dir),
        "--judge-url",
        judge_server.base_url,
        "--cache-dir",
        str(tmp_path / "cache"),
        "--json",
        str(tmp_path / "audit.json"),
    ]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    out = result.output
    assert "12 edits, coverage 91.7%" in out and "refused 1" in out
    # L1: oracle 1,2 pass (TP 2), identity 0,1,2 fail (TN 3), oracle 0 refused -> 5 scored, all agree
    assert "L1          5   1.000    2    0    0    3" in out
    # L2: oracle 3,4,5 TP; identity 4 FP; identity 3,5 TN -> 5/6
    assert "L2          6   0.833    3    1    0    2" in out
    assert "all        11   0.909    5    1    0    5" in out
    report = json.loads((tmp_path / "audit.json").read_text())
    assert report["accuracy"] == pytest.approx(10 / 11) and report["spearman"] > 0.5
    calls = len(judge_server.requests)
    assert calls == 24  # 12 edits x (SC + PQ)
    again = CliRunner().invoke(app, args)
    assert again.exit_code == 0 and len(judge_server.requests) == calls  # the re-run is served from cache
    assert "judge calls 0 (cached 24)" in again.output


def test_judge_audit_bad_run_dir_is_one_line(judge_server, judge_settings, tmp_path):
    app = typer.Typer()
    register(app)

    @app.callback()
    def main() -> None:
        return None

    result = CliRunner().invoke(
        app,
        [
            "judge-audit",
            "--judge",
            "viescore_edit",
            "--run",
            str(tmp_path),
            "--judge-url",
            judge_server.base_url,
        ],
    )
    assert result.exit_code == 2
    assert "is not a run directory: samples.jsonl is missing" in result.output
    unknown = CliRunner().invoke(app, ["judge-audit", "--judge", "viescor_edit", "--run", str(tmp_path)])
    assert unknown.exit_code == 2 and "Did you mean 'viescore_edit'" in unknown.output


def test_judge_audit_is_registered_as_a_cli_plugin():
    from harness.cli.plugins import CLI_PLUGINS

    assert "harness.cli.judge_commands:register" in CLI_PLUGINS


def test_judge_audit_can_edit_a_suite_now(judge_server, judge_settings, tmp_path):
    pytest.importorskip("skimage")
    from harness import registry

    if registry.suites.availability("synth-edit").available is False:
        pytest.skip("synth-edit unavailable here")
    for schema, reply in (
        ("viescore_sc", ok(success=9, overediting=9)),
        ("viescore_pq", ok(naturalness=9, artifacts=9)),
    ):
        judge_server.scripts[("", schema)] = [reply]  # this judge passes every edit
    app = typer.Typer()
    register(app)

    @app.callback()
    def main() -> None:
        return None

    args = [
        "judge-audit",
        "--judge",
        "viescore_edit",
        "--suites",
        "synth-edit",
        "--editors",
        "identity,oracle",
        "--limit",
        "4",
        "--judge-url",
        judge_server.base_url,
        "--json",
        str(tmp_path / "audit.json"),
    ]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    report = json.loads((tmp_path / "audit.json").read_text())
    assert report["n"] == 8 and report["coverage"] == 1.0
    # the oracle's edits are exact, the identity's are not: an always-yes judge is right half the time
    assert report["accuracy"] == pytest.approx(0.5)
    assert sum(level["fp"] for level in report["by_level"].values()) == 4
