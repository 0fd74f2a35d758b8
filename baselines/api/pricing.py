"""Dated list prices used for ``Usage.cost_usd`` and ``ieval run --dry-run`` estimates.

Prices are the vendors' published list prices in US dollars as of PRICES_AS_OF; they change, so
every EditResult records PRICES_AS_OF with its cost. The same table is in docs/API_EDITORS.md.
Where the response reports token usage (OpenAI, Gemini) the cost is computed from tokens;
otherwise it is the per-image price. A failed or refused call is recorded at zero cost.
"""

from __future__ import annotations

from dataclasses import dataclass

PRICES_AS_OF = "2025-12-15"


@dataclass(frozen=True)
class TokenRates:
    """US dollars per million tokens."""

    text_input: float
    image_input: float
    image_output: float

    def cost(self, text_in: int, image_in: int, image_out: int) -> float:
        return (text_in * self.text_input + image_in * self.image_input + image_out * self.image_output) / 1e6


# OpenAI gpt-image per-image prices, by model -> quality -> (square 1024x1024, 1024x1536 or 1536x1024)
OPENAI_PER_IMAGE: dict[str, dict[str, tuple[float, float]]] = {
    "gpt-image-1": {"low": (0.011, 0.016), "medium": (0.042, 0.063), "high": (0.167, 0.25)},
    "gpt-image-1-mini": {"low": (0.005, 0.006), "medium": (0.011, 0.015), "high": (0.036, 0.052)},
    "gpt-image-1.5": {"low": (0.009, 0.013), "medium": (0.034, 0.05), "high": (0.133, 0.2)},
}

TOKEN_RATES: dict[str, TokenRates] = {
    "gpt-image-1": TokenRates(text_input=5.0, image_input=10.0, image_output=40.0),
    "gpt-image-1-mini": TokenRates(text_input=2.0, image_input=2.5, image_output=8.0),
    "gpt-image-1.5": TokenRates(text_input=5.0, image_input=8.0, image_output=32.0),
    "gemini-2.5-flash-image": TokenRates(text_input=0.30, image_input=0.30, image_output=30.0),
}

PER_IMAGE_USD: dict[str, float] = {
    "gemini/gemini-2.5-flash-image": 0.039,  # 1290 output tokens at $30 / 1M
    "bfl/flux-kontext-pro": 0.04,
    "bfl/flux-kontext-max": 0.08,
    "ark/seededit-3.0": 0.03,
    "ark/seedream-4.0": 0.03,
    "dashscope/qwen-image-edit": 0.045,
    "stability/inpaint": 0.03,  # 3 credits at $0.01
    "stability/search-and-replace": 0.04,  # 4 credits
    "replicate/black-forest-labs/flux-kontext-pro": 0.04,
    "replicate/black-forest-labs/flux-kontext-max": 0.08,
    "replicate/qwen/qwen-image-edit": 0.03,
    "replicate/bytedance/seededit-3.0": 0.03,
}


def openai_image_price(model: str, quality: str, size: str) -> float:
    """Per-image list price; ``auto`` quality or size is priced as the dearer option (an upper bound)."""
    table = OPENAI_PER_IMAGE[model]
    qualities = [quality] if quality in table else ["high"]
    column = 0 if size == "1024x1024" else 1
    return max(table[q][column] for q in qualities)


def per_image_price(editor_name: str) -> float | None:
    """The list price of one output image, or None when it is not in the table."""
    return PER_IMAGE_USD.get(editor_name)
