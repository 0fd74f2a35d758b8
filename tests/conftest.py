"""Process-wide settings that ``ieval run`` configures (weights, judges) are reset after every test,
so one test's CLI options never leak into another."""

from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def _reset_process_wide_settings():
    yield
    from harness.judges import config as judge_config
    from harness.metrics.learned import weights

    judge_config.reset()
    weights.reset()


def load_bench(name: str):
    """Import a script of ``bench/`` as a module: ``load_bench("r1_calibration").auroc``."""
    import importlib.util
    from pathlib import Path

    path = Path(__file__).resolve().parents[1] / "bench" / f"{name}.py"
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture
def run_bench():
    """Run a script of ``bench/`` as a user does (this interpreter, from the repository root) and
    check its exit status: ``run_bench("r1_misses.py", path, "--by", "family", expect=0)``."""
    import subprocess
    import sys
    from pathlib import Path

    root = Path(__file__).resolve().parents[1]

    def run(
        script: str, *args: object, expect: int | None = 0, timeout: float = 600
    ) -> subprocess.CompletedProcess:
        command = [sys.executable, str(root / "bench" / script), *map(str, args)]
        done = subprocess.run(command, capture_output=True, text=True, cwd=root, timeout=timeout)
        if expect is not None:
            assert done.returncode == expect, (
                f"exit {done.returncode}\n{done.stdout[-2000:]}\n{done.stderr[-2000:]}"
            )
        return done

    return run
