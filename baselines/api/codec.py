"""Image and body encodings shared by the providers: PNG, base64, data URIs, masks, JSON."""

from __future__ import annotations

import base64
import binascii
import uuid
from typing import Any

import numpy as np
from PIL import Image as PILImage

from baselines.api.errors import ResponseFormatError
from harness.images import ImageDecodeError, decode_image, encode_png
from harness.types import Image, Mask


def png_b64(image: Image) -> str:
    return base64.b64encode(encode_png(image)).decode("ascii")


def png_data_uri(image: Image) -> str:
    return "data:image/png;base64," + png_b64(image)


def decode_b64_image(data: Any, what: str) -> Image:
    """Base64 (optionally a data URI) to RGB; malformed data is a ResponseFormatError naming ``what``."""
    if not isinstance(data, str) or not data:
        raise ResponseFormatError(f"{what}: no base64 image data in the response")
    if data.startswith("data:"):
        data = data.partition(",")[2]
    try:
        raw = base64.b64decode(data, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise ResponseFormatError(
            f"{what}: image data is not valid base64, possibly truncated ({exc})"
        ) from exc
    return decode_image_bytes(raw, what)


def decode_image_bytes(raw: bytes, what: str) -> Image:
    try:
        return decode_image(raw, what=what)
    except ImageDecodeError as exc:
        raise ResponseFormatError(f"{exc} ({len(raw)} bytes, truncated?)") from exc


def fit_mask(mask: Mask, shape: tuple[int, ...]) -> Mask:
    """The mask resized (nearest) to an image of ``shape``: turns may change the image size."""
    if mask.shape[:2] == tuple(shape[:2]):
        return mask
    pil = PILImage.fromarray(mask.astype(np.uint8) * 255).resize((shape[1], shape[0]), PILImage.NEAREST)
    return np.asarray(pil) > 127


def alpha_mask_png(image: Image, mask: Mask) -> bytes:
    """OpenAI-style mask: the image as RGBA, fully transparent (alpha 0) where the edit goes."""
    mask = fit_mask(mask, image.shape)
    alpha = np.where(mask, 0, 255).astype(np.uint8)
    return encode_png(np.dstack([image, alpha]))


def white_mask_png(mask: Mask) -> bytes:
    """Stability-style mask: greyscale, white where the edit goes."""
    return encode_png(np.where(mask, 255, 0).astype(np.uint8))


def parse_json(content: bytes, what: str, http_status: int) -> Any:
    import json

    try:
        return json.loads(content)
    except ValueError as exc:
        raise ResponseFormatError(
            f"{what}: response is not valid JSON (HTTP {http_status}, {len(content)} bytes: {exc})",
            http_status=http_status,
        ) from exc


def multipart_body(fields: dict[str, str], files: list[tuple[str, str, bytes]]) -> tuple[bytes, str]:
    """A multipart/form-data body in one buffer and its Content-Type.

    One buffer goes out in one socket write; httpx's streamed multipart writes every part
    separately, which dominates the client's CPU time at tens of edits per second."""
    boundary = uuid.uuid4().hex
    chunks: list[bytes] = []
    for name, value in fields.items():
        chunks.append(
            f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'.encode()
        )
    for name, filename, data in files:
        head = (
            f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"; filename="{filename}"\r\n'
            "Content-Type: image/png\r\n\r\n"
        )
        chunks.extend((head.encode(), data, b"\r\n"))
    chunks.append(f"--{boundary}--\r\n".encode())
    return b"".join(chunks), f"multipart/form-data; boundary={boundary}"
