"""Shared backbones for learned metrics: one loaded model per (family, arch, weights, device, dtype).

``clip_i``, ``clip_t``, ``clip_dir`` and ``clip_out`` of one architecture share one ``OpenClipBackbone``;
every backbone keeps a small memo of features keyed by (feature kind, preprocessing, image hash), so an
image is preprocessed and sent through a backbone once per batch however many metrics read it.
``prefetch`` runs the forwards of a whole batch grouped by backbone, in chunks of the configured batch
size, under fp16 autocast on CUDA.
"""

from __future__ import annotations

import contextlib
import functools
import threading
import weakref
from collections import OrderedDict
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import numpy as np

from harness.fingerprint import stable_hash
from harness.images import image_hash
from harness.metrics.learned import weights
from harness.metrics.learned.recipes import ImagePrep

MEMO_ENTRIES = 4096


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


@functools.lru_cache(maxsize=256)
def prep_key(prep: ImagePrep) -> str:
    """Short identity of a (frozen, hashable) preprocessing; memo keys use it thousands of times a batch."""
    return stable_hash(prep.fingerprint())[:16]


_hash_memo: dict[int, tuple[weakref.ref[np.ndarray], str]] = {}


def content_id(image: np.ndarray) -> str:
    """``image_hash`` of an array, computed once per live array object (metrics ask repeatedly)."""
    entry = _hash_memo.get(id(image))
    if entry is not None and entry[0]() is image:
        return entry[1]
    digest = image_hash(image)
    key = id(image)
    _hash_memo[key] = (weakref.ref(image, lambda _ref, key=key: _hash_memo.pop(key, None)), digest)
    return digest


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

    def weights_fingerprint(self) -> dict[str, Any]:
        return {
            "family": self.spec.family,
            "arch": self.spec.arch,
            "pretrained": self.spec.pretrained,
            "weights": "random" if self.smoke else self.source.kind,
        }

    def autocast(self) -> contextlib.AbstractContextManager[Any]:
        import torch

        if self.dtype == "float16" and self.device.startswith("cuda"):
            return torch.autocast("cuda", dtype=torch.float16)
        return contextlib.nullcontext()

    # -- memoised features --------------------------------------------------------------------
    def memo_key(self, kind: str, prep: ImagePrep | None, item: Any) -> tuple[str, str, str]:
        prep_id = prep_key(prep) if prep else ""
        if isinstance(item, np.ndarray):
            item_id = content_id(item)
        elif isinstance(item, tuple) and all(isinstance(part, np.ndarray) for part in item):
            item_id = "+".join(content_id(part) for part in item)
        else:
            item_id = stable_hash(item)
        return (kind, prep_id, item_id)

    def clear_memo(self) -> None:
        with self._lock:
            self._memo.clear()

    def features(self, kind: str, prep: ImagePrep | None, items: Sequence[Any], batch_size: int) -> list[Any]:
        """Features of ``items``; computes only those not in the memo, in chunks of ``batch_size``."""
        keys = [self.memo_key(kind, prep, item) for item in items]
        with self._lock:
            missing: dict[tuple[str, str, str], Any] = {}
            for key, item in zip(keys, items, strict=True):
                if key not in self._memo and key not in missing:
                    missing[key] = item
            todo = list(missing.items())
            launched = []
            for start in range(0, len(todo), max(1, batch_size)):
                chunk = todo[start : start + batch_size]
                launched.append((chunk, self._forward(kind, prep, [item for _, item in chunk])))
            # host copies only after every chunk is queued, so the GPU never waits for Python in between
            for chunk, outputs in launched:
                for (key, _), out in zip(chunk, to_host(outputs), strict=True):
                    self._memo[key] = out
            found = []
            for key in keys:
                self._memo.move_to_end(key)
                found.append(self._memo[key])
            while len(self._memo) > MEMO_ENTRIES:
                self._memo.popitem(last=False)
        return found

    def _forward(self, kind: str, prep: ImagePrep | None, items: list[Any]) -> list[Any]:
        raise NotImplementedError

    def load(self, config: weights.WeightsConfig) -> None:
        raise NotImplementedError

    # -- preprocessing ------------------------------------------------------------------------
    def to_input(self, images: Sequence[np.ndarray], prep: ImagePrep) -> Any:
        """uint8 HxWx3 images of one size -> normalised (N,3,H,W) tensor on the device (resized there)."""
        import torch

        x = torch.stack([device_image(image, self.device) for image in images])
        x = x.permute(0, 3, 1, 2).float().div_(255.0)
        x = _resize_crop(x, prep)
        if prep.scale == "symmetric":
            x = x * 2.0 - 1.0
        mean = torch.tensor(prep.mean, device=self.device).view(1, 3, 1, 1)
        std = torch.tensor(prep.std, device=self.device).view(1, 3, 1, 1)
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
            _cache[key] = backbone
        return backbone


