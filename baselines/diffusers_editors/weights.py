"""Where learned weights come from: a local directory, ``$IEVAL_WEIGHTS_DIR``, or the Hugging Face
cache (``HF_HOME``). Nothing here downloads; ``missing_weights`` says what to provide.
"""

from __future__ import annotations

import os
from pathlib import Path

WEIGHTS_DIR_ENV = "IEVAL_WEIGHTS_DIR"
SMOKE_MARKER = "IEVAL_RANDOM_WEIGHTS"  # a file of this name in a model directory: weights are random


def offline() -> bool:
    return os.environ.get("HF_HUB_OFFLINE", "").strip().lower() in ("1", "true", "yes", "on")


def resolve_source(model: str) -> str:
    """A local directory for ``model`` when there is one (the path itself, or
    ``$IEVAL_WEIGHTS_DIR/<owner>--<name>`` / ``<name>``), else the hub id unchanged."""
    path = Path(model).expanduser()
    if path.is_dir():
        return str(path)
    root = os.environ.get(WEIGHTS_DIR_ENV)
    if root:
        for candidate in (model.replace("/", "--"), model.rsplit("/", 1)[-1]):
            local = Path(root).expanduser() / candidate
            if local.is_dir():
                return str(local)
    return model


def is_local(source: str) -> bool:
    return Path(source).is_dir()


def missing_weights(
    model: str, marker_file: str, revision: str | None = None, *, how: str = ""
) -> str | None:
    """None when ``marker_file`` (e.g. ``model_index.json``) of ``model`` is on this machine, else
    one line naming what is missing and how to provide it."""
    source = resolve_source(model)
    if is_local(source):
        if (Path(source) / marker_file).is_file():
            return None
        return f"{source} has no {marker_file}; point it at a complete saved model directory"
    if "/" not in model or model.startswith((".", "/", "~")):
        return f"weights directory {model} does not exist"
    try:
        from huggingface_hub import try_to_load_from_cache
    except ImportError:
        return "missing package huggingface_hub (pip install 'ieval[diffusers]')"
    found = try_to_load_from_cache(model, marker_file, revision=revision)
    if isinstance(found, str):
        return None
    hint = how or "pass a local directory instead of the hub id"
    return (
        f"weights for {model} are not in the Hugging Face cache ($HF_HOME) or ${WEIGHTS_DIR_ENV}; "
        f"run 'hf download {model}' on a connected machine and copy the cache, or {hint}"
    )


def has_smoke_marker(source: str) -> bool:
    return is_local(source) and (Path(source) / SMOKE_MARKER).exists()
