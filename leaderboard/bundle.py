"""Submission bundles: one zip holding a run's manifest, records and edited PNG images.

``bundle.json`` lists every other file with its sha256 and size. Opening a bundle checks each
entry before a byte reaches disk: no path traversal, no links, only the known files and PNG
images named by their pixel hash, size and pixel-count limits (decompression bombs), and hashes
that match. Every rejection is one line naming the entry and the reason.
"""

from __future__ import annotations

import hashlib
import io
import json
import re
import stat
import struct
import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image as PILImage

from harness.images import as_rgb, image_hash
from leaderboard.rundir import RUN_FILES, load_run

BUNDLE_FORMAT = "ieval-bundle"
BUNDLE_VERSION = 1
INDEX_NAME = "bundle.json"
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
IMAGE_NAME = re.compile(r"^images/([0-9a-f]{2})/([0-9a-f]{64})\.png$")


class BundleError(ValueError):
    """A bundle that cannot be accepted; the message is one line naming the problem."""


@dataclass(frozen=True)
class BundleLimits:
    max_entries: int = 200_000
    max_record_bytes: int = 512 * 1024 * 1024
    max_image_bytes: int = 32 * 1024 * 1024
    max_total_bytes: int = 8 * 1024 * 1024 * 1024
    max_image_pixels: int = 4096 * 4096


@dataclass(frozen=True)
class BundleSummary:
    path: Path
    files: int
    images: int
    bytes: int


def pack_bundle(run_dir: str | Path, out: str | Path) -> BundleSummary:
    """Zip the run's manifest, records and edited + trace images (PNG) with a sha256 index."""
    run = load_run(run_dir)
    hashes: set[str] = set()
    for edit in run.edits:
        if edit.edited_hash:
            hashes.add(edit.edited_hash)
        hashes.update(step.image_hash for step in edit.trace if step.image_hash)
    contents: dict[str, bytes] = {}
    for name in RUN_FILES:
        path = run.root / name
        contents[name] = path.read_bytes() if path.exists() else b""
    for digest in sorted(hashes):
        path = run.images.path(digest)
        if not path.is_file():
            raise BundleError(
                f"{run.root}: image {digest[:12]}… named in edits.jsonl is missing from images/"
            )
        contents[f"images/{digest[:2]}/{digest}.png"] = path.read_bytes()
    index = {
        "format": BUNDLE_FORMAT,
        "version": BUNDLE_VERSION,
        "run_id": run.run_id,
        "files": {name: {"sha256": _sha256(data), "size": len(data)} for name, data in contents.items()},
    }
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_suffix(out.suffix + ".tmp")
    with zipfile.ZipFile(tmp, "w") as archive:
        archive.writestr(INDEX_NAME, json.dumps(index, indent=1, sort_keys=True), zipfile.ZIP_DEFLATED)
        for name, data in contents.items():
            method = zipfile.ZIP_STORED if name.endswith(".png") else zipfile.ZIP_DEFLATED
            archive.writestr(name, data, method)
    tmp.replace(out)
    return BundleSummary(out, len(contents) + 1, len(hashes), out.stat().st_size)


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def extract_bundle(bundle: str | Path, dest: str | Path, limits: BundleLimits = BundleLimits()) -> Path:
    """Check every entry of ``bundle`` and write it as a run directory under ``dest``."""
    bundle = Path(bundle)
    if not bundle.is_file():
        raise BundleError(f"{bundle}: no such file; make one with 'ieval submit --run DIR --out BUNDLE.zip'")
    try:
        archive = zipfile.ZipFile(bundle)
    except (zipfile.BadZipFile, OSError) as exc:
        raise BundleError(f"{bundle}: not a zip bundle ({exc})") from exc
    with archive:
        contents = _read_checked(archive, limits)
    index = _parse_index(contents.pop(INDEX_NAME, None))
    listed = index["files"]
    for name in sorted(set(contents) | set(listed)):
        if name not in contents:
            raise BundleError(f"bundle rejected: '{name}' is listed in {INDEX_NAME} but missing")
        if name not in listed:
            raise BundleError(f"bundle rejected: '{name}' is not listed in {INDEX_NAME}")
        if _sha256(contents[name]) != listed[name].get("sha256"):
            raise BundleError(f"bundle rejected: '{name}' does not match its sha256 in {INDEX_NAME}")
    for name in RUN_FILES:
        if name not in contents:
            raise BundleError(f"bundle rejected: '{name}' is missing")
    dest = Path(dest)
    for name, data in contents.items():
        target = dest / name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)
    return dest


