from __future__ import annotations

import pytest

from tests.leaderboard.toy import (
    ToyEditor,
    fails_every,
    identity,
    noisy,
    oracle,
    register_toys,
    write_run,
)

register_toys()


def standard_editors() -> list[ToyEditor]:
    return [
        ToyEditor("oracle", oracle, reference=True),
        ToyEditor("good", noisy(3), cost_usd=0.01, trace=True),
        ToyEditor("good-twin", noisy(3), cost_usd=0.02),
        ToyEditor("identity", identity),
        ToyEditor("flaky", fails_every(3, "error", noisy(3))),
        ToyEditor("random-weights", noisy(1), smoke=True),
    ]


@pytest.fixture
def run_dir(tmp_path):
    return write_run(tmp_path / "run", standard_editors(), run_id="toy-run")
