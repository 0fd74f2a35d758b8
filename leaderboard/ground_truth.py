"""Ground truth for verification: samples re-created from their suites, never taken from a bundle.

A suite is created as the runner created it (its seed and recorded options, when its constructor
accepts them); each sample is matched by id and its source/target hashes are checked against
``samples.jsonl``.
"""

from __future__ import annotations

from typing import Any

from harness.images import image_hash
from harness.records import SampleRecord
from harness.types import Sample
from leaderboard.rundir import RunData


class GroundTruth:
    """Samples re-created from their suites, checked against the hashes in samples.jsonl."""

    def __init__(self, run: RunData) -> None:
        self.run = run
        self.declared: dict[tuple[str, str, str], SampleRecord] = run.sample_index()
        self._samples: dict[tuple[str, str], dict[str, Sample]] = {}
        self._problems: dict[tuple[str, str], str] = {}

    def get(self, suite: str, split: str, sample_id: str) -> tuple[Sample | None, str]:
        """The sample, or None and why it cannot be used."""
        if (suite, split) not in self._samples:
            self._load(suite, split)
        problem = self._problems.get((suite, split))
        if problem:
            return None, problem
        sample = self._samples[(suite, split)].get(sample_id)
        if sample is None:
            return None, f"sample {sample_id} is not in suite {suite}/{split}"
        declared = self.declared.get((suite, split, sample_id))
        if declared is None:
            return None, f"sample {sample_id} is missing from samples.jsonl"
        if declared.source_hash != image_hash(sample.source):
            return None, f"sample {sample_id}: submitted source hash differs from the suite's"
        if (
            sample.target is not None
            and declared.target_hash
            and declared.target_hash != image_hash(sample.target)
        ):
            return None, f"sample {sample_id}: submitted target hash differs from the suite's"
        return sample, ""

    def loaded(self) -> list[Sample]:
        """Every sample re-created so far."""
        return [s for table in self._samples.values() for s in table.values()]

    def _load(self, suite: str, split: str) -> None:
        from harness import registry

        wanted = {s.sample_id for s in self.run.samples if (s.suite, s.split) == (suite, split)}
        found: dict[str, Sample] = {}
        self._samples[(suite, split)] = found
        try:
            factory, _ = registry.suites.factory(suite)
            instance = registry.suites.create(suite, **suite_options(self.run.manifest, factory, suite))
            for item in instance.samples(split):
                if isinstance(item, Sample) and item.id in wanted:
                    found[item.id] = item
                    if len(found) == len(wanted):
                        break
        except Exception as exc:  # unknown or unavailable suite: cells stay self-reported
            self._problems[(suite, split)] = (
                f"cannot re-create suite {suite}: {str(exc).splitlines()[0][:200]}"
            )


def suite_options(manifest: dict[str, Any], factory: Any, suite: str) -> dict[str, Any]:
    """The constructor options the run gave ``suite``: its ``seed`` and ``config.suite_options[suite]``,
    keeping only those the factory accepts (as the runner's planner does)."""
    from harness.planning import accepted_options

    config = manifest.get("config", {})
    config = config if isinstance(config, dict) else {}
    options: dict[str, Any] = {}
    if isinstance(config.get("seed"), int):
        options["seed"] = config["seed"]
    declared = config.get("suite_options", {})
    if isinstance(declared, dict) and isinstance(declared.get(suite), dict):
        options.update(declared[suite])
    return accepted_options(factory, options)
