"""Registered editors scored in the rollout workers: request lists per editor, values in job order."""

from harness.protocols import EditorCapabilities
from harness.types import EditResult
from imageedit_r1 import rollouts
from imageedit_r1.rollouts import RolloutPool, evaluate_editor
from imageedit_r1.toolbox import default_toolbox


class _ListRecorder:
    """Returns each source unchanged and records the size of every request list it is given."""

    capabilities = EditorCapabilities()

    def __init__(self) -> None:
        self.calls: list[int] = []

    def edit(self, requests):
        self.calls.append(len(requests))
        return [EditResult("ok", image=request.source) for request in requests]


def test_jobs_of_one_editor_are_edited_as_request_lists_in_order(synth_samples, monkeypatch):
    pool = RolloutPool({s.id: s for s in synth_samples}, default_toolbox, workers=0)
    recorder = _ListRecorder()
    monkeypatch.setitem(rollouts._STATE, "editor|recorder", recorder)
    ids = [s.id for s in synth_samples]
    jobs = [
        ("recorder", ids[0], "synth-edit"),
        ("recorder", ids[1], "synth-edit"),
        ("recorder", ids[2], "synth-edit"),
    ]
    jobs += [("oracle", ids[3], "synth-edit"), ("recorder", ids[3], "synth-edit")]
    values = pool.map(lambda part: evaluate_editor(part, batch_size=2), jobs)
    assert recorder.calls == [2, 1, 1]  # at most 2 a list; a job of another editor ends a list
    assert [v["synth_exact"] for v in values] == [0.0, 0.0, 0.0, 1.0, 0.0]  # unchanged sources miss
    pool.close()
