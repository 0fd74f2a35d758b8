"""Core records passed between suites, editors, metrics and the runner.

Images are ``numpy.ndarray`` of dtype uint8, shape (H, W, 3), RGB. Masks are bool arrays of
shape (H, W), True where the edit is meant to happen.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np

Image = np.ndarray
Mask = np.ndarray

EditStatus = Literal["ok", "refused", "error", "timeout", "skipped"]
EDIT_STATUSES: tuple[str, ...] = ("ok", "refused", "error", "timeout", "skipped")

ScoreStatus = Literal["ok", "not_applicable", "error", "parse_failed", "refused", "no_edit"]
SCORE_STATUSES: tuple[str, ...] = ("ok", "not_applicable", "error", "parse_failed", "refused", "no_edit")


@dataclass(frozen=True)
class Sample:
    """One evaluation item of a suite.

    ``target`` is the exact or reference edited image when the suite has one; ``mask`` marks where
    the edit should happen. ``turns`` holds the per-turn instructions of multi-turn samples (then
    ``instruction`` is the last turn). ``metadata`` carries suite-specific ground truth (scene
    graphs, edit programs) that checkers read; editors never see it unless they declare
    ``needs_ground_truth``.
    """

    id: str
    source: Image
    instruction: str
    turns: tuple[str, ...] = ()
    mask: Mask | None = None
    target: Image | None = None
    category: str = ""
    level: str = ""
    language: str = "en"
    captions: Mapping[str, str] = field(default_factory=dict)
    metadata: Mapping[str, Any] = field(default_factory=dict)


def sample_fields(sample: Sample) -> dict[str, Any]:
    """A sample's non-image fields as plain JSON-able containers (the folder-suite row format)."""
    return {
        "id": sample.id,
        "instruction": sample.instruction,
        "turns": list(sample.turns),
        "category": sample.category,
        "level": sample.level,
        "language": sample.language,
        "captions": dict(sample.captions),
        "metadata": dict(sample.metadata),
    }


@dataclass(frozen=True)
class InvalidSample:
    """A sample a suite could not load (bad image bytes, missing field). Recorded, never raised."""

    id: str
    reason: str
    category: str = ""
    level: str = ""


@dataclass(frozen=True)
class EditRequest:
    """What an editor receives. ``ground_truth`` is filled only for editors that declare
    ``needs_ground_truth`` (reference rows such as ``oracle``)."""

    sample_id: str
    source: Image
    instruction: str
    turns: tuple[str, ...] = ()
    mask: Mask | None = None
    seed: int = 0
    params: Mapping[str, Any] = field(default_factory=dict)
    ground_truth: Sample | None = None


@dataclass
class Usage:
    calls: int = 0
    seconds: float = 0.0
    cost_usd: float = 0.0
    input_tokens: int = 0
    output_tokens: int = 0


@dataclass
class TraceStep:
    """One step of an agent editor: a tool call, its arguments, outcome and intermediate image."""

    tool: str
    arguments: Mapping[str, Any] = field(default_factory=dict)
    status: Literal["ok", "error", "invalid"] = "ok"
    seconds: float = 0.0
    message: str = ""
    image: Image | None = None
    image_hash: str | None = None


@dataclass
class EditResult:
    """One editor output. Never raised: failures are a status with a reason."""

    status: EditStatus
    image: Image | None = None
    error: str = ""
    refusal_code: str = ""
    usage: Usage = field(default_factory=Usage)
    trace: list[TraceStep] = field(default_factory=list)
    provider: Mapping[str, Any] = field(default_factory=dict)
    smoke: bool = False

    def __post_init__(self) -> None:
        if self.status not in EDIT_STATUSES:
            raise ValueError(f"unknown edit status {self.status!r}")
        if self.status == "ok" and self.image is None:
            raise ValueError("an ok EditResult needs an image")


@dataclass(frozen=True)
class ScoreInput:
    """What a metric scores: the sample (with its ground truth) and the edited image."""

    sample: Sample
    edited: Image


@dataclass
class ScoreRecord:
    """One metric value for one sample. ``value`` is None unless ``status == 'ok'``."""

    metric: str
    sample_id: str
    value: float | None
    status: ScoreStatus = "ok"
    error: str = ""
    components: Mapping[str, float] = field(default_factory=dict)
    smoke: bool = False
    meta: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.status not in SCORE_STATUSES:
            raise ValueError(f"unknown score status {self.status!r}")
        if self.status == "ok" and self.value is None:
            raise ValueError("an ok ScoreRecord needs a value")
        if self.status != "ok" and self.value is not None:
            raise ValueError("a failed ScoreRecord must not carry a value")
