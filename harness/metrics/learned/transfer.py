"""Images to the device and features back to the host, with as few copies and syncs as possible.

- ``upload_images`` sends a batch's images in one host-to-device copy through a pinned staging buffer
  that is kept per device and reused (grown when a batch needs more), guarded by a CUDA event so it is
  not refilled before the previous asynchronous copy out of it has finished;
- ``device_image`` answers from a 1 GiB LRU of uploaded images, so backbones with different
  preprocessing share one upload per image;
- ``to_host`` brings a list of device outputs back with one copy; ``start_host_copy`` queues that copy
  (into pinned memory, right behind the forwards that made the outputs) and returns at once, so a
  stream of batches can queue the next batch's forwards before waiting for this one's features.
"""

from __future__ import annotations

import functools
import os
import threading
from collections import OrderedDict
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import numpy as np

from harness.metrics.learned.identity import content_id

DEVICE_IMAGE_BYTES = 1 << 30
_device_images: OrderedDict[tuple[str, str], Any] = OrderedDict()
_device_bytes = 0
_device_lock = threading.Lock()


def device_image(image: np.ndarray, device: str) -> Any:
    """The HxWx3 image as a tensor on ``device``, uploaded once while it stays in the LRU."""
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


def _remember_device_image(key: tuple[str, str], tensor: Any) -> None:
    global _device_bytes
    with _device_lock:
        _device_images[key] = tensor
        _device_bytes += tensor.numel()
        while _device_bytes > DEVICE_IMAGE_BYTES and len(_device_images) > 1:
            _, old = _device_images.popitem(last=False)
            _device_bytes -= old.numel()


@dataclass
class _Staging:
    host: Any  # pinned uint8 tensor, flat
    copied: Any = None  # CUDA event recorded after the last copy out of ``host``


_staging: dict[str, _Staging] = {}
_staging_lock = threading.Lock()


def _staging_buffer(device: str, nbytes: int) -> _Staging:
    """The device's pinned buffer, at least ``nbytes`` long and free to overwrite (call under the lock)."""
    import torch

    entry = _staging.get(device)
    if entry is None or entry.host.numel() < nbytes:
        # a replaced buffer still being copied from stays alive: torch's pinned allocator holds a freed
        # block until the copies recorded on it have finished
        entry = _Staging(torch.empty(nbytes, dtype=torch.uint8, pin_memory=True))
        _staging[device] = entry
    elif entry.copied is not None:
        entry.copied.synchronize()
    return entry


def upload_images(images: Sequence[np.ndarray], device: str) -> None:
    """Put every uint8 image not yet on ``device`` there with one copy through the pinned staging buffer."""
    import torch

    if device == "cpu" or not torch.cuda.is_available():
        return
    todo: dict[str, np.ndarray] = {}
    for image in images:
        key = content_id(image)
        if image.dtype == np.uint8 and (key, device) not in _device_images and key not in todo:
            todo[key] = image
    if not todo:
        return
    sources = [np.ascontiguousarray(image).reshape(-1) for image in todo.values()]
    offsets = np.cumsum([0] + [source.size for source in sources]).tolist()
    with _staging_lock:
        staging = _staging_buffer(device, offsets[-1])
        view = staging.host.numpy()

        def fill(index: int) -> None:
            view[offsets[index] : offsets[index + 1]] = sources[index]

        list(_fill_pool().map(fill, range(len(sources))))  # numpy copies release the GIL
        flat = staging.host[: offsets[-1]].to(device, non_blocking=True)
        staging.copied = torch.cuda.Event()
        staging.copied.record(torch.cuda.current_stream(flat.device))
    for index, (key, image) in enumerate(todo.items()):
        piece = flat[offsets[index] : offsets[index + 1]].view(image.shape)
        _remember_device_image((key, device), piece)


@functools.cache
def _fill_pool() -> ThreadPoolExecutor:
    return ThreadPoolExecutor(max_workers=min(8, os.cpu_count() or 1), thread_name_prefix="ieval-upload")


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


class HostCopy:
    """Outputs on their way to the host: ``result()`` waits for the copy and returns CPU tensors."""

    def __init__(self, outputs: list[Any] | None = None, host: Any = None, done: Any = None) -> None:
        self._outputs = outputs  # kept only when no copy was queued (then copied on ``result()``)
        self._host = host
        self._done = done

    def result(self) -> list[Any]:
        if self._host is None:
            return to_host(self._outputs or [])
        self._done.synchronize()
        return list(self._host)


def start_host_copy(outputs: list[Any]) -> HostCopy:
    """Queue the copy of same-shape device outputs into pinned host memory (one copy, no wait); other
    outputs are copied when ``result()`` is asked for."""
    import torch

    if (
        not outputs
        or not all(isinstance(o, torch.Tensor) and o.device.type == "cuda" for o in outputs)
        or len({(tuple(o.shape), o.dtype) for o in outputs}) != 1
    ):
        return HostCopy(outputs)
    stacked = torch.stack(outputs)
    host = torch.empty(stacked.shape, dtype=stacked.dtype, pin_memory=True)
    host.copy_(stacked, non_blocking=True)
    done = torch.cuda.Event()
    done.record(torch.cuda.current_stream(stacked.device))
    return HostCopy(host=host, done=done)  # the device outputs can be freed once the copy has run
