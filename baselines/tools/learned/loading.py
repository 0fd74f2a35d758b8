"""Loading transformers models for learned tools: by hub id or local directory, offline-aware,
with a one-line reason when the weights are not on this machine."""

from __future__ import annotations

import importlib.util
from typing import Any

from baselines.diffusers_editors.weights import (
    has_smoke_marker,
    is_local,
    missing_weights,
    offline,
    resolve_source,
)


def weights_reason(model: str, tool: str) -> str | None:
    """None when ``model``'s config is on this machine; else what to provide. Looks packages up
    without importing them, so listing availability stays fast."""
    for package in ("torch", "transformers"):
        if importlib.util.find_spec(package) is None:
            return f"missing package {package} (pip install 'ieval[metrics]')"
    return missing_weights(model, "config.json", how=f"pass a local directory as the {tool} model")


def load_pretrained(
    model_cls: Any, processor_cls: Any, model: str, device: str = "auto"
) -> tuple[Any, Any, bool]:
    """(model, processor, smoke) from ``model`` (hub id or directory)."""
    import torch

    source = resolve_source(model)
    reason = weights_reason(model, model_cls.__name__)
    if reason:
        raise RuntimeError(reason)
    local_only = offline() or is_local(source)
    processor = processor_cls.from_pretrained(source, local_files_only=local_only)
    net = model_cls.from_pretrained(source, local_files_only=local_only).eval()
    target = device if device != "auto" else ("cuda" if torch.cuda.is_available() else "cpu")
    return net.to(target), processor, has_smoke_marker(source)
