"""Where learned-metric weights come from: a model id or local path, a weights directory, the usual caches.

One process-wide ``WeightsConfig`` that the CLI (``--weights-dir``, ``--allow-random-weights``) or a
Python caller sets through ``configure``; metrics never read settings from the environment themselves
except through ``WeightsConfig.from_env`` (``IEVAL_WEIGHTS_DIR``, ``HF_HUB_OFFLINE``).

A resolver answers with a ``WeightsSource``: a local file or directory, a hub id to download (online
only), or "random" when weights are missing and random weights are allowed (values tagged ``smoke``).
When weights are missing and random weights are not allowed, ``MissingWeightsError`` carries one line:
what is missing and how to provide it.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Literal


class MissingWeightsError(RuntimeError):
    """Weights a metric needs are not on this machine (message: what and how to provide it)."""


@dataclass(frozen=True)
class WeightsConfig:
    weights_dir: Path | None = None
    allow_random: bool = False
    offline: bool = True
    device: str | None = None  # None: cuda when available, else cpu
    batch_size: int = 32
    mixed_precision: bool = True  # fp16 autocast on CUDA

    @classmethod
    def from_env(cls) -> WeightsConfig:
        raw_dir = os.environ.get("IEVAL_WEIGHTS_DIR")
        # Network downloads are opt-in: the default is offline unless HF_HUB_OFFLINE=0 is set.
        offline = os.environ.get("HF_HUB_OFFLINE", "1").strip().lower() not in ("0", "false", "no")
        return cls(weights_dir=Path(raw_dir).expanduser() if raw_dir else None, offline=offline)


_config: WeightsConfig | None = None


def current() -> WeightsConfig:
    global _config
    if _config is None:
        _config = WeightsConfig.from_env()
    return _config


def configure(**changes: object) -> WeightsConfig:
    """Set process-wide options, e.g. ``configure(weights_dir="/models", allow_random=True)``."""
    global _config
    base = current()
    if "weights_dir" in changes and changes["weights_dir"] is not None:
        changes["weights_dir"] = Path(str(changes["weights_dir"])).expanduser()
    _config = replace(base, **changes)  # type: ignore[arg-type]
    return _config


def reset() -> None:
    """Forget configured options (next ``current()`` re-reads the environment)."""
    global _config
    _config = None


@dataclass(frozen=True)
class WeightsSource:
    kind: Literal["file", "dir", "hub", "random"]
    location: str = ""

    @property
    def smoke(self) -> bool:
        return self.kind == "random"

    def describe(self) -> str:
        return "random weights (smoke)" if self.smoke else f"{self.kind}:{self.location}"


HOW_TO_PROVIDE = "put them under --weights-dir / IEVAL_WEIGHTS_DIR or in HF_HOME / TORCH_HOME (HF_HUB_OFFLINE=0 downloads them)"


def _random_or_missing(what: str, expected: Iterable[Path | str], config: WeightsConfig) -> WeightsSource:
    if config.allow_random:
        return WeightsSource("random")
    places = ", ".join(str(p) for p in list(expected)[:3])
    hint = f" (looked in {places})" if places else ""
    raise MissingWeightsError(
        f"missing weights for {what}{hint}: {HOW_TO_PROVIDE}, or pass --allow-random-weights for a smoke run"
    )


def _weights_roots(config: WeightsConfig) -> list[Path]:
    return [config.weights_dir] if config.weights_dir else []


def hf_cache_has(repo_id: str, filename: str = "config.json") -> str | None:
    """Path of ``filename`` of ``repo_id`` in the Hugging Face cache, without touching the network."""
    try:
        from huggingface_hub import try_to_load_from_cache
    except ImportError:
        return None
    try:
        found = try_to_load_from_cache(repo_id, filename)
    except ValueError:  # not a valid repo id (e.g. a local path that does not exist)
        return None
    return found if isinstance(found, str) else None


HF_WEIGHT_FILES = ("model.safetensors", "pytorch_model.bin", "model.safetensors.index.json")


def resolve_hf_model(repo_or_path: str, config: WeightsConfig | None = None) -> WeightsSource:
    """A transformers model: a local directory, ``weights_dir/<id>`` or ``<name>``, the HF cache, or the hub."""
    config = config or current()
    candidates: list[Path] = [Path(repo_or_path).expanduser()]
    for root in _weights_roots(config):
        candidates += [root / repo_or_path, root / repo_or_path.split("/")[-1]]
    for path in candidates:
        if (path / "config.json").is_file():
            if any((path / name).is_file() for name in HF_WEIGHT_FILES):
                return WeightsSource("dir", str(path))
            if config.allow_random:  # an architecture without weights: random init from its config
                return WeightsSource("random", str(path))
            raise MissingWeightsError(f"{path} has a config.json but no weights: {HOW_TO_PROVIDE}")
    if hf_cache_has(repo_or_path):
        return WeightsSource("hub", repo_or_path)
    if not config.offline:
        return WeightsSource("hub", repo_or_path)
    return _random_or_missing(repo_or_path, candidates, config)


OPEN_CLIP_FILES = ("open_clip_model.safetensors", "open_clip_pytorch_model.bin", "model.safetensors")


def resolve_open_clip(arch: str, pretrained: str, config: WeightsConfig | None = None) -> WeightsSource:
    """An open_clip checkpoint: a file path, ``weights_dir`` files, the HF / open_clip caches, or a download."""
    config = config or current()
    as_path = Path(pretrained).expanduser()
    if as_path.is_file():
        return WeightsSource("file", str(as_path))
    candidates: list[Path] = []
    for root in _weights_roots(config):
        base = root / "open_clip"
        for folder in (
            base / f"{arch}-{pretrained}",
            base / arch / pretrained,
            root / f"{arch}-{pretrained}",
        ):
            candidates += [folder / name for name in OPEN_CLIP_FILES]
        candidates += [base / f"{arch}-{pretrained}.{ext}" for ext in ("safetensors", "pt", "bin")] + [
            root / f"{arch}-{pretrained}.{ext}" for ext in ("safetensors", "pt", "bin")
        ]
    for path in candidates:
        if path.is_file():
            return WeightsSource("file", str(path))
    hub_file = _open_clip_cached_file(arch, pretrained)
    if hub_file:
        return WeightsSource("file", hub_file)
    if not config.offline:
        return WeightsSource("hub", f"{arch}/{pretrained}")
    return _random_or_missing(f"open_clip {arch} ({pretrained})", candidates, config)


def _open_clip_cached_file(arch: str, pretrained: str) -> str | None:
    try:
        from open_clip.pretrained import get_pretrained_cfg
    except ImportError:
        return None
    cfg = get_pretrained_cfg(arch, pretrained) or {}
    hub = cfg.get("hf_hub", "")
    if hub:
        repo_id, filename = os.path.split(hub)
        for name in ([filename] if filename else []) + list(OPEN_CLIP_FILES):
            found = hf_cache_has(repo_id, name)
            if found:
                return found
    url = cfg.get("url", "")
    if url:
        cached = Path(os.path.expanduser("~/.cache/clip")) / os.path.basename(url)
        if cached.is_file():
            return str(cached)
    return None


TORCHVISION_FILES = {
    "alex": "alexnet-owt-7be5be79.pth",
    "vgg": "vgg16-397923af.pth",
    "squeeze": "squeezenet1_1-b8a52dc0.pth",
}


def resolve_torchvision_backbone(net: str, config: WeightsConfig | None = None) -> WeightsSource:
    """The ImageNet backbone LPIPS needs (the ``lpips`` package ships only its linear heads)."""
    config = config or current()
    filename = TORCHVISION_FILES[net]
    candidates: list[Path] = []
    for root in _weights_roots(config):
        candidates += [root / "torchvision" / filename, root / filename]
    torch_home = Path(os.environ.get("TORCH_HOME", os.path.expanduser("~/.cache/torch")))
    candidates.append(torch_home / "hub" / "checkpoints" / filename)
    for path in candidates:
        if path.is_file():
            return WeightsSource("file", str(path))
    if not config.offline:
        return WeightsSource("hub", filename)
    return _random_or_missing(f"the torchvision {net} backbone of LPIPS ({filename})", candidates, config)