def _read_checked(archive: zipfile.ZipFile, limits: BundleLimits) -> dict[str, bytes]:
    infos = archive.infolist()
    if len(infos) > limits.max_entries:
        raise BundleError(f"bundle rejected: {len(infos)} entries exceed the limit of {limits.max_entries}")
    contents: dict[str, bytes] = {}
    total = 0
    for info in infos:
        name = info.filename
        _check_name(name)
        mode = info.external_attr >> 16
        if stat.S_ISLNK(mode):
            raise BundleError(f"bundle rejected: entry '{name}' is a symbolic link")
        if info.is_dir():
            continue
        if name in contents:
            raise BundleError(f"bundle rejected: entry '{name}' appears twice")
        is_image = IMAGE_NAME.match(name) is not None
        if not is_image and name not in RUN_FILES and name != INDEX_NAME:
            if name.startswith("images/"):
                raise BundleError(f"bundle rejected: '{name}' is not a PNG named images/ab/<sha256>.png")
            raise BundleError(
                f"bundle rejected: unexpected file '{name}' (only the manifest, records and PNG images)"
            )
        limit = limits.max_image_bytes if is_image else limits.max_record_bytes
        if info.file_size > limit:
            raise BundleError(
                f"bundle rejected: '{name}' is {info.file_size} bytes, over the {limit}-byte limit"
            )
        with archive.open(info) as handle:
            data = handle.read(limit + 1)
        if len(data) > limit:
            raise BundleError(f"bundle rejected: '{name}' unpacks past the {limit}-byte limit")
        total += len(data)
        if total > limits.max_total_bytes:
            raise BundleError(f"bundle rejected: contents exceed the {limits.max_total_bytes}-byte limit")
        if is_image:
            _check_png(name, data, limits)
        contents[name] = data
    return contents


def _check_name(name: str) -> None:
    parts = name.rstrip("/").split("/")
    if (
        not name
        or name.startswith("/")
        or "\\" in name
        or ":" in name
        or any(part in ("", ".", "..") for part in parts)
    ):
        raise BundleError(
            f"bundle rejected: entry '{name}' escapes the bundle or is not a plain relative path"
        )


def _check_png(name: str, data: bytes, limits: BundleLimits) -> None:
    if not data.startswith(PNG_SIGNATURE) or data[12:16] != b"IHDR" or len(data) < 24:
        raise BundleError(f"bundle rejected: '{name}' is not a PNG file")
    width, height = struct.unpack(">II", data[16:24])  # read before any decoder sees the pixels
    if width * height > limits.max_image_pixels:
        raise BundleError(
            f"bundle rejected: '{name}' is {width}x{height} pixels, over the "
            f"{limits.max_image_pixels}-pixel limit (decompression bomb guard)"
        )
    try:
        with PILImage.open(io.BytesIO(data)) as img:
            if img.format != "PNG":
                raise BundleError(f"bundle rejected: '{name}' is not a PNG file")
            img.load()
            array = _pixels(img)
    except BundleError:
        raise
    except Exception as exc:
        raise BundleError(f"bundle rejected: '{name}' is not a decodable PNG ({type(exc).__name__})") from exc
    digest = IMAGE_NAME.match(name).group(2)  # type: ignore[union-attr]
    if image_hash(array) != digest:
        raise BundleError(f"bundle rejected: '{name}' pixels do not match the sha256 in its name")


def _pixels(img: PILImage.Image) -> np.ndarray:
    array = np.asarray(img)
    return array if array.ndim == 2 else as_rgb(array)


def _parse_index(data: bytes | None) -> dict:
    if data is None:
        raise BundleError(f"bundle rejected: no {INDEX_NAME}; make bundles with 'ieval submit'")
    try:
        index = json.loads(data)
    except ValueError as exc:
        raise BundleError(f"bundle rejected: {INDEX_NAME} is not valid JSON") from exc
    if not isinstance(index, dict) or index.get("format") != BUNDLE_FORMAT:
        raise BundleError(f"bundle rejected: {INDEX_NAME} is not an {BUNDLE_FORMAT} index")
    if index.get("version") != BUNDLE_VERSION:
        raise BundleError(
            f"bundle rejected: bundle version {index.get('version')!r}, expected {BUNDLE_VERSION}"
        )
    if not isinstance(index.get("files"), dict):
        raise BundleError(f"bundle rejected: {INDEX_NAME} has no 'files' table")
    return index
