"""Shared backbones for learned metrics: one loaded model per (family, arch, weights, device, dtype).

``clip_i``, ``clip_t``, ``clip_dir`` and ``clip_out`` of one architecture share one ``OpenClipBackbone``;
every backbone keeps a small memo of features keyed by (feature kind, preprocessing, input identity), so
an image is preprocessed and sent through a backbone once per batch however many metrics read it.
``launch_features`` queues the forwards of a whole batch grouped by backbone, in chunks of the configured
batch size, under fp16 autocast on CUDA, each chunk's copy to pinned host memory queued right behind it;
``PendingFeatures.complete()`` (``prefetch`` does both) waits for the copies and fills the memos.
Backbones that preprocess images the same way (CLIP ViT-B/32 and ViT-L/14) share the prepared input.
On CUDA with mixed precision, the weights autocast would cast at every call are kept in float16 and
inputs are prepared in float16 (``HALF_WEIGHTS``, ``HALF_PREP``).
"""

from __future__ import annotations

import contextlib
import functools
import threading
from collections import OrderedDict
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from harness.metrics.learned import weights
from harness.metrics.learned.identity import content_id, item_id, prep_key
from harness.metrics.learned.recipes import ImagePrep
from harness.metrics.learned.transfer import HostCopy, device_image, start_host_copy, upload_images

__all__ = [
    "Backbone",
    "BackboneSpec",
    "FeatureRequest",
    "clear_backbones",
    "content_id",
    "device_image",
    "get_backbone",
    "launch_features",
    "prefetch",
    "prep_key",
    "upload_images",
]

MEMO_ENTRIES = 4096
# Prepare (convert, resize, normalise) images in float16 when the forwards run under float16 autocast:
# they would be cast to float16 at the first layer anyway, and half-size tensors halve the memory traffic
# of the resize. ``bench/metrics_profile.py`` switches it off to compare.
HALF_PREP = True
# Keep the weights that float16 autocast casts at every call (linear, convolution and attention
# projections) in float16 from loading on: they are rounded the same way, and each forward saves one
# cast kernel and one dispatch per weight; the host's launches bound a batch (``keep_half_weights``).
HALF_WEIGHTS = True


@dataclass(frozen=True)
class BackboneSpec:
    """Which model: ``family`` is open_clip | dino_vit | lpips; ``pretrained`` a tag, path or ''."""

    family: str
    arch: str
    pretrained: str = ""


@dataclass(frozen=True)
class FeatureRequest:
    spec: BackboneSpec
    kind: str  # "image", "text", "keys_selfsim"
    prep: ImagePrep | None
    item: Any  # an image (np.ndarray) or a text


def resolve_device(config: weights.WeightsConfig) -> str:
    import torch

    if config.device:
        return config.device
    return "cuda" if torch.cuda.is_available() else "cpu"


def autocast_dtype(config: weights.WeightsConfig, device: str) -> str:
    return "float16" if (config.mixed_precision and device.startswith("cuda")) else "float32"


