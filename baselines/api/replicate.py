"""Replicate predictions for any ``replicate/<owner>/<model>``: create (``Prefer: wait``), poll, download.

Input field names differ per model; the image goes in ``image_field`` (a table of known models
below, else ``input_image``). A prediction that fails with a content-filter message is a refusal
with code ``content_filter`` (Replicate has no structured reason code).
"""

from __future__ import annotations

import asyncio
import re
from typing import Any, ClassVar

import httpx

from baselines.api.base import ApiEditor, TurnOutput
from baselines.api.codec import decode_b64_image, parse_json, png_data_uri
from baselines.api.errors import PermanentFailure, Refusal, ResponseFormatError, TimeoutFailure
from baselines.api.polling import trusted_poll_url
from baselines.api.transport import CallContext, ProviderLimits, http_failure
from harness.protocols import EditorCapabilities
from harness.types import EditRequest, Image, Mask

IMAGE_FIELDS = {
    "black-forest-labs/flux-kontext-pro": "input_image",
    "black-forest-labs/flux-kontext-max": "input_image",
    "black-forest-labs/flux-kontext-dev": "input_image",
    "qwen/qwen-image-edit": "image",
    "bytedance/seededit-3.0": "image",
}
MODEL_NAME = re.compile(r"^[A-Za-z0-9][\w.-]*/[A-Za-z0-9][\w.-]*$")
CONTENT_FILTER = re.compile(r"nsfw|safety|sensitive|flagged|moderat|content polic", re.IGNORECASE)
THROTTLE_HINT = re.compile(r"available in (\d+(?:\.\d+)?) second", re.IGNORECASE)
PENDING = frozenset({"starting", "processing"})


def classify_replicate(response: httpx.Response, what: str) -> Any:
    if response.status_code in (200, 201, 202):
        return parse_json(response.content, what, response.status_code)
    try:
        detail = str(response.json().get("detail") or "")
    except (ValueError, AttributeError):
        detail = ""
    retry_after = None
    hint = THROTTLE_HINT.search(detail)
    if response.status_code == 429 and hint and "retry-after" not in response.headers:
        retry_after = float(hint.group(1))
    if response.status_code == 402:
        raise PermanentFailure(f"{what}: payment required: {detail[:300]}", http_status=402)
    if response.status_code == 404 and "/predictions/" in str(response.request.url):
        raise PermanentFailure(f"{what}: prediction URL expired or not found (HTTP 404)", http_status=404)
    raise http_failure(response, what, detail, retry_after=retry_after)


class ReplicateEditor(ApiEditor):
    provider = "replicate"
    key_env = "REPLICATE_API_TOKEN"
    default_base_url = "https://api.replicate.com"
    endpoint = "/v1/models/{model}/predictions"
    endpoint_version = "v1"
    default_params: ClassVar[dict[str, Any]] = {"image_field": "", "output_format": "png", "extra_input": {}}
    default_limits = ProviderLimits(max_concurrency=16, requests_per_minute=600)
    capabilities = EditorCapabilities(multi_turn=True, seeded=True, batch_size=32)

    def __init__(self, arg: str | None = None, **options: Any) -> None:
        if not arg or not MODEL_NAME.match(arg):
            raise ValueError(f"replicate editor needs replicate/<owner>/<model>, got {arg!r}")
        self.model = arg
        super().__init__(arg, **options)

    @classmethod
    def editor_name(cls, arg: str | None) -> str:
        return f"replicate/{arg}"

    @classmethod
    def unavailable_reason(cls, arg: str | None = None) -> str | None:
        if arg is not None and not MODEL_NAME.match(arg):
            return f"'{arg}' is not <owner>/<model>: use replicate/<owner>/<model>"
        return super().unavailable_reason(arg)

    async def edit_turn(
        self, ctx: CallContext, image: Image, instruction: str, mask: Mask | None, request: EditRequest
    ) -> TurnOutput:
        params = self.generation_params(request)
        field = params["image_field"] or IMAGE_FIELDS.get(self.model, "input_image")
        model_input = {
            "prompt": instruction,
            field: png_data_uri(image),
            "seed": int(request.seed),
            "output_format": params["output_format"],
            **dict(params["extra_input"]),
        }
        headers = {"Authorization": f"Bearer {self._key.reveal()}"}
        wait = max(1, min(60, int(ctx.remaining()) - 1))
        what = f"replicate/{self.model}"
        prediction = await ctx.request(
            "POST",
            self.url(self.endpoint.format(model=self.model)),
            lambda r: classify_replicate(r, f"{what} create"),
            what="create",
            headers={**headers, "Prefer": f"wait={wait}"},
            json={"input": model_input},
        )
        if prediction.get("id"):
            ctx.request_ids.append(str(prediction["id"])[:200])
        prediction = await self._until_done(ctx, prediction, headers, what)
        output = prediction.get("output")
        url = output[0] if isinstance(output, list) and output else output
        if not isinstance(url, str) or not url:
            raise ResponseFormatError(f"{what}: succeeded without an output URL")
        if url.startswith("data:"):
            edited = decode_b64_image(url, what)
        else:
            edited = await self.download_image(ctx, url, "output")
        metrics = prediction.get("metrics") or {}
        return TurnOutput(
            edited, meta={"prediction_id": prediction.get("id"), "predict_time": metrics.get("predict_time")}
        )

    async def _until_done(
        self, ctx: CallContext, prediction: dict[str, Any], headers: dict[str, str], what: str
    ) -> dict[str, Any]:
        while True:
            status = str(prediction.get("status") or "")
            if status == "succeeded":
                return prediction
            if status == "failed":
                error = str(prediction.get("error") or "")[:300]
                if CONTENT_FILTER.search(error):
                    raise Refusal(f"{what}: refused: {error}", code="content_filter")
                raise PermanentFailure(f"{what}: prediction failed: {error}")
            if status not in PENDING:
                raise PermanentFailure(f"{what}: prediction ended with status {status!r}")
            poll_url = (prediction.get("urls") or {}).get("get")
            if not isinstance(poll_url, str) or not trusted_poll_url(
                poll_url, self.base_url, "replicate.com"
            ):
                raise PermanentFailure(f"{what}: prediction has no trusted urls.get to poll")
            interval = self.retry.poll_interval_s
            if ctx.remaining() <= interval:
                raise TimeoutFailure(f"{what}: prediction still {status} at the total time cap")
            await asyncio.sleep(interval)
            prediction = await ctx.request(
                "GET", poll_url, lambda r: classify_replicate(r, f"{what} poll"), what="poll", headers=headers
            )
