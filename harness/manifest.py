"""``manifest.json``: everything needed to say how a run's numbers were made."""

from __future__ import annotations

import json
import os
import platform
import subprocess
import sys
import time
from importlib import metadata
from pathlib import Path
from typing import Any

from harness import __version__
from harness.atomic import write_json
from harness.images import SIZE_POLICY

TRACKED_PACKAGES = (
    "numpy", "pillow", "scikit-image", "scipy", "pandas", "torch", "torchvision", "transformers",
    "diffusers", "trl", "datasets", "open_clip_torch", "lpips", "httpx", "ray",
)  # fmt: skip


def package_versions() -> dict[str, str]:
    versions = {}
    for name in TRACKED_PACKAGES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            continue
    return versions


def code_version() -> dict[str, str]:
    info = {"ieval": __version__}
    root = Path(__file__).resolve().parent.parent
    try:
        commit = subprocess.run(
            ["git", "-C", str(root), "rev-parse", "HEAD"], capture_output=True, text=True, timeout=5
        )
        if commit.returncode == 0:
            info["git_commit"] = commit.stdout.strip()
            dirty = subprocess.run(
                ["git", "-C", str(root), "status", "--porcelain", "--untracked-files=no"],
                capture_output=True,
                text=True,
                timeout=5,
            )
            info["git_dirty"] = "yes" if dirty.stdout.strip() else "no"
    except (OSError, subprocess.SubprocessError):
        pass
    return info


def device_info() -> dict[str, Any]:
    info: dict[str, Any] = {
        "platform": platform.platform(),
        "python": sys.version.split()[0],
        "cpu_count": os.cpu_count(),
    }
    torch = sys.modules.get("torch")  # never import torch just to describe the machine
    if torch is not None and torch.cuda.is_available():
        info["cuda"] = torch.version.cuda
        info["gpus"] = [torch.cuda.get_device_name(i) for i in range(torch.cuda.device_count())]
    return info


def build_manifest(config: dict[str, Any], fingerprints: dict[str, Any]) -> dict[str, Any]:
    return {
        "schema_version": 1,
        "created_unix": time.time(),
        "config": config,
        "code": code_version(),
        "packages": package_versions(),
        "device": device_info(),
        "fingerprints": fingerprints,
        "size_policy": SIZE_POLICY,
        "sessions": [],
    }


def write_manifest(path: Path, manifest: dict[str, Any]) -> None:
    write_json(path, manifest, indent=2, sort_keys=True, default=str)


def read_manifest(path: Path) -> dict[str, Any] | None:
    if not path.exists():
        return None
    return json.loads(path.read_text(encoding="utf-8"))
