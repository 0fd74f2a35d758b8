"""Judge scores in verification: replayed from the score cache, or re-judged when asked.

A judge is not deterministic, so verification does not call it by default: it looks up each
(judge fingerprint, sample inputs, edited image) in the harness cache (``$IEVAL_CACHE_DIR``) and
compares the cached value. ``rejudge=True`` calls the judge again (this may cost money).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from harness.records import RunRecord
from harness.types import Sample, ScoreInput


@dataclass(frozen=True)
class ReplayedScore:
    status: str
    value: float | None


def sample_input_hashes(sample: Sample) -> dict[str, str]:
    """The sample part of a score cache key, exactly as the runner builds it."""
    from harness.run_support import sample_input_hashes as _sample_input_hashes

    return _sample_input_hashes(sample)


class JudgeReplay:
    def __init__(self, *, cache_dir: str | None = None, rejudge: bool = False) -> None:
        self.cache_dir = cache_dir
        self.rejudge = rejudge
        self._cache: Any = None

    def _open_cache(self) -> Any:
        from harness.cache import Cache, default_cache_dir

        root = Path(self.cache_dir) if self.cache_dir else default_cache_dir()
        if not (root / "cache.sqlite").is_file():
            return None
        if self._cache is None:
            self._cache = Cache(root)
        return self._cache

    def score(
        self, metric: Any, batch: Sequence[tuple[RunRecord, ScoreInput, str]]
    ) -> tuple[list[ReplayedScore | None], str]:
        """One replayed score (or None when unknown) per item, and why some are unknown."""
        if self.rejudge:
            fresh = metric.score([inp for _, inp, _ in batch])
            return [ReplayedScore(r.status, r.value) for r in fresh], ""
        from harness.cache import score_key

        cache = self._open_cache()
        if cache is None:
            return [None] * len(
                batch
            ), "judge metric and no score cache here; pass --rejudge to call it again"
        out: list[ReplayedScore | None] = []
        for record, inp, edited_hash in batch:
            hit = cache.get_score(score_key(record.metric_fp, sample_input_hashes(inp.sample), edited_hash))
            out.append(ReplayedScore(hit.status, hit.value) if hit is not None else None)
        missing = sum(1 for x in out if x is None)
        return out, (
            f"{missing} judge scores not in the cache; pass --rejudge to call it again" if missing else ""
        )
