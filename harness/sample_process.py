"""Generate a suite's samples in a separate process, so rendering and PNG encoding run on
another core while the main process edits and scores.

The child rebuilds the suite from its registry name and options (nothing live is pickled), writes
each sample's images into the run's content-addressed store, and sends the samples back through
a bounded queue (backpressure). It exits when its parent is gone, so a ``kill -9`` of the run
leaves nothing behind.
"""

from __future__ import annotations

import multiprocessing
import os
import queue
import sys
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from harness.types import InvalidSample, Sample

_POLL_SECONDS = 0.5


def _produce(name: str, options: dict[str, Any], split: str, limit: int | None, store_root: str,
             items: Any, suite: Any = None) -> None:  # fmt: skip
    from harness import registry
    from harness.images import ImageStore

    parent = os.getppid()
    store = ImageStore(store_root)

    def send(message: tuple[str, Any]) -> None:
        while True:
            try:
                items.put(message, timeout=_POLL_SECONDS)
                return
            except queue.Full:
                if os.getppid() != parent:  # the run is gone: exit without flushing to a pipe nobody reads
                    items.cancel_join_thread()
                    os._exit(0)

    try:
        if suite is None:
            suite = registry.suites.create(name, **options)
        for sample in suite.samples(split, limit=limit):
            if isinstance(sample, Sample):
                store.put(sample.source)
                if sample.target is not None:
                    store.put(sample.target)
                if sample.mask is not None:
                    store.put(sample.mask.astype("uint8") * 255)
            send(("sample", sample))
        send(("end", None))
    except BaseException as exc:  # reported to the parent, which records it
        send(("error", f"{type(exc).__name__}: {exc}"))


class SampleGenerationError(RuntimeError):
    """The suite raised in the generating process."""


def _start_method() -> str:
    """``fork`` starts at once and inherits the imported suite; it is used only on Linux and only
    while torch is not loaded (its thread pools do not survive a fork). Otherwise ``spawn``."""
    if sys.platform.startswith("linux") and "torch" not in sys.modules:
        return "fork"
    return "spawn"


def generated_in_process(
    name: str,
    options: dict[str, Any],
    split: str,
    limit: int | None,
    store_root: Path,
    depth: int,
    suite: Any = None,
) -> Iterator[Sample | InvalidSample]:
    method = _start_method()
    context = multiprocessing.get_context(method)
    items = context.Queue(maxsize=max(1, depth))
    inherited = suite if method == "fork" else None
    process = context.Process(
        target=_produce, args=(name, options, split, limit, str(store_root), items, inherited), daemon=True
    )
    with warnings.catch_warnings():
        # the only other thread at this point draws the progress bar; the child never touches it
        warnings.filterwarnings("ignore", message=".*fork.*", category=DeprecationWarning)
        process.start()
    try:
        while True:
            try:
                kind, payload = items.get(timeout=_POLL_SECONDS)
            except queue.Empty:
                if not process.is_alive():
                    raise SampleGenerationError(
                        f"the sample generator for {name} exited with code {process.exitcode}"
                    ) from None
                continue
            if kind == "end":
                return
            if kind == "error":
                raise SampleGenerationError(payload)
            yield payload
    finally:
        if process.is_alive():
            process.terminate()
        process.join(timeout=5)
