"""Which checkpoint a cut-short run resumes from, pruning, progress files, and the metrics log's
restart: values on hand-made directories and logs."""

from imageedit_r1.training.checkpoints import (
    checkpoint_step,
    latest_checkpoint,
    prune_checkpoints,
    read_progress,
    write_progress,
)
from imageedit_r1.training.logs import MetricsLog

MARK = "done.marker"


def _checkpoint(run, step, complete=True):
    path = run / f"checkpoint-{step}"
    path.mkdir(parents=True)
    if complete:
        (path / MARK).write_text("x")
    return path


def test_latest_checkpoint_is_the_complete_one_with_most_steps(tmp_path):
    run = tmp_path / "run"
    assert latest_checkpoint(run, MARK) is None  # no directory yet
    _checkpoint(run, 9)
    ten = _checkpoint(run, 10)  # numeric order: 10 after 9, although "checkpoint-10" < "checkpoint-9"
    _checkpoint(run, 12, complete=False)  # cut short while saving
    (run / "final").mkdir()
    (run / "checkpoint-x").mkdir()
    assert latest_checkpoint(run, MARK) == ten
    assert checkpoint_step(ten) == 10 and checkpoint_step(run / "final") is None


def test_prune_keeps_the_newest_complete_ones_and_a_newer_save_in_progress(tmp_path):
    run = tmp_path / "run"
    for step in (2, 4, 6):
        _checkpoint(run, step)
    _checkpoint(run, 3, complete=False)  # an old torn save
    _checkpoint(run, 8, complete=False)  # being written now
    deleted = prune_checkpoints(run, MARK, keep=2)
    assert sorted(p.name for p in deleted) == ["checkpoint-2", "checkpoint-3"]
    assert sorted(p.name for p in run.iterdir()) == ["checkpoint-4", "checkpoint-6", "checkpoint-8"]
    assert prune_checkpoints(run, MARK, keep=0) == []  # 0 keeps everything


def test_progress_round_trip_and_a_checkpoint_without_one(tmp_path):
    write_progress(tmp_path, 7, 12.34567)
    assert read_progress(tmp_path) == {"step": 7, "seconds": 12.346}
    assert read_progress(tmp_path / "elsewhere") == {}


def test_metrics_log_restart_keeps_the_steps_up_to_the_checkpoint(tmp_path):
    log = MetricsLog(tmp_path / "metrics.jsonl")
    for step in (5, 10, 15, 20):
        log.write({"step": step, "loss": step / 10})
    with log.path.open("a") as handle:
        handle.write('{"step": 25, "lo')  # torn by a kill
    assert log.restart(10) == 2  # steps 15 and 20 go; the torn line is not a record
    assert [r["step"] for r in log.records()] == [5, 10]
    assert log.path.read_text().count("\n") == 2  # the torn text is gone too
    log.write({"step": 15, "loss": 0.5})
    assert [r["step"] for r in log.records()] == [5, 10, 15]
    assert log.restart(0) == 3 and log.records() == []  # a fresh run starts an empty log
    fresh = MetricsLog(tmp_path / "new" / "metrics.jsonl")
    assert fresh.restart(0) == 0 and fresh.records() == [] and fresh.path.exists()


def _vote(rank, flags, port, results):
    import torch.distributed as dist

    from imageedit_r1.training.grpo import agree

    dist.init_process_group("gloo", init_method=f"tcp://127.0.0.1:{port}", rank=rank, world_size=2)
    try:
        results.put((rank, agree(flags)))
    finally:
        dist.destroy_process_group()


def test_time_decisions_are_taken_by_every_process():
    import multiprocessing
    import socket

    from imageedit_r1.training.grpo import agree

    assert agree([True, False]) == [True, False]  # one process: its own decisions
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    context = multiprocessing.get_context("fork")
    results = context.Queue()
    # rank 0's clock says stop, rank 1's says save: both stop and both save
    ranks = [
        context.Process(target=_vote, args=(r, f, port, results))
        for r, f in ((0, [True, False]), (1, [False, True]))
    ]
    for process in ranks:
        process.start()
    for process in ranks:
        process.join(60)
    assert [p.exitcode for p in ranks] == [0, 0]
    assert sorted(results.get(timeout=5) for _ in ranks) == [(0, [True, True]), (1, [True, True])]
