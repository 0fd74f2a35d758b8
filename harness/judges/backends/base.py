"""What a judge backend receives and answers: one chat request with images, one reply with a status."""

from __future__ import annotations

import base64
import io
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

import numpy as np
from PIL import Image as PILImage

from harness.images import encode_png, image_hash

ReplyStatus = Literal["ok", "refused", "error"]


@dataclass(frozen=True)
class ChatTurn:
    role: Literal["user", "assistant"]
    text: str
    images: tuple[np.ndarray, ...] = ()


@dataclass(frozen=True)
class JudgeRequest:
    turns: tuple[ChatTurn, ...]
    schema_name: str
    json_schema: dict[str, Any]
    pass_index: int = 0

    def content(self, encoding: str) -> list[dict[str, Any]]:
        """Cache-key view of the messages: text and image hashes (plus encoding), never pixels."""
        return [
            {
                "role": t.role,
                "text": t.text,
                "images": [image_hash(im) for im in t.images],
                "encoding": encoding,
            }
            for t in self.turns
        ]


@dataclass
class JudgeReply:
    status: ReplyStatus
    text: str = ""
    model: str = ""
    input_tokens: int = 0
    output_tokens: int = 0
    refusal_code: str = ""
    error: str = ""
    attempts: int = 1
    waits_s: list[float] = field(default_factory=list)
    system_fingerprint: str = ""

    def cacheable(self) -> bool:
        return self.status in ("ok", "refused")

    def to_dict(self) -> dict[str, Any]:
        return {
            "status": self.status,
            "text": self.text,
            "model": self.model,
            "input_tokens": self.input_tokens,
            "output_tokens": self.output_tokens,
            "refusal_code": self.refusal_code,
            "error": self.error,
            "system_fingerprint": self.system_fingerprint,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> JudgeReply:
        return cls(**{k: data[k] for k in cls.__dataclass_fields__ if k in data})


class JudgeBackend(Protocol):
    provider: str

    def complete(self, requests: list[JudgeRequest]) -> list[JudgeReply]: ...


def prepare_image(image: np.ndarray, max_side: int | None) -> np.ndarray:
    """Thumbnail to ``max_side`` on the longer side (RISEBench uses 768), keeping the aspect ratio."""
    if max_side is None or max(image.shape[:2]) <= max_side:
        return image
    pil = PILImage.fromarray(image)
    pil.thumbnail((max_side, max_side), PILImage.Resampling.LANCZOS)
    return np.asarray(pil)


def data_uri(image: np.ndarray, encoding: str = "png", jpeg_quality: int = 95) -> str:
    """The image as a ``data:`` URI of the declared encoding (PNG lossless by default)."""
    if encoding == "png":
        payload, mime = encode_png(image), "image/png"
    elif encoding == "jpeg":
        buffer = io.BytesIO()
        PILImage.fromarray(image).save(buffer, format="JPEG", quality=jpeg_quality)
        payload, mime = buffer.getvalue(), "image/jpeg"
    else:
        raise ValueError(f"unknown image encoding {encoding!r}")
    return f"data:{mime};base64,{base64.b64encode(payload).decode('ascii')}"