class Backbone:
    """A loaded model plus its feature memo. Subclasses implement ``load`` and ``_forward``."""

    def __init__(self, spec: BackboneSpec, device: str, dtype: str) -> None:
        self.spec = spec
        self.device = device
        self.dtype = dtype
        self.source = weights.WeightsSource("random")
        self._memo: OrderedDict[tuple[str, str, str], Any] = OrderedDict()
        self._lock = threading.Lock()

    @property
    def smoke(self) -> bool:
        return self.source.smoke

    @property
    def autocast_half(self) -> bool:
        return self.dtype == "float16" and self.device.startswith("cuda")

    def weights_fingerprint(self) -> dict[str, Any]:
        return {
            "family": self.spec.family,
            "arch": self.spec.arch,
            "pretrained": self.spec.pretrained,
            "weights": "random" if self.smoke else self.source.kind,
        }

    def autocast(self) -> contextlib.AbstractContextManager[Any]:
        import torch

        if self.autocast_half:
            return torch.autocast("cuda", dtype=torch.float16)
        return contextlib.nullcontext()

    # -- memoised features --------------------------------------------------------------------
    def memo_key(self, kind: str, prep: ImagePrep | None, item: Any) -> tuple[str, str, str]:
        return (kind, prep_key(prep) if prep else "", item_id(item))

    def clear_memo(self) -> None:
        with self._lock:
            self._memo.clear()

    def features(self, kind: str, prep: ImagePrep | None, items: Sequence[Any], batch_size: int) -> list[Any]:
        """Features of ``items``; computes only those not in the memo, in chunks of ``batch_size``."""
        keys = [self.memo_key(kind, prep, item) for item in items]
        launched = self.launch(kind, prep, keys, items, batch_size)
        with self._lock:
            self._store(launched)
            found = []
            for key in keys:
                self._memo.move_to_end(key)
                found.append(self._memo[key])
            self._trim()
        return found

    def launch(
        self, kind: str, prep: ImagePrep | None, keys: Sequence[Any], items: Sequence[Any], batch_size: int
    ) -> list[tuple[list[Any], HostCopy]]:
        """Queue the forwards (and host copies) of the items not in the memo; ``store`` them later.
        Forwards of one backbone never run concurrently (DINO's key capture hooks the shared model)."""
        with self._lock:
            missing: dict[tuple[str, str, str], Any] = {}
            for key, item in zip(keys, items, strict=True):
                if key not in self._memo and key not in missing:
                    missing[key] = item
            todo = list(missing.items())
            launched = []
            for start in range(0, len(todo), max(1, batch_size)):
                chunk = todo[start : start + batch_size]
                outputs = self._forward(kind, prep, [item for _, item in chunk])
                launched.append(([key for key, _ in chunk], start_host_copy(outputs)))
        return launched

    def store(self, launched: list[tuple[list[Any], HostCopy]]) -> None:
        """Wait for the launched chunks' host copies and put the features into the memo."""
        with self._lock:
            self._store(launched)
            self._trim()

    def _store(self, launched: list[tuple[list[Any], HostCopy]]) -> None:
        for keys, copy in launched:
            for key, out in zip(keys, copy.result(), strict=True):
                self._memo[key] = out

    def _trim(self) -> None:
        while len(self._memo) > MEMO_ENTRIES:
            self._memo.popitem(last=False)

    def _forward(self, kind: str, prep: ImagePrep | None, items: list[Any]) -> list[Any]:
        raise NotImplementedError

    def load(self, config: weights.WeightsConfig) -> None:
        raise NotImplementedError

    # -- preprocessing ------------------------------------------------------------------------
    def to_input(self, images: Sequence[np.ndarray], prep: ImagePrep) -> Any:
        """uint8 HxWx3 images of one size -> normalised (N,3,H,W) tensor on the device (resized there).

        Inside ``prefetch``, a preprocessing that several backbones use is computed once per image list."""
        shared = _prepared_cache(self.device, prep)
        key = tuple(content_id(image) for image in images) if shared is not None else ()
        if shared is not None and key in shared:
            return shared[key]
        x = self._prepare(images, prep)
        if shared is not None:
            shared[key] = x
        return x

    def _prepare(self, images: Sequence[np.ndarray], prep: ImagePrep) -> Any:
        import torch

        dtype = torch.float16 if HALF_PREP and self.autocast_half else torch.float32
        x = torch.stack([device_image(image, self.device) for image in images])
        x = x.permute(0, 3, 1, 2).to(dtype, memory_format=torch.contiguous_format).div_(255.0)
        x = _resize_crop(x, prep)
        if prep.scale == "symmetric":
            x = x * 2.0 - 1.0
        mean, std = _normalisers(self.device, tuple(prep.mean), tuple(prep.std), dtype)
        return (x - mean) / std

    def run_images(
        self, images: Sequence[np.ndarray], prep: ImagePrep, fn: Callable[[Any], Any]
    ) -> list[Any]:
        """Apply ``fn`` to batches of prepared images grouped by input size; outputs in input order."""
        by_shape: dict[tuple[int, ...], list[int]] = {}
        for index, image in enumerate(images):
            by_shape.setdefault(tuple(image.shape), []).append(index)
        outputs: list[Any] = [None] * len(images)
        for indices in by_shape.values():
            result = fn(self.to_input([images[i] for i in indices], prep)).float()
            for row, index in enumerate(indices):
                outputs[index] = result[row]
        return outputs


