from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image


@pytest.fixture(autouse=True)
def isolated_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("IEVAL_CACHE_DIR", str(tmp_path / "cache"))


def write_folder_suite(root: Path, n: int = 6, size: int = 48) -> Path:
    """A folder suite: each target blacks out a square; the mask marks it."""
    rng = np.random.default_rng(0)
    root.mkdir(parents=True, exist_ok=True)
    rows = []
    for i in range(n):
        source = rng.integers(0, 256, (size, size, 3), dtype=np.uint8)
        target = source.copy()
        target[8:24, 8:24] = 0
        mask = np.zeros((size, size), np.uint8)
        mask[8:24, 8:24] = 255
        Image.fromarray(source).save(root / f"s{i}.png")
        Image.fromarray(target).save(root / f"t{i}.png")
        Image.fromarray(mask).save(root / f"m{i}.png")
        rows.append({"id": f"item-{i}", "instruction": "black out the top-left square", "source": f"s{i}.png",
                     "target": f"t{i}.png", "mask": f"m{i}.png", "level": "L1" if i % 2 else "L2",
                     "category": "recolor"})  # fmt: skip
    (root / "samples.jsonl").write_text("\n".join(json.dumps(r) for r in rows) + "\n")
    return root
