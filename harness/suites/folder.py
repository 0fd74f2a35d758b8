"""A suite from a folder the user provides: images plus ``samples.jsonl``.

Each line of ``samples.jsonl`` is one sample::

    {"id": "cat-001", "instruction": "make the cat black", "source": "src/cat-001.png",
     "target": "tgt/cat-001.png", "mask": "mask/cat-001.png", "turns": [], "category": "recolor",
     "level": "L1", "language": "en", "captions": {"output": "a black cat"}, "metadata": {}}

Only ``id``, ``instruction`` and ``source`` are required; paths are relative to the folder. A line
that cannot be loaded (bad JSON, missing field, unreadable or corrupt image, mask of the wrong
size) becomes an ``InvalidSample`` naming the sample and the path, and the rest still run.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from harness.fingerprint import file_sha256
from harness.images import ImageDecodeError, decode_mask, load_image
from harness.types import InvalidSample, Sample

SAMPLES_FILE = "samples.jsonl"


class FolderSuite:
    name = "folder"
    requires_arg = True
    version = "1"
    splits = ("all",)
    default_metrics = ("l1", "l2", "psnr", "ssim", "preserve_psnr", "preserve_ssim", "edit_region_psnr")

    def __init__(self, arg: str | None = None, **_: Any) -> None:
        if not arg:
            raise ValueError("the folder suite needs a path: --suite folder:PATH")
        self.root = Path(arg).expanduser()
        self.name = f"folder:{self.root.name}"

    @classmethod
    def unavailable_reason(cls, arg: str | None = None) -> str | None:
        if not arg:
            return "needs a folder: use 'folder:PATH' (a directory with samples.jsonl and images)"
        if not (Path(arg).expanduser() / SAMPLES_FILE).is_file():
            return f"{Path(arg) / SAMPLES_FILE} not found"
        return None

    def fingerprint(self) -> dict[str, Any]:
        return {
            "name": "folder",
            "version": self.version,
            "root": str(self.root.resolve()),
            "samples_sha256": file_sha256(str(self.root / SAMPLES_FILE)),
        }

    def samples(self, split: str = "all", limit: int | None = None) -> Iterator[Sample | InvalidSample]:
        count = 0
        with open(self.root / SAMPLES_FILE, encoding="utf-8") as handle:
            for line_no, line in enumerate(handle, start=1):
                if not line.strip():
                    continue
                if limit is not None and count >= limit:
                    return
                count += 1
                yield self._load(line, line_no)

    def _load(self, line: str, line_no: int) -> Sample | InvalidSample:
        try:
            row = json.loads(line)
        except ValueError as exc:
            return InvalidSample(f"line-{line_no}", f"{SAMPLES_FILE} line {line_no}: invalid JSON ({exc})")
        sample_id = str(row.get("id") or f"line-{line_no}")
        missing = [key for key in ("id", "instruction", "source") if not row.get(key)]
        if missing:
            return InvalidSample(sample_id, f"{SAMPLES_FILE} line {line_no}: missing {', '.join(missing)}")
        try:
            source = load_image(self.root / row["source"])
            target = load_image(self.root / row["target"]) if row.get("target") else None
            mask = None
            if row.get("mask"):
                mask_path = self.root / row["mask"]
                mask = decode_mask(mask_path.read_bytes(), what=str(mask_path))
                if mask.shape != source.shape[:2]:
                    raise ImageDecodeError(
                        f"{mask_path}: mask is {mask.shape[1]}x{mask.shape[0]}, "
                        f"source is {source.shape[1]}x{source.shape[0]}"
                    )
        except (ImageDecodeError, OSError) as exc:
            return InvalidSample(sample_id, str(exc), row.get("category", ""), row.get("level", ""))
        turns = tuple(row.get("turns") or ())
        return Sample(
            id=sample_id,
            source=source,
            instruction=str(row["instruction"]),
            turns=turns,
            mask=mask,
            target=target,
            category=str(row.get("category", "")),
            level=str(row.get("level", "")),
            language=str(row.get("language", "en")),
            captions=dict(row.get("captions") or {}),
            metadata=dict(row.get("metadata") or {}),
        )