def clear_backbones() -> None:
    """Drop every loaded backbone (tests, or after ``weights.configure`` changes where weights live)."""
    with _cache_lock:
        _cache.clear()


DEVICE_IMAGE_BYTES = 1 << 30
_device_images: OrderedDict[tuple[str, str], Any] = OrderedDict()
_device_bytes = 0
_device_lock = threading.Lock()


def device_image(image: np.ndarray, device: str) -> Any:
    """The uint8 HxWx3 image as a tensor on ``device``, uploaded once while it stays in a 1 GiB LRU,
    so backbones with different preprocessing share one host-to-device copy per image."""
    import torch

    if device == "cpu":
        return torch.from_numpy(np.ascontiguousarray(image))
    key = (content_id(image), device)
    with _device_lock:
        found = _device_images.get(key)
        if found is not None:
            _device_images.move_to_end(key)
            return found
    tensor = torch.from_numpy(np.ascontiguousarray(image)).to(device, non_blocking=True)
    _remember_device_image(key, tensor)
    return tensor


def to_host(outputs: list[Any]) -> list[Any]:
    """Device tensors -> CPU tensors with one copy per output list (per-sample arithmetic then runs on
    small CPU tensors, without a device sync per sample)."""
    import torch

    if not outputs or not all(isinstance(o, torch.Tensor) for o in outputs):
        return outputs
    if all(o.device.type == "cpu" for o in outputs):
        return outputs
    if len({tuple(o.shape) for o in outputs}) == 1:
        return list(torch.stack(outputs).cpu())
    return [o.cpu() for o in outputs]


def upload_images(images: Sequence[np.ndarray], device: str) -> None:
    """Put every image not yet on ``device`` there through one pinned staging buffer per size
    (the copies into it run on threads), instead of one pageable copy per image."""
    import torch

    if device == "cpu" or not torch.cuda.is_available():
        return
    todo: dict[str, np.ndarray] = {}
    for image in images:
        key = content_id(image)
        if (key, device) not in _device_images and key not in todo:
            todo[key] = image
    by_shape: dict[tuple[int, ...], list[tuple[str, np.ndarray]]] = {}
    for key, image in todo.items():
        by_shape.setdefault(image.shape, []).append((key, image))
    for shape, entries in by_shape.items():
        staging = torch.empty((len(entries), *shape), dtype=torch.uint8).pin_memory()
        view = staging.numpy()

        def fill(index: int, view: np.ndarray = view, entries: list = entries) -> None:
            view[index] = entries[index][1]

        with ThreadPoolExecutor(max_workers=8) as pool:
            list(pool.map(fill, range(len(entries))))
        on_device = staging.to(device, non_blocking=True)
        for row, (key, _image) in enumerate(entries):
            _remember_device_image((key, device), on_device[row])


def _remember_device_image(key: tuple[str, str], tensor: Any) -> None:
    global _device_bytes
    with _device_lock:
        _device_images[key] = tensor
        _device_bytes += tensor.numel()
        while _device_bytes > DEVICE_IMAGE_BYTES and len(_device_images) > 1:
            _, old = _device_images.popitem(last=False)
            _device_bytes -= old.numel()


def _hash_all(requests: Sequence[tuple[Backbone, FeatureRequest]]) -> list[np.ndarray]:
    """Hash the batch's images on a thread pool (hashlib releases the GIL on large buffers)."""
    arrays: dict[int, np.ndarray] = {}
    for _backbone, req in requests:
        parts = req.item if isinstance(req.item, tuple) else (req.item,)
        for part in parts:
            if isinstance(part, np.ndarray):
                arrays[id(part)] = part
    if len(arrays) > 8:
        with ThreadPoolExecutor(max_workers=8) as pool:
            list(pool.map(content_id, arrays.values()))
    return list(arrays.values())


def prefetch(requests: Sequence[tuple[Backbone, FeatureRequest]], batch_size: int) -> None:
    """Compute all requested features grouped by (backbone, kind, prep): one forward per chunk."""
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
    for backbone, req, items in groups.values():
        backbone.features(req.kind, req.prep, items, batch_size)
