"""Stability AI v2beta edit endpoints (multipart): inpaint and search-and-replace.

``finish_reason: CONTENT_FILTERED`` arrives with HTTP 200 and ``content_moderation`` as an error
body; both are refusals. The inpaint mask is white where the edit goes.
"""

from __future__ import annotations

from typing import Any, ClassVar

import httpx
import numpy as np

from baselines.api.base import ApiEditor, TurnOutput
from baselines.api.codec import decode_b64_image, fit_mask, multipart_body, parse_json, white_mask_png
from baselines.api.errors import PermanentFailure, Refusal
from baselines.api.transport import CallContext, ProviderLimits, http_failure
from harness.images import encode_png
from harness.protocols import EditorCapabilities
from harness.types import EditRequest, Image, Mask


def classify_stability(response: httpx.Response, what: str) -> Any:
    if response.status_code == 200:
        return parse_json(response.content, what, 200)
    try:
        body = response.json()
    except ValueError:
        body = {}
    body = body if isinstance(body, dict) else {}
    name = str(body.get("name") or "")
    message = "; ".join(str(e) for e in body.get("errors") or [])[:300]
    if body.get("id"):
        message += f" (id {str(body['id'])[:64]})"
    if name == "content_moderation":
        raise Refusal(f"{what}: refused ({name})", code=name, http_status=response.status_code)
    if response.status_code == 402:
        raise PermanentFailure(f"{what}: payment required: {message}", code=name, http_status=402)
    raise http_failure(response, what, message, code=name)


class StabilityEditor(ApiEditor):
    provider = "stability"
    key_env = "STABILITY_API_KEY"
    default_base_url = "https://api.stability.ai"
    endpoint = "/v2beta/stable-image/edit/{operation}"
    endpoint_version = "v2beta"
    operation: ClassVar[str] = ""
    default_limits = ProviderLimits(max_concurrency=16, requests_per_minute=900)  # 150 per 10 s

    def form(
        self, image: Image, instruction: str, mask: Mask | None, params: dict[str, Any]
    ) -> tuple[dict[str, str], list[tuple[str, str, bytes]]]:
        raise NotImplementedError

    async def edit_turn(
        self, ctx: CallContext, image: Image, instruction: str, mask: Mask | None, request: EditRequest
    ) -> TurnOutput:
        params = self.generation_params(request)
        data, files = self.form(image, instruction, mask, params)
        data = {**data, "seed": str(int(request.seed) % 4294967295), "output_format": "png"}
        body_bytes, content_type = multipart_body(data, files)
        what = f"stability/{self.operation}"
        body = await ctx.request(
            "POST",
            self.url(self.endpoint.format(operation=self.operation)),
            lambda r: classify_stability(r, what),
            what=self.operation,
            headers={
                "Authorization": f"Bearer {self._key.reveal()}",
                "Accept": "application/json",
                "Content-Type": content_type,
            },
            content=body_bytes,
        )
        finish = str(body.get("finish_reason") or "")
        if finish == "CONTENT_FILTERED":
            raise Refusal(f"{what}: output filtered (CONTENT_FILTERED)", code=finish)
        edited = decode_b64_image(body.get("image"), what)
        return TurnOutput(edited, meta={"finish_reason": finish, "seed": body.get("seed")})


class StabilityInpaint(StabilityEditor):
    model = "inpaint"
    operation = "inpaint"
    default_params: ClassVar[dict[str, Any]] = {"negative_prompt": "", "grow_mask": 5}
    capabilities = EditorCapabilities(mask=True, multi_turn=True, seeded=True, batch_size=32)

    def form(
        self, image: Image, instruction: str, mask: Mask | None, params: dict[str, Any]
    ) -> tuple[dict[str, str], list[tuple[str, str, bytes]]]:
        region = np.ones(image.shape[:2], dtype=bool) if mask is None else fit_mask(mask, image.shape)
        files = [
            ("image", "image.png", encode_png(image)),
            ("mask", "mask.png", white_mask_png(region)),
        ]
        data = {"prompt": instruction, "grow_mask": str(params["grow_mask"])}
        if params["negative_prompt"]:
            data["negative_prompt"] = params["negative_prompt"]
        return data, files


class StabilitySearchAndReplace(StabilityEditor):
    """Needs ``search_prompt`` (what to replace) in the editor options or the request params."""

    model = "search-and-replace"
    operation = "search-and-replace"
    default_params: ClassVar[dict[str, Any]] = {"search_prompt": "", "negative_prompt": "", "grow_mask": 3}
    capabilities = EditorCapabilities(multi_turn=True, seeded=True, batch_size=32)

    def form(
        self, image: Image, instruction: str, mask: Mask | None, params: dict[str, Any]
    ) -> tuple[dict[str, str], list[tuple[str, str, bytes]]]:
        if not params["search_prompt"]:
            raise PermanentFailure(
                "stability/search-and-replace needs a search_prompt (what to replace): "
                "pass it as an editor option or in the sample's params"
            )
        files = [("image", "image.png", encode_png(image))]
        data = {
            "prompt": instruction,
            "search_prompt": str(params["search_prompt"]),
            "grow_mask": str(params["grow_mask"]),
        }
        if params["negative_prompt"]:
            data["negative_prompt"] = params["negative_prompt"]
        return data, files
