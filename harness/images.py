"""Image helpers: content hashes, lossless PNG I/O and the content-addressed image store.

An image's identity is the sha256 of its decoded pixels (shape and dtype prefixed), not of a PNG
file: PNG bytes depend on the zlib build, pixels do not. See docs/ARCHITECTURE.md.
"""

from __future__ import annotations

import hashlib
import io
import os
from pathlib import Path

import numpy as np
from PIL import Image as PILImage

from harness.types import Image

PNG_COMPRESS_LEVEL = 6
MAX_IMAGE_PIXELS = 64_000_000


class ImageDecodeError(ValueError):
    """Bytes that are not a decodable image."""


def as_rgb(image: np.ndarray) -> Image:
    """uint8 HxWx3 view of any 2-D grey, RGB or RGBA array (alpha dropped)."""
    array = np.asarray(image)
    if array.dtype != np.uint8:
        if np.issubdtype(array.dtype, np.floating):
            array = np.clip(np.rint(array * 255.0), 0, 255).astype(np.uint8)
        else:
            array = np.clip(array, 0, 255).astype(np.uint8)
    if array.ndim == 2:
        array = np.repeat(array[:, :, None], 3, axis=2)
    if array.ndim != 3 or array.shape[2] not in (3, 4):
        raise ValueError(f"expected an HxW, HxWx3 or HxWx4 image, got shape {array.shape}")
    return np.ascontiguousarray(array[:, :, :3])


def image_hash(image: np.ndarray) -> str:
    array = np.ascontiguousarray(image)
    digest = hashlib.sha256(f"{array.dtype.str}{array.shape}".encode())
    digest.update(array.tobytes())
    return digest.hexdigest()


def encode_png(image: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    mode = "L" if image.ndim == 2 else None
    array = image.astype(np.uint8) * 255 if image.dtype == bool else image
    PILImage.fromarray(array, mode=mode).save(buffer, format="PNG", compress_level=PNG_COMPRESS_LEVEL)
    return buffer.getvalue()


def decode_image(data: bytes, *, what: str = "image") -> Image:
    """Decode PNG/JPEG/... bytes to RGB uint8; raise ImageDecodeError with ``what`` on failure."""
    try:
        with PILImage.open(io.BytesIO(data)) as img:
            if img.width * img.height > MAX_IMAGE_PIXELS:
                raise ImageDecodeError(f"{what}: {img.width}x{img.height} exceeds {MAX_IMAGE_PIXELS} pixels")
            img.load()
            return as_rgb(np.asarray(img.convert("RGB")))
    except ImageDecodeError:
        raise
    except Exception as exc:
        raise ImageDecodeError(f"{what}: cannot decode image ({type(exc).__name__}: {exc})") from exc


def load_image(path: str | os.PathLike[str]) -> Image:
    path = Path(path)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise ImageDecodeError(f"{path}: cannot read ({exc.strerror or exc})") from exc
    return decode_image(data, what=str(path))


def decode_mask(data: bytes, *, what: str = "mask") -> np.ndarray:
    """A mask image (any mode) to bool HxW: True where the pixel is bright (> 127)."""
    try:
        with PILImage.open(io.BytesIO(data)) as img:
            return np.asarray(img.convert("L")) > 127
    except Exception as exc:
        raise ImageDecodeError(f"{what}: cannot decode mask ({type(exc).__name__}: {exc})") from exc


def resize_to(image: Image, shape: tuple[int, int]) -> Image:
    """Resize to (H, W) with PIL's Lanczos filter: the harness's one size-mismatch rule."""
    if image.shape[:2] == tuple(shape):
        return image
    pil = PILImage.fromarray(image).resize((shape[1], shape[0]), PILImage.Resampling.LANCZOS)
    return np.asarray(pil)


SIZE_POLICY = "edited images whose size differs from the reference are resized to the reference size with PIL Lanczos before scoring"


class ImageStore:
    """Content-addressed PNG store: ``root/ab/abcdef....png`` keyed by ``image_hash``."""

    def __init__(self, root: str | os.PathLike[str]) -> None:
        self.root = Path(root)

    def path(self, digest: str) -> Path:
        return self.root / digest[:2] / f"{digest}.png"

    def has(self, digest: str) -> bool:
        return self.path(digest).exists()

    def put(self, image: np.ndarray) -> str:
        digest = image_hash(image)
        target = self.path(digest)
        if not target.exists():
            target.parent.mkdir(parents=True, exist_ok=True)
            tmp = target.with_suffix(f".tmp{os.getpid()}")
            tmp.write_bytes(encode_png(image))
            os.replace(tmp, target)
        return digest

    def get(self, digest: str) -> Image:
        with PILImage.open(self.path(digest)) as img:
            img.load()
            array = np.asarray(img)
        return array if array.ndim == 2 else as_rgb(array)

    def copy_from(self, other: ImageStore, digest: str) -> None:
        if self.has(digest):
            return
        target = self.path(digest)
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = target.with_suffix(f".tmp{os.getpid()}")
        try:
            os.link(other.path(digest), tmp)  # same file system: no copy
        except OSError:
            tmp.write_bytes(other.path(digest).read_bytes())
        os.replace(tmp, target)
