"""Sample GRPO completions with the LoRA adapter merged into the base weights.

With the adapter kept apart, every adapted linear layer runs three more small matrix products per
decoded token than the base layer alone; for a small policy the decoding loop is bound by kernel
launches, and generation is most of a GRPO step (docs/PERFORMANCE.md, "GRPO training step").
Merging folds the adapter into each base weight (``W + s * B @ A``) for the generation, so decoding
runs the base model's kernels only.

Afterwards the adapter is unmerged and every base weight is overwritten with the copy taken before
the first merge, so the frozen base stays bit-identical across steps (unmerging alone subtracts in
floating point and would let rounding accumulate over a run). The merged and unmerged policies
compute the same function up to floating-point rounding; sampling from them can differ only where
that rounding tips a draw. The log-probabilities the loss uses are computed after the restore, by
the unmerged model, as without this option.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any


def sharded_training() -> str | None:
    """The sharding scheme ``accelerate launch`` set up for this process (``FSDP`` or
    ``DeepSpeed``), or None. Merging needs each process to hold whole weights, which sharding
    does not give outside trl's own gathering."""
    for variable, name in (("ACCELERATE_USE_FSDP", "FSDP"), ("ACCELERATE_USE_DEEPSPEED", "DeepSpeed")):
        if os.environ.get(variable, "").lower() in ("1", "true", "yes"):
            return name
    return None


def merged_sampling_problem() -> str | None:
    """Why merged sampling cannot run in this process, or None."""
    scheme = sharded_training()
    if scheme:
        return (
            f"merged sampling needs whole weights in every process; it cannot run under {scheme} "
            "(use DDP, or --no-merged-sampling / --no-grpo-merged-sampling)"
        )
    return None


def lora_base_layers(model: Any) -> dict[str, Any]:
    """name -> the base linear layer of every LoRA-adapted module of ``model`` (empty for a model
    without adapters)."""
    found = {}
    for name, module in model.named_modules():
        if hasattr(module, "lora_A") and hasattr(module, "get_base_layer"):
            found[name] = module.get_base_layer()
    return found


class MergedSampling:
    """A reusable context: inside it, the model's active adapter is merged into its base weights.

    The base weights' copies are taken once, on first use (the base is frozen during training)."""

    def __init__(self, model: Any) -> None:
        self.model = model
        self.layers = lora_base_layers(model)
        self._pristine: dict[str, Any] | None = None
        self.merges = 0  # how many generations ran merged

    @property
    def active(self) -> bool:
        return bool(self.layers)

    @contextmanager
    def merged(self) -> Iterator[None]:
        if not self.active:
            yield
            return
        import torch

        tuner = self.model.base_model  # peft's LoraModel under the PeftModel
        with torch.no_grad():
            if self._pristine is None:
                self._pristine = {n: layer.weight.detach().clone() for n, layer in self.layers.items()}
            tuner.merge_adapter()
        self.merges += 1
        try:
            yield
        finally:
            with torch.no_grad():
                tuner.unmerge_adapter()
                for name, layer in self.layers.items():
                    layer.weight.copy_(self._pristine[name])
