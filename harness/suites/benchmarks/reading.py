"""Reading upstream files: tables through ``datasets`` (streaming, images left undecoded), JSON,
image fields and masks, each failure turned into a ``SampleError`` that names the field."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image as PILImage

from harness.images import decode_image, decode_mask
from harness.suites.benchmarks.base import DataError, SampleError
from harness.types import Image, Mask

TABLE_BUILDERS = {".parquet": "parquet", ".arrow": "arrow", ".jsonl": "json", ".json": "json"}


def table_files(folder: Path, patterns: Sequence[str]) -> list[Path]:
    """Files under ``folder`` matching any pattern, sorted, without duplicates."""
    found = sorted({path for pattern in patterns for path in folder.glob(pattern) if path.is_file()})
    if not found:
        raise DataError(f"no files matching {', '.join(patterns)} under {folder}")
    return found


def stream_table(files: Sequence[Path]) -> Iterator[dict[str, Any]]:
    """Rows of parquet/arrow/jsonl files via ``datasets`` in streaming mode; Image columns stay
    ``{"bytes", "path"}`` dicts so one bad image cannot stop the stream."""
    try:
        import datasets
    except ImportError as exc:
        raise DataError(
            "reading benchmark tables needs the 'datasets' package: pip install datasets"
        ) from exc
    suffixes = {path.suffix for path in files}
    if len(suffixes) != 1 or next(iter(suffixes)) not in TABLE_BUILDERS:
        raise DataError(f"cannot read a table from files with suffixes {sorted(suffixes)}")
    builder = TABLE_BUILDERS[next(iter(suffixes))]
    try:
        table = datasets.load_dataset(
            builder, data_files={"rows": [str(p) for p in files]}, split="rows", streaming=True
        ).decode(False)
        yield from table
    except (OSError, ValueError, datasets.exceptions.DatasetGenerationError) as exc:
        raise DataError(f"cannot read {files[0].parent}: {type(exc).__name__}: {exc}") from exc


def read_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise DataError(f"missing file {path}") from exc
    except json.JSONDecodeError as exc:
        raise DataError(f"{path} is not valid JSON: {exc}") from exc


def require(fields: Mapping[str, Any], key: str) -> Any:
    value = fields.get(key)
    if value is None or (isinstance(value, str) and not value.strip()):
        raise SampleError(f"missing field '{key}'")
    return value


def image_field(value: Any, what: str, base: Path | None = None) -> Image:
    """An image from a table cell ({"bytes", "path"} dict or raw bytes) or a path relative to ``base``."""
    return decode_image(_bytes_of(value, what, base), what=what)


def mask_field(value: Any, what: str, shape: tuple[int, int], base: Path | None = None) -> Mask:
    """A mask from a table cell or path: transparent pixels mark the edit region when the image has a
    non-opaque alpha channel (the DALL-E 2 edit-mask convention), else bright pixels (> 127) do."""
    data = _bytes_of(value, what, base)
    mask = _alpha_mask(data)
    if mask is None:
        mask = decode_mask(data, what=what)
    if mask.shape != tuple(shape):
        raise SampleError(f"{what} is {mask.shape[1]}x{mask.shape[0]}, the image is {shape[1]}x{shape[0]}")
    return mask


def _alpha_mask(data: bytes) -> Mask | None:
    try:
        with PILImage.open(io.BytesIO(data)) as img:
            if img.mode not in ("RGBA", "LA", "PA") and "transparency" not in img.info:
                return None
            alpha = np.asarray(img.convert("RGBA"))[:, :, 3]
    except Exception:
        return None  # decode_mask reports undecodable bytes
    return alpha < 128 if alpha.min() < 255 else None


def _bytes_of(value: Any, what: str, base: Path | None) -> bytes:
    if value is None:
        raise SampleError(f"missing field '{what}'")
    if isinstance(value, Mapping):
        if value.get("bytes"):
            return bytes(value["bytes"])
        value = value.get("path")
        if not value:
            raise SampleError(f"missing field '{what}'")
    if isinstance(value, bytes | bytearray):
        return bytes(value)
    if isinstance(value, str):
        path = (base / value) if base is not None else Path(value)
        try:
            return path.read_bytes()
        except OSError as exc:
            raise SampleError(f"{what}: cannot read {path} ({exc.strerror or exc})") from exc
    raise SampleError(f"{what}: unsupported value of type {type(value).__name__}")


def same_size(image: Image, other: Image, what: str) -> None:
    if image.shape[:2] != other.shape[:2]:
        raise SampleError(
            f"{what} is {other.shape[1]}x{other.shape[0]}, the source is {image.shape[1]}x{image.shape[0]}"
        )


def bool_field(value: Any) -> bool:
    if isinstance(value, str):
        return value.strip().lower() in ("true", "1", "yes")
    return bool(value) and not (isinstance(value, float) and np.isnan(value))
