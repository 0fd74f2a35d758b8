"""Repeatable training: deterministic kernels for the length of one training stage.

A seed fixes the data order, the noise, the LoRA initialisation and GRPO's sampling, but on a GPU
some kernels may add in an order that varies from run to run (atomic additions, for one), so two
runs of one seed can drift apart: two SFT runs of one seed on one H200 logged different losses
from step 60 (docs/PERFORMANCE.md, "Repeatable training"); which kernel does it was not isolated.
``deterministic_kernels(True)`` asks torch for deterministic implementations while a stage trains
and gives the process its previous settings back afterwards:

- ``torch.use_deterministic_algorithms(True)``: an operation with no deterministic implementation
  raises, naming itself, instead of running nondeterministically;
- ``CUBLAS_WORKSPACE_CONFIG``, which cuBLAS needs for repeatable results (a value already set is
  kept); it must be set before the process first uses cuBLAS, which the training commands do;
- cuDNN without autotuning.

Repeatable means: the same code, data, seed, GPU model and software stack. A different GPU or
library version may choose other kernels and give other (equally valid) numbers. The cost on the
GPU is measured by ``bench/r1_repeatability.py`` (docs/PERFORMANCE.md).
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from importlib import metadata
from typing import Any

CUBLAS_VARIABLE = "CUBLAS_WORKSPACE_CONFIG"
CUBLAS_WORKSPACE = ":4096:8"  # one of the two settings cuBLAS documents as reproducible


def prepare_environment(enabled: bool) -> None:
    """Set the cuBLAS workspace before anything touches CUDA (a command's first step)."""
    if enabled:
        os.environ.setdefault(CUBLAS_VARIABLE, CUBLAS_WORKSPACE)


def describe_stack() -> dict[str, Any]:
    """What a rerun has to match to repeat a run: the code, the packages (with the training ones
    the harness manifest leaves out), the GPU and its CUDA and cuDNN versions."""
    from harness.manifest import code_version, device_info, package_versions

    packages = package_versions()
    for name in ("peft", "accelerate"):
        try:
            packages[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            continue
    info: dict[str, Any] = {"code": code_version(), "packages": packages, "device": device_info()}
    torch = sys.modules.get("torch")  # loaded by the training that calls this
    if torch is not None and torch.cuda.is_available():
        info["device"]["cudnn"] = torch.backends.cudnn.version()
    return info


@contextmanager
def deterministic_kernels(enabled: bool) -> Iterator[None]:
    """Deterministic kernels inside the block when ``enabled``; the previous settings after it."""
    if not enabled:
        yield
        return
    import torch

    previous = (
        torch.are_deterministic_algorithms_enabled(),
        torch.is_deterministic_algorithms_warn_only_enabled(),
        torch.backends.cudnn.benchmark,
        torch.backends.cudnn.deterministic,
        os.environ.get(CUBLAS_VARIABLE),
    )
    prepare_environment(True)
    torch.use_deterministic_algorithms(True)
    torch.backends.cudnn.benchmark = False
    torch.backends.cudnn.deterministic = True
    try:
        yield
    finally:
        algorithms, warn_only, benchmark, cudnn_deterministic, cublas = previous
        torch.use_deterministic_algorithms(algorithms, warn_only=warn_only)
        torch.backends.cudnn.benchmark = benchmark
        torch.backends.cudnn.deterministic = cudnn_deterministic
        if cublas is None:
            os.environ.pop(CUBLAS_VARIABLE, None)
        else:
            os.environ[CUBLAS_VARIABLE] = cublas
