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
