"""Bundles: a faithful round trip, and one clear line for each kind of hostile archive."""

from __future__ import annotations

import hashlib
import io
import json
import stat
import struct
import zipfile
import zlib

import numpy as np
import pytest

from harness.images import encode_png, image_hash
from leaderboard.bundle import BundleError, BundleLimits, extract_bundle, pack_bundle
from leaderboard.rundir import RUN_FILES


def test_pack_then_extract_gives_back_the_run(run_dir, tmp_path):
    summary = pack_bundle(run_dir, tmp_path / "b.zip")
    edits = [json.loads(line) for line in (run_dir / "edits.jsonl").read_text().splitlines()]
    wanted = {e["edited_hash"] for e in edits if e["edited_hash"]}
    wanted |= {s["image_hash"] for e in edits for s in e["trace"] if s["image_hash"]}
    assert summary.images == len(wanted)
    with zipfile.ZipFile(summary.path) as archive:
        names = archive.namelist()
    assert all(n.endswith(".png") or n in (*RUN_FILES, "bundle.json") for n in names)
    assert not any(n.endswith((".pkl", ".py", ".pt")) for n in names)
    out = extract_bundle(summary.path, tmp_path / "x")
    for name in RUN_FILES:
        assert (out / name).read_bytes() == (run_dir / name).read_bytes()
    for digest in wanted:
        assert (out / "images" / digest[:2] / f"{digest}.png").read_bytes() == (
            run_dir / "images" / digest[:2] / f"{digest}.png"
        ).read_bytes()


def good_png() -> tuple[str, bytes]:
    image = np.arange(4 * 5 * 3, dtype=np.uint8).reshape(4, 5, 3)
    digest = image_hash(image)
    return f"images/{digest[:2]}/{digest}.png", encode_png(image)


def write_zip(path, entries: dict[str, bytes], *, index: bool = True, symlinks: tuple[str, ...] = ()) -> None:
    """A bundle whose bundle.json is consistent with ``entries`` (so only the planted flaw fails)."""
    base = {name: b"" for name in RUN_FILES}
    base["manifest.json"] = b"{}"
    base.update(entries)
    with zipfile.ZipFile(path, "w") as archive:
        if index:
            files = {n: {"sha256": hashlib.sha256(d).hexdigest(), "size": len(d)} for n, d in base.items()}
            archive.writestr(
                "bundle.json", json.dumps({"format": "ieval-bundle", "version": 1, "files": files})
            )
        for name, data in base.items():
            info = zipfile.ZipInfo(name)
            if name in symlinks:
                info.external_attr = (stat.S_IFLNK | 0o777) << 16
            archive.writestr(info, data)


def bomb_png(width: int, height: int) -> bytes:
    """A tiny PNG whose header claims a huge image (its IDAT is a few bytes of zlib)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data))
            + kind
            + data
            + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
        )

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(b"\0" * 64))
        + chunk(b"IEND", b"")
    )


def rejection(tmp_path, entries, limits=BundleLimits(), **kwargs) -> str:
    path = tmp_path / "bad.zip"
    write_zip(path, entries, **kwargs)
    with pytest.raises(BundleError) as info:
        extract_bundle(path, tmp_path / "out", limits)
    message = str(info.value)
    assert "\n" not in message
    assert not (tmp_path / "out").exists()  # nothing reached disk
    return message


def test_a_consistent_minimal_bundle_is_accepted(tmp_path):
    name, data = good_png()
    write_zip(tmp_path / "ok.zip", {name: data})
    out = extract_bundle(tmp_path / "ok.zip", tmp_path / "out")
    assert (out / name).read_bytes() == data


def test_path_traversal_is_rejected(tmp_path):
    assert "'../evil.txt' escapes the bundle" in rejection(tmp_path, {"../evil.txt": b"x"})
    assert "escapes the bundle" in rejection(tmp_path, {"images/../../evil.png": b"x"})
    assert "escapes the bundle" in rejection(tmp_path, {"/etc/cron.d/x": b"x"})


def test_symlinks_are_rejected(tmp_path):
    name, _ = good_png()
    message = rejection(tmp_path, {name: b"/etc/passwd"}, symlinks=(name,))
    assert message == f"bundle rejected: entry '{name}' is a symbolic link"


def test_non_png_images_are_rejected(tmp_path):
    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", (4, 4)).save(buffer, format="JPEG")
    name, _ = good_png()
    assert f"'{name}' is not a PNG file" in rejection(tmp_path, {name: buffer.getvalue()})
    assert "is not a PNG named images/ab/<sha256>.png" in rejection(tmp_path, {"images/ab/cat.jpg": b"x"})


def test_code_and_pickles_are_rejected(tmp_path):
    assert "unexpected file 'model.pkl'" in rejection(tmp_path, {"model.pkl": b"\x80\x04."})
    assert "unexpected file 'editor.py'" in rejection(tmp_path, {"editor.py": b"import os"})


def test_oversize_files_are_rejected(tmp_path):
    limits = BundleLimits(max_record_bytes=1000, max_image_bytes=50)
    message = rejection(tmp_path, {"records.jsonl": b"x" * 2000}, limits)
    assert message == "bundle rejected: 'records.jsonl' is 2000 bytes, over the 1000-byte limit"
    name, data = good_png()
    assert "over the 50-byte limit" in rejection(tmp_path, {name: data}, limits)


def test_decompression_bomb_images_are_rejected(tmp_path):
    data = bomb_png(50_000, 50_000)
    assert len(data) < 200
    digest = "ab" * 32
    message = rejection(tmp_path, {f"images/ab/{digest}.png": data})
    assert "50000x50000 pixels" in message and "decompression bomb" in message


def test_hash_mismatches_are_rejected(tmp_path):
    name, data = good_png()
    path = tmp_path / "bad.zip"
    write_zip(path, {name: data})
    with zipfile.ZipFile(path) as archive:
        contents = {n: archive.read(n) for n in archive.namelist()}
    contents["records.jsonl"] = b'{"changed": true}\n'  # after bundle.json was written
    with zipfile.ZipFile(path, "w") as archive:
        for n, d in contents.items():
            archive.writestr(n, d)
    with pytest.raises(BundleError, match="'records.jsonl' does not match its sha256"):
        extract_bundle(path, tmp_path / "out")
    other = np.zeros((4, 5, 3), dtype=np.uint8)
    wrong_name = f"images/{name[7:9]}/{name[10:]}"
    assert "pixels do not match" in rejection(tmp_path, {wrong_name: encode_png(other)})


def test_missing_index_and_non_zip_are_rejected(tmp_path):
    assert "no bundle.json" in rejection(tmp_path, {}, index=False)
    (tmp_path / "x.zip").write_bytes(b"not a zip")
    with pytest.raises(BundleError, match="not a zip bundle"):
        extract_bundle(tmp_path / "x.zip", tmp_path / "out")
