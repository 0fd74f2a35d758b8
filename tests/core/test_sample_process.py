"""The sample generator process never outlives a killed run."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

from harness.sample_process import generated_in_process


def _children_of(pid: int) -> list[int]:
    out = subprocess.run(["ps", "-o", "pid=", "--ppid", str(pid)], capture_output=True, text=True)
    return [int(p) for p in out.stdout.split()]


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    state = subprocess.run(["ps", "-o", "stat=", "-p", str(pid)], capture_output=True, text=True).stdout
    return bool(state.strip()) and not state.strip().startswith("Z")


def test_generator_exits_when_its_run_is_killed(tmp_path):
    script = (
        "import sys, time\n"
        "from harness.sample_process import generated_in_process\n"
        f"stream = generated_in_process('synth-edit', {{'seed': 0}}, 'test', None, {str(tmp_path)!r}, depth=2)\n"
        "next(stream)\n"
        "print('ready', flush=True)\n"
        "time.sleep(600)\n"
    )
    run = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
    assert run.stdout.readline().strip() == "ready"
    children = [p for p in _children_of(run.pid) if _alive(p)]
    assert children, "expected a generator process"
    os.kill(run.pid, signal.SIGKILL)
    run.wait()
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline and any(_alive(p) for p in children):
        time.sleep(0.2)
    assert not any(_alive(p) for p in children), "the generator outlived its run"


def test_samples_arrive_in_order_and_images_are_in_the_store(tmp_path):
    from harness.images import ImageStore, image_hash

    samples = list(generated_in_process("synth-edit", {"seed": 0}, "test", 3, tmp_path, depth=1))
    assert [s.id for s in samples] == [f"synth-edit/test/{i:05d}" for i in range(3)]
    store = ImageStore(tmp_path)
    assert all(store.has(image_hash(s.source)) and store.has(image_hash(s.target)) for s in samples)
