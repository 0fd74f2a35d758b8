"""A diffusers pipeline behind the harness Editor interface.

Loads by hub id or local directory (``local_files_only`` when ``HF_HUB_OFFLINE=1`` or the
source is a directory), batches compatible requests, seeds each request with its own CPU
generator (so an item's noise does not depend on its batch), and records steps, guidance, dtype,
device, offload and the resolution convention in the fingerprint. An output computed with random
weights (a pipeline passed in by a test, or a model directory carrying the random-weights marker)
is tagged ``smoke``.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
from PIL import Image as PILImage

from baselines.diffusers_editors.weights import (
    has_smoke_marker,
    is_local,
    missing_weights,
    offline,
    resolve_source,
)
from harness.images import as_rgb, resize_to
from harness.protocols import BaseEditor, EditorCapabilities
from harness.types import EditRequest, EditResult, Usage


@dataclass(frozen=True)
class DiffusionSettings:
    """Everything that changes an output; all of it is in the editor's fingerprint.

    ``resolution`` with ``resolution_rule``: ``long-side`` scales the image so its longer side is
    ``resolution`` and rounds each side down to a multiple of ``multiple``; ``pipeline`` leaves
    sizing to the pipeline (FLUX Kontext and Qwen-Image-Edit pick their own ~1 MP size).
    Outputs are resized back to the source size with Lanczos when ``return_source_size``.
    """

    model: str
    steps: int
    guidance_scale: float
    image_guidance_scale: float | None = None
    true_cfg_scale: float | None = None
    negative_prompt: str | None = None
    strength: float | None = None
    revision: str | None = None
    dtype: str = "auto"
    device: str = "auto"
    cpu_offload: bool = False
    resolution: int = 512
    resolution_rule: str = "long-side"
    multiple: int = 8
    batch_size: int = 1
    return_source_size: bool = True
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass
class PreparedItem:
    index: int
    request: EditRequest
    image: PILImage.Image
    mask: PILImage.Image | None = None

    @property
    def group(self) -> tuple[int, int]:
        return self.image.size


class DiffusersEditor(BaseEditor):
    """Subclasses set ``pipeline_class``, ``defaults`` and ``call_arguments``."""

    pipeline_class: ClassVar[str] = ""
    cuda_dtype: ClassVar[str] = "bfloat16"  # "auto" dtype on a GPU; SD-family checkpoints use float16
    defaults: ClassVar[DiffusionSettings]
    needs_mask: ClassVar[bool] = False
    max_batch: ClassVar[int] = 64
    weights_hint: ClassVar[str] = ""

    def __init__(
        self, arg: str | None = None, *, pipeline: Any = None, smoke: bool | None = None, **overrides: Any
    ):
        settings = replace(self.defaults, **overrides)
        if arg:
            settings = replace(settings, model=arg)
        if settings.batch_size > self.max_batch:
            raise ValueError(
                f"{self.name} batches at most {self.max_batch} requests, got {settings.batch_size}"
            )
        self.settings = settings
        self.source = resolve_source(settings.model)
        self._pipeline = pipeline
        self.smoke = bool(smoke) if smoke is not None else has_smoke_marker(self.source)
        self.capabilities = EditorCapabilities(
            mask=self.needs_mask, seeded=True, batch_size=settings.batch_size
        )

    # -- availability and identity ---------------------------------------------------------------

    @classmethod
    def unavailable_reason(cls, arg: str | None = None) -> str | None:
        for package in ("diffusers", "torch"):
            if importlib.util.find_spec(package) is None:
                return f"missing package {package} (pip install 'ieval[diffusers]')"
        missing = missing_weights(
            arg or cls.defaults.model, "model_index.json", cls.defaults.revision, how=cls.weights_hint
        )
        if missing:
            return missing  # answered without importing diffusers (seconds), so `ieval ls` stays quick
        import diffusers

        if not hasattr(diffusers, cls.pipeline_class):
            return f"diffusers {diffusers.__version__} has no {cls.pipeline_class}; upgrade diffusers"
        return None

    def config(self) -> dict[str, Any]:
        settings = asdict(self.settings)
        settings["model"] = self.settings.model
        return {
            "pipeline": self.pipeline_class,
            "settings": settings,
            "resolution_convention": self.resolution_convention(),
            "weights": self.weights_identity(),
            "smoke": self.smoke,
        }

    def resolution_convention(self) -> str:
        s = self.settings
        if s.resolution_rule == "long-side":
            rule = f"longer side scaled to {s.resolution}, sides rounded down to a multiple of {s.multiple}"
        else:
            rule = "the pipeline's own sizing"
        back = "; output resized to the source size (Lanczos)" if s.return_source_size else ""
        return rule + back

    def weights_identity(self) -> str:
        """A revision for the weights: the hub revision, or a hash of a local model's config files."""
        if self._pipeline is not None and not is_local(self.source):
            return "in-memory pipeline"
        if not is_local(self.source):
            return f"{self.settings.model}@{self.settings.revision or 'main'}"
        digest = hashlib.sha256()
        for path in sorted(Path(self.source).rglob("*.json")):
            digest.update(path.relative_to(self.source).as_posix().encode())
            digest.update(path.read_bytes())
        return f"local:{digest.hexdigest()[:16]}"

    # -- loading -----------------------------------------------------------------------------------

    @property
    def pipeline(self) -> Any:
        if self._pipeline is None:
            self._pipeline = self._load()
        return self._pipeline

    def torch_dtype(self) -> Any:
        import torch

        if self.settings.dtype != "auto":
            return getattr(torch, self.settings.dtype)
        return getattr(torch, self.cuda_dtype) if self.device() == "cuda" else torch.float32

    def device(self) -> str:
        if self.settings.device != "auto":
            return self.settings.device
        import torch

        return "cuda" if torch.cuda.is_available() else "cpu"

    def _load(self) -> Any:
        import diffusers

        reason = self.unavailable_reason(self.settings.model)
        if reason:
            raise RuntimeError(reason)
        pipeline_cls = getattr(diffusers, self.pipeline_class)
        pipe = pipeline_cls.from_pretrained(
            self.source,
            torch_dtype=self.torch_dtype(),
            revision=None if is_local(self.source) else self.settings.revision,
            local_files_only=offline() or is_local(self.source),
        )
        if self.settings.cpu_offload and self.device() == "cuda":
            pipe.enable_model_cpu_offload()
        else:
            pipe = pipe.to(self.device())
        pipe.set_progress_bar_config(disable=True)
        return pipe

    # -- editing -----------------------------------------------------------------------------------

    def prepare(self, index: int, request: EditRequest) -> PreparedItem:
        image = PILImage.fromarray(as_rgb(request.source))
        size = self.working_size(image.size)
        if size != image.size:
            image = image.resize(size, PILImage.Resampling.LANCZOS)
        mask = None
        if request.mask is not None:
            mask = PILImage.fromarray(np.asarray(request.mask, dtype=np.uint8) * 255).resize(
                size, PILImage.Resampling.NEAREST
            )
        elif self.needs_mask:
            raise ValueError(f"{self.name} needs a mask; this request has none")
        return PreparedItem(index, request, image, mask)

    def working_size(self, size: tuple[int, int]) -> tuple[int, int]:
        s = self.settings
        if s.resolution_rule != "long-side":
            return size
        width, height = size
        scale = s.resolution / max(width, height)
        fit = [
            max(s.multiple, int(round(side * scale)) // s.multiple * s.multiple) for side in (width, height)
        ]
        return fit[0], fit[1]

    def call_arguments(self, items: Sequence[PreparedItem]) -> dict[str, Any]:
        """Pipeline keyword arguments for a batch (prompt, image, mask, steps, guidance)."""
        raise NotImplementedError

    def run_batch(self, items: Sequence[PreparedItem]) -> list[np.ndarray]:
        import torch

        generators = [torch.Generator(device="cpu").manual_seed(int(item.request.seed)) for item in items]
        kwargs = self.call_arguments(items)
        with torch.inference_mode():
            output = self.pipeline(**kwargs, generator=generators, output_type="np")
        images = [as_rgb(np.asarray(image, dtype=np.float32)) for image in output.images]
        if len(images) != len(items):
            raise RuntimeError(f"pipeline returned {len(images)} images for {len(items)} requests")
        return images

    def edit(self, requests: Sequence[EditRequest]) -> list[EditResult]:
        import time

        results: list[EditResult | None] = [None] * len(requests)
        prepared: list[PreparedItem] = []
        for index, request in enumerate(requests):
            try:
                prepared.append(self.prepare(index, request))
            except Exception as exc:
                results[index] = EditResult(status="error", error=_describe(exc), smoke=self.smoke)
        for batch in self._batches(prepared):
            start = time.perf_counter()
            try:
                images = self.run_batch(batch)
            except Exception as exc:
                if len(batch) > 1:  # isolate the bad item: retry one by one
                    for item in batch:
                        results[item.index] = self._edit_single(item)
                    continue
                results[batch[0].index] = EditResult(status="error", error=_describe(exc), smoke=self.smoke)
                continue
            seconds = (time.perf_counter() - start) / len(batch)
            for item, image in zip(batch, images, strict=True):
                results[item.index] = self._result(item, image, seconds)
        return [r if r is not None else EditResult(status="error", error="not processed") for r in results]

    def _edit_single(self, item: PreparedItem) -> EditResult:
        import time

        start = time.perf_counter()
        try:
            (image,) = self.run_batch([item])
        except Exception as exc:
            return EditResult(status="error", error=_describe(exc), smoke=self.smoke)
        return self._result(item, image, time.perf_counter() - start)

    def _result(self, item: PreparedItem, image: np.ndarray, seconds: float) -> EditResult:
        if self.settings.return_source_size:
            image = resize_to(image, item.request.source.shape[:2])
        provider = {
            "pipeline": self.pipeline_class,
            "model": self.settings.model,
            "seed": int(item.request.seed),
        }
        return EditResult(
            status="ok",
            image=image,
            usage=Usage(calls=1, seconds=seconds),
            provider=provider,
            smoke=self.smoke,
        )

    def _batches(self, items: Sequence[PreparedItem]) -> list[list[PreparedItem]]:
        groups: dict[str, list[PreparedItem]] = {}
        for item in items:
            key = json.dumps([item.group, sorted(item.request.params.items())], default=str)
            groups.setdefault(key, []).append(item)
        size = max(1, self.settings.batch_size)
        return [group[i : i + size] for group in groups.values() for i in range(0, len(group), size)]

    def param(self, items: Sequence[PreparedItem], name: str, default: Any) -> Any:
        """A per-request override from ``EditRequest.params`` (a batch shares its params)."""
        return items[0].request.params.get(name, default)


def _describe(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}"
