"""Writers for small benchmark fixtures in the upstream file formats (parquet, arrow, JSON, folders)."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image as PILImage


def image(value: int, size: tuple[int, int] = (8, 8)) -> np.ndarray:
    """A deterministic RGB test image whose pixels encode ``value``."""
    height, width = size
    ramp = (np.arange(height * width).reshape(height, width) + value) % 256
    return np.stack([ramp, np.full_like(ramp, value % 256), 255 - ramp], axis=2).astype(np.uint8)


def png(array: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    PILImage.fromarray(array).save(buffer, format="PNG")
    return buffer.getvalue()


def mask_png(mask: np.ndarray) -> bytes:
    return png(mask.astype(np.uint8) * 255)


def image_cell(data: bytes) -> dict[str, Any]:
    return {"bytes": data, "path": None}


def write_table(
    path: Path, columns: dict[str, list[Any]], image_columns: tuple[str, ...], fmt: str = "parquet"
) -> None:
    """Write ``columns`` as the Hub does: ``datasets`` features with Image columns, as parquet or arrow."""
    import datasets

    dataset = datasets.Dataset.from_dict(columns)
    for name in image_columns:
        dataset = dataset.cast_column(name, datasets.Image())
    path.parent.mkdir(parents=True, exist_ok=True)
    if fmt == "parquet":
        dataset.to_parquet(str(path))
    else:
        dataset.save_to_disk(str(path))


def write_json(path: Path, value: Any) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(value), encoding="utf-8")


def write_png(path: Path, array: np.ndarray) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(png(array))
