"""A small JSON-Schema validator for tool arguments (the subset tool schemas use).

Supported keywords: type, enum, const, properties, required, additionalProperties (bool),
items, minItems, maxItems, minimum, maximum, minLength, maxLength, pattern, anyOf, oneOf,
default. ``validate_arguments`` returns the arguments with defaults filled in and a list of
error lines; it never raises for bad input, so a policy's malformed call becomes an error
observation rather than an exception.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

_TYPE_CHECKS = {
    "object": lambda v: isinstance(v, Mapping),
    "array": lambda v: isinstance(v, (list, tuple)),
    "string": lambda v: isinstance(v, str),
    "integer": lambda v: isinstance(v, int) and not isinstance(v, bool),
    "number": lambda v: isinstance(v, (int, float)) and not isinstance(v, bool),
    "boolean": lambda v: isinstance(v, bool),
    "null": lambda v: v is None,
}


def validate_arguments(arguments: Any, schema: Mapping[str, Any]) -> tuple[dict[str, Any], list[str]]:
    """Check ``arguments`` against an object ``schema``; return (arguments with defaults, errors)."""
    if not isinstance(arguments, Mapping):
        return {}, [f"arguments must be a JSON object, got {_kind(arguments)}"]
    errors = _check(arguments, schema, "arguments")
    filled = dict(arguments)
    for key, sub in schema.get("properties", {}).items():
        if key not in filled and "default" in sub:
            filled[key] = sub["default"]
    return filled, errors


def _check(value: Any, schema: Mapping[str, Any], where: str) -> list[str]:
    errors: list[str] = []
    if "anyOf" in schema or "oneOf" in schema:
        options = schema.get("anyOf") or schema.get("oneOf") or []
        matches = [opt for opt in options if not _check(value, opt, where)]
        if not matches:
            return [f"{where}: {value!r} matches none of the allowed forms ({_forms(options)})"]
        if "oneOf" in schema and len(matches) > 1:
            return [f"{where}: {value!r} matches more than one allowed form"]
    expected = schema.get("type")
    if expected is not None:
        types = [expected] if isinstance(expected, str) else list(expected)
        if not any(_TYPE_CHECKS[t](value) for t in types):
            return [f"{where}: expected {' or '.join(types)}, got {_kind(value)}"]
    if "const" in schema and value != schema["const"]:
        errors.append(f"{where}: must be {schema['const']!r}")
    if "enum" in schema and value not in schema["enum"]:
        allowed = ", ".join(repr(v) for v in schema["enum"])
        errors.append(f"{where}: {value!r} is not one of {allowed}")
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        if "minimum" in schema and value < schema["minimum"]:
            errors.append(f"{where}: {value} is below the minimum {schema['minimum']}")
        if "maximum" in schema and value > schema["maximum"]:
            errors.append(f"{where}: {value} is above the maximum {schema['maximum']}")
    if isinstance(value, str):
        if len(value) < schema.get("minLength", 0):
            errors.append(f"{where}: shorter than {schema['minLength']} characters")
        if "maxLength" in schema and len(value) > schema["maxLength"]:
            errors.append(f"{where}: longer than {schema['maxLength']} characters")
        if "pattern" in schema and not re.search(schema["pattern"], value):
            errors.append(f"{where}: {value!r} does not match {schema['pattern']}")
    if isinstance(value, (list, tuple)):
        if len(value) < schema.get("minItems", 0):
            errors.append(f"{where}: needs at least {schema['minItems']} items")
        if "maxItems" in schema and len(value) > schema["maxItems"]:
            errors.append(f"{where}: takes at most {schema['maxItems']} items")
        if "items" in schema:
            for index, item in enumerate(value):
                errors.extend(_check(item, schema["items"], f"{where}[{index}]"))
    if isinstance(value, Mapping):
        properties = schema.get("properties", {})
        for key in schema.get("required", []):
            if key not in value:
                errors.append(f"{where}: missing required '{key}'")
        for key, item in value.items():
            if key in properties:
                errors.extend(_check(item, properties[key], f"{where}.{key}"))
            elif schema.get("additionalProperties", True) is False:
                known = ", ".join(sorted(properties)) or "none"
                errors.append(f"{where}: unknown argument '{key}' (known: {known})")
    return errors


def _kind(value: Any) -> str:
    for name, check in _TYPE_CHECKS.items():
        if check(value):
            return name
    return type(value).__name__


def _forms(options: list[Mapping[str, Any]]) -> str:
    return " | ".join(str(opt.get("type", opt.get("enum", "?"))) for opt in options)
