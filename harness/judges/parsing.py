"""Parse judge replies against a declared schema: named numeric fields with a range, plus free reasoning.

A reply parses when it holds one JSON object (bare, or inside a ```json fence / surrounding prose)
whose required fields are numbers inside their range. Anything else raises ``ReplyParseError`` with
the reason, which the re-ask shows the judge; nothing is ever guessed, clipped or imputed.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from typing import Any

PARSER_VERSION = "1"


class ReplyParseError(ValueError):
    """A judge reply that does not satisfy its schema."""


@dataclass(frozen=True)
class ScoreField:
    name: str
    low: float
    high: float
    integer: bool = True
    description: str = ""


@dataclass(frozen=True)
class ReplySchema:
    name: str
    fields: tuple[ScoreField, ...]
    reasoning: bool = True

    def json_schema(self) -> dict[str, Any]:
        """Strict JSON schema for ``response_format`` (every property required, no extras)."""
        properties: dict[str, Any] = {}
        if self.reasoning:
            properties["reasoning"] = {"type": "string"}
        for f in self.fields:
            kind = "integer" if f.integer else "number"
            properties[f.name] = {
                "type": kind,
                "minimum": f.low,
                "maximum": f.high,
                "description": f.description,
            }
        return {
            "type": "object",
            "properties": properties,
            "required": list(properties),
            "additionalProperties": False,
        }

    def describe(self) -> str:
        """The expected reply, for prompts and re-asks."""
        parts = ['"reasoning": "<short explanation>"'] if self.reasoning else []
        for f in self.fields:
            kind = "integer" if f.integer else "number"
            parts.append(f'"{f.name}": <{kind} {f.low:g}-{f.high:g}>')
        return "{" + ", ".join(parts) + "}"

    def fingerprint(self) -> dict[str, Any]:
        return {"name": self.name, "schema": self.json_schema(), "parser": PARSER_VERSION}


def json_objects(text: str) -> list[dict[str, Any]]:
    """Every top-level JSON object in ``text``, in order (fences and prose around them are allowed)."""
    decoder = json.JSONDecoder()
    found: list[dict[str, Any]] = []
    start = text.find("{")
    while start != -1:
        try:
            value, end = decoder.raw_decode(text, start)
        except json.JSONDecodeError:
            start = text.find("{", start + 1)
            continue
        if isinstance(value, dict):
            found.append(value)
            start = text.find("{", end)
        else:
            start = text.find("{", start + 1)
    return found


def extract_json_object(text: str, wanted: tuple[str, ...] = ()) -> dict[str, Any]:
    """The first JSON object holding every ``wanted`` key, else the first object; raise if none."""
    if not text or not text.strip():
        raise ReplyParseError("empty reply")
    objects = json_objects(text)
    if not objects:
        raise ReplyParseError("no JSON object in the reply")
    for value in objects:
        if all(key in value for key in wanted):
            return value
    return objects[0]


def parse_reply(text: str, schema: ReplySchema) -> dict[str, float]:
    """The schema's fields as floats; raise ReplyParseError naming the first problem."""
    data = extract_json_object(text, tuple(f.name for f in schema.fields))
    scores: dict[str, float] = {}
    for f in schema.fields:
        if f.name not in data:
            raise ReplyParseError(f"missing field {f.name!r}")
        value = data[f.name]
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ReplyParseError(f"field {f.name!r} is not a number: {value!r}"[:120])
        number = float(value)
        if not math.isfinite(number) or not f.low <= number <= f.high:
            raise ReplyParseError(f"field {f.name!r} = {value!r} is outside {f.low:g}-{f.high:g}")
        if f.integer and number != int(number):
            raise ReplyParseError(f"field {f.name!r} = {value!r} is not an integer")
        scores[f.name] = number
    return scores


def reask_text(reason: str, schema: ReplySchema) -> str:
    return (
        f"Your previous reply could not be used: {reason}. Reply again with only one JSON object of the form "
        f"{schema.describe()} and nothing else."
    )
