"""One training process per output directory: a second trainer on a claimed --out is refused."""

import json
import os
import signal
import socket
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from typer.testing import CliRunner

from harness.cli.main import app
from imageedit_r1.training.run_lock import BUSY_EXIT, LOCK_FILE, RunBusy, claim_run

ROOT = Path(__file__).resolve().parents[2]
HOLDER = (
    "import sys, time; from pathlib import Path; from imageedit_r1.training.run_lock import claim_run; "
    "lock = claim_run(Path(sys.argv[1])); print('held', flush=True); time.sleep(300)"
)
MICRO_SFT = ["--synth", "8", "--photo", "0", "--model-size", "micro", "--max-steps", "2", "--workers", "1"]


@contextmanager
def claimed_elsewhere(out: Path) -> Iterator[subprocess.Popen]:
    """Another process holding ``out``'s claim until the block ends (or the test kills it)."""
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLDER, str(out)], stdout=subprocess.PIPE, text=True, cwd=ROOT
    )
    try:
        assert holder.stdout.readline().strip() == "held"
        yield holder
    finally:
        holder.kill()
        holder.wait()


def test_a_claimed_directory_is_refused_naming_its_holder_and_kill_9_frees_it(tmp_path):
    out = tmp_path / "run"
    with claimed_elsewhere(out) as holder:
        with pytest.raises(RunBusy) as refused:
            claim_run(out)
        assert f"pid {holder.pid} on {socket.gethostname()} since " in str(refused.value)
        assert str(refused.value).endswith("wait for it to end, or give this run another --out")
        holder.send_signal(signal.SIGKILL)  # a crashed trainer leaves no stale claim
        holder.wait()
        with claim_run(out) as lock:
            assert lock.held
            assert (out / LOCK_FILE).read_text().startswith(f"pid {os.getpid()} on ")
        assert not lock.held


def test_a_claim_is_refused_within_one_process_until_released(tmp_path, monkeypatch):
    first = claim_run(tmp_path)
    with pytest.raises(RunBusy):
        claim_run(tmp_path)
    first.release()
    claim_run(tmp_path).release()
    # the other ranks of one multi-process launch write the same directory by design
    with claim_run(tmp_path):
        monkeypatch.setenv("RANK", "1")
        assert not claim_run(tmp_path).held


def test_train_commands_on_a_claimed_out_exit_75_and_write_nothing(tmp_path):
    out = tmp_path / "run"
    with claimed_elsewhere(out):
        for command in (
            ["train", "sft", "--out", str(out), *MICRO_SFT],
            ["train", "pipeline", "--out", str(out)],
        ):
            result = CliRunner().invoke(app, command)
            assert result.exit_code == BUSY_EXIT, result.output
            assert f"error: {out} is being trained by another process (pid " in result.output
    assert [path.name for path in out.iterdir()] == [LOCK_FILE]


def test_a_sweep_marks_a_seed_in_training_elsewhere_busy_and_runs_it_when_rerun(tmp_path):
    out = tmp_path / "sweep"
    command = ["train", "seeds", "sft", "--seeds", "0", "--gpus", "0", "--out", str(out), "--", *MICRO_SFT]
    with claimed_elsewhere(out / "seed_0"):
        result = CliRunner().invoke(app, command)
    assert result.exit_code == 1
    assert "error: 1 of 1 seeds are being trained by another process" in result.output
    run = json.loads((out / "seeds.json").read_text())["runs"][0]
    assert (run["status"], run["returncode"]) == ("busy", BUSY_EXIT)
    assert not (out / "seed_0" / ".done").exists()
    assert "is being trained by another process" in (out / "seed_0.log").read_text()

    again = CliRunner().invoke(app, command)  # the holder has ended: the seed trains now
    assert again.exit_code == 0, again.output
    assert json.loads((out / "seeds.json").read_text())["runs"][0]["status"] == "ok"
    assert (out / "seed_0" / "final" / "model.safetensors").is_file()


def test_an_out_that_cannot_be_a_directory_is_one_line_and_exit_2(tmp_path):
    blocker = tmp_path / "a_file"
    blocker.write_text("not a directory")
    result = CliRunner().invoke(app, ["train", "sft", "--out", str(blocker / "run"), *MICRO_SFT])
    assert result.exit_code == 2
    assert result.output.strip().splitlines() == [
        f"error: cannot use --out {blocker / 'run'}: Not a directory"
    ]
