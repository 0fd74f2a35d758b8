"""The interfaces every suite, editor and metric implements, with small base classes.

A component names itself, declares what it needs, and has a ``fingerprint()``: a JSON-able dict
whose hash keys the cache. Availability is a class method so ``ieval ls`` can ask without
loading weights: it returns None when the component can run, else the one-line reason.
"""

from __future__ import annotations

import time
import traceback
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar, Protocol, runtime_checkable

from harness.fingerprint import stable_hash
from harness.types import EditRequest, EditResult, InvalidSample, Sample, ScoreInput, ScoreRecord


@dataclass(frozen=True)
class EditorCapabilities:
    mask: bool = False
    multi_turn: bool = False
    seeded: bool = False
    batch_size: int = 1
    needs_ground_truth: bool = False
    reference: bool = False  # shown as a reference row, never ranked


@runtime_checkable
class Editor(Protocol):
    name: str
    capabilities: EditorCapabilities

    def fingerprint(self) -> dict[str, Any]: ...

    def edit(self, requests: Sequence[EditRequest]) -> list[EditResult]: ...


@runtime_checkable
class Metric(Protocol):
    name: str
    higher_is_better: bool
    value_range: tuple[float, float]
    requires: frozenset[str]
    deterministic: bool

    def fingerprint(self) -> dict[str, Any]: ...

    def score(self, batch: Sequence[ScoreInput]) -> list[ScoreRecord]: ...


@runtime_checkable
class Suite(Protocol):
    name: str
    version: str
    splits: tuple[str, ...]
    default_metrics: tuple[str, ...]

    def fingerprint(self) -> dict[str, Any]: ...

    def samples(self, split: str, limit: int | None = None) -> Iterator[Sample | InvalidSample]: ...


def fingerprint_id(component: Editor | Metric | Suite) -> str:
    """Short hash of a component's fingerprint: the identity used in cache keys and records."""
    return stable_hash(component.fingerprint())[:16]


class BaseEditor:
    """Per-item editor: subclasses implement ``edit_one``; any exception becomes an ``error``."""

    name: str = ""
    version: str = "1"
    capabilities: ClassVar[EditorCapabilities] = EditorCapabilities()
    cache_edits: ClassVar[bool] = True  # False for editors cheaper to rerun than to look up
    failures_are_final: ClassVar[bool] = False  # True for deterministic local editors: cache errors too

    @classmethod
    def unavailable_reason(cls, arg: str | None = None) -> str | None:
        return None

    def config(self) -> dict[str, Any]:
        return {}

    def fingerprint(self) -> dict[str, Any]:
        return {"name": self.name, "version": self.version, "config": self.config()}

    def edit_one(self, request: EditRequest) -> EditResult:
        raise NotImplementedError

    def edit(self, requests: Sequence[EditRequest]) -> list[EditResult]:
        results = []
        for request in requests:
            start = time.perf_counter()
            try:
                result = self.edit_one(request)
            except Exception as exc:  # one bad item must not sink the batch
                result = EditResult(status="error", error=_describe(exc))
            if result.usage.seconds == 0.0:
                result.usage.seconds = time.perf_counter() - start
            results.append(result)
        return results


class BaseMetric:
    """Per-item metric: subclasses implement ``compute(inp) -> float``; failures are recorded."""

    name: str = ""
    version: str = "1"
    higher_is_better: bool = True
    value_range: tuple[float, float] = (0.0, 1.0)
    requires: frozenset[str] = frozenset({"edited"})
    deterministic: bool = True
    smoke: bool = False

    @classmethod
    def unavailable_reason(cls, arg: str | None = None) -> str | None:
        return None

    @property
    def worst(self) -> float:
        return self.value_range[0] if self.higher_is_better else self.value_range[1]

    def config(self) -> dict[str, Any]:
        return {}

    def fingerprint(self) -> dict[str, Any]:
        return {"name": self.name, "version": self.version, "config": self.config()}

    def applicable(self, sample: Sample) -> str | None:
        """None when the sample has what the metric requires, else what is missing."""
        missing = [need for need in sorted(self.requires) if not sample_has(sample, need)]
        return f"sample lacks {', '.join(missing)}" if missing else None

    def compute(self, inp: ScoreInput) -> float | tuple[float, dict[str, float]]:
        """The value for one sample, or (value, components) to record sub-scores too."""
        raise NotImplementedError

    def score(self, batch: Sequence[ScoreInput]) -> list[ScoreRecord]:
        records = []
        for inp in batch:
            missing = self.applicable(inp.sample)
            if missing:
                records.append(
                    ScoreRecord(self.name, inp.sample.id, None, status="not_applicable", error=missing)
                )
                continue
            try:
                result = self.compute(inp)
                value, components = result if isinstance(result, tuple) else (result, {})
                records.append(
                    ScoreRecord(
                        self.name, inp.sample.id, float(value), components=components, smoke=self.smoke
                    )
                )
            except NotApplicable as exc:
                records.append(
                    ScoreRecord(self.name, inp.sample.id, None, status="not_applicable", error=str(exc))
                )
            except Exception as exc:
                records.append(
                    ScoreRecord(self.name, inp.sample.id, None, status="error", error=_describe(exc))
                )
        return records


class NotApplicable(Exception):
    """Raised by ``compute`` when a sample cannot be scored by this metric (e.g. an empty region)."""


def sample_has(sample: Sample, need: str) -> bool:
    if need in ("source", "edited", "instruction"):
        return True
    if need == "target":
        return sample.target is not None
    if need == "mask":
        return sample.mask is not None
    if need == "captions":
        return bool(sample.captions)
    return need in sample.metadata


def _describe(exc: BaseException) -> str:
    frame = traceback.extract_tb(exc.__traceback__)[-1] if exc.__traceback__ else None
    where = f" ({frame.filename.rsplit('/', 1)[-1]}:{frame.lineno})" if frame else ""
    return f"{type(exc).__name__}: {exc}{where}"


@dataclass(frozen=True)
class ScoredItem:
    """One per-sample value as seen by an official aggregation."""

    sample_id: str
    category: str
    level: str
    value: float


OfficialAggregation = Any  # Callable[[Sequence[ScoredItem]], float]
"""A suite may set ``official_aggregation`` (a callable or a lazy ``"module:attr"``) that turns
per-sample values of one metric into the benchmark's headline number (e.g. GEdit: mean per
category, then mean over categories). Without one, the official number is the micro mean."""