@functools.cache
def _normalisers(
    device: str, mean: tuple[float, ...], std: tuple[float, ...], dtype: Any = None
) -> tuple[Any, Any]:
    """Mean and std as (1,3,1,1) device tensors, made once: building them per batch would be a
    synchronous host-to-device copy, which stalls the host until the queued forwards finish."""
    import torch

    return (
        torch.tensor(mean, device=device, dtype=dtype).view(1, 3, 1, 1),
        torch.tensor(std, device=device, dtype=dtype).view(1, 3, 1, 1),
    )


def _resize_crop(x: Any, prep: ImagePrep) -> Any:
    import torch.nn.functional as F

    h, w = x.shape[-2:]
    if prep.resize == "shorter_side":
        short, long = min(h, w), max(h, w)
        scale = prep.size / short
        if prep.max_size is not None and long * scale > prep.max_size:
            scale = prep.max_size / long
        new_h, new_w = max(1, round(h * scale)), max(1, round(w * scale))
        if (new_h, new_w) != (h, w):
            x = F.interpolate(
                x, size=(new_h, new_w), mode=prep.interpolation, align_corners=False, antialias=True
            )
            x = x.clamp_(0.0, 1.0)
        h, w = new_h, new_w
    if prep.crop == "center":
        c = prep.crop_size
        top, left = max(0, (h - c) // 2), max(0, (w - c) // 2)
        x = x[..., top : top + c, left : left + c]
    return x


_cache: dict[tuple[str, str, str, str, str], Backbone] = {}
_cache_lock = threading.Lock()


def get_backbone(spec: BackboneSpec, factory: Callable[[BackboneSpec, str, str], Backbone]) -> Backbone:
    """The shared backbone for ``spec`` on the configured device/dtype (loaded once per process)."""
    config = weights.current()
    device = resolve_device(config)
    dtype = autocast_dtype(config, device)
    key = (spec.family, spec.arch, spec.pretrained, device, dtype)
    with _cache_lock:
        backbone = _cache.get(key)
        if backbone is None:
            backbone = factory(spec, device, dtype)
            backbone.load(config)
            if HALF_WEIGHTS and backbone.autocast_half:
                keep_half_weights(backbone.model)
            _cache[key] = backbone
        return backbone


def keep_half_weights(model: Any) -> int:
    """Store the weights and biases of ``model``'s linear, convolution and multi-head attention modules
    in float16; norms, embeddings and bare parameters stay float32. Under float16 autocast the model
    computes with the same float16 weights (autocast rounds them at every call, the same way; cuBLAS
    may still pick another float16 kernel, so values can differ in the last digits). A converted model
    must only run under autocast. Returns how many tensors were converted."""
    import torch

    layers = (torch.nn.Linear, torch.nn.Conv1d, torch.nn.Conv2d)
    projections = {"in_proj_weight", "in_proj_bias", "q_proj_weight", "k_proj_weight", "v_proj_weight"}
    converted = 0
    for module in model.modules():
        if isinstance(module, (*layers, torch.nn.MultiheadAttention)):
            for name, param in module.named_parameters(recurse=False):
                # an attention module's bias_k / bias_v are concatenated, not cast: they stay float32
                wanted = isinstance(module, layers) or name in projections
                if wanted and param.dtype == torch.float32:
                    param.data = param.data.half()
                    converted += 1
    return converted


def clear_backbones() -> None:
    """Drop every loaded backbone (tests, or after ``weights.configure`` changes where weights live)."""
    with _cache_lock:
        _cache.clear()


def _hash_all(requests: Sequence[tuple[Backbone, FeatureRequest]]) -> list[np.ndarray]:
    """The batch's distinct image arrays, each given its content id once."""
    arrays: dict[int, np.ndarray] = {}
    for _backbone, req in requests:
        parts = req.item if isinstance(req.item, tuple) else (req.item,)
        for part in parts:
            if isinstance(part, np.ndarray) and id(part) not in arrays:
                arrays[id(part)] = part
                content_id(part)
    return list(arrays.values())


_scope = threading.local()


def _prepared_cache(device: str, prep: ImagePrep) -> dict[tuple[str, ...], Any] | None:
    """This thread's cache of prepared inputs for ``prep`` on ``device``, if a prefetch shares it."""
    shared = getattr(_scope, "shared", None)
    return None if shared is None else shared.get((device, prep_key(prep)))


@contextlib.contextmanager
def _sharing_preps(groups: Sequence[tuple[Backbone, FeatureRequest, list[Any]]]) -> Iterator[None]:
    """Share prepared inputs between the backbones of one device that use the same preprocessing."""
    users: dict[tuple[str, str], set[int]] = {}
    for backbone, req, _items in groups:
        if req.prep is not None:
            users.setdefault((backbone.device, prep_key(req.prep)), set()).add(id(backbone))
    outer = getattr(_scope, "shared", None)
    _scope.shared = {key: {} for key, ids in users.items() if len(ids) > 1}
    try:
        yield
    finally:
        _scope.shared = outer


class PendingFeatures:
    """Forwards queued on the device whose outputs are not yet in the backbones' memos.

    ``complete()`` copies them to the host (this waits for the device) and stores them; until then the
    host is free to prepare and queue the next batch, which is what ``score_metric_sets`` does."""

    def __init__(self, launched: list[tuple[Backbone, list[tuple[list[Any], HostCopy]]]]) -> None:
        self._launched = launched

    def complete(self) -> None:
        launched, self._launched = self._launched, []
        for backbone, chunks in launched:
            backbone.store(chunks)


def launch_features(requests: Sequence[tuple[Backbone, FeatureRequest]], batch_size: int) -> PendingFeatures:
    """Queue the forwards of all requested features grouped by (backbone, kind, prep), one forward per
    chunk, without copying anything back; the caller completes the returned ``PendingFeatures``."""
    arrays = _hash_all(requests)
    devices = {backbone.device for backbone, req in requests if req.prep is not None}
    for device in devices:
        upload_images(arrays, device)
    groups: dict[tuple[int, str, str], tuple[Backbone, FeatureRequest, list[Any]]] = {}
    for backbone, req in requests:
        prep_id = prep_key(req.prep) if req.prep else ""
        key = (id(backbone), req.kind, prep_id)
        if key not in groups:
            groups[key] = (backbone, req, [])
        groups[key][2].append(req.item)
    launched: list[tuple[Backbone, list[tuple[list[Any], HostCopy]]]] = []
    try:
        with _sharing_preps(list(groups.values())):
            for backbone, req, items in groups.values():
                keys = [backbone.memo_key(req.kind, req.prep, item) for item in items]
                launched.append((backbone, backbone.launch(req.kind, req.prep, keys, items, batch_size)))
    except BaseException:
        PendingFeatures(launched).complete()  # keep what did run, then let the caller isolate the failure
        raise
    return PendingFeatures(launched)


def prefetch(requests: Sequence[tuple[Backbone, FeatureRequest]], batch_size: int) -> None:
    """Compute all requested features: every forward queued before the first copy back to the host."""
    launch_features(requests, batch_size).complete()
