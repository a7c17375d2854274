"""The OpenAPI document as a page to read, rendered on the server: no script, no CDN."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from forms.openapi import REF_TEMPLATE

# A piece of a type: its text, and the schema it links to (None: plain text).
TypePart = tuple[str, str | None]
_REF_PREFIX = REF_TEMPLATE.split("{")[0]
_CONSTRAINTS = {
    "minLength": "min. length {}",
    "maxLength": "max. length {}",
    "minimum": "≥ {}",
    "maximum": "≤ {}",
    "const": "always `{}`",
    "default": "default `{}`",
}


@dataclass(frozen=True)
class Property:
    name: str
    type: list[TypePart]
    required: bool
    notes: str


def schema_type(schema: dict[str, Any]) -> list[TypePart]:
    """How a JSON schema reads as a type: `string (date)`, `RegistrationData`, `string | null`."""
    if "$ref" in schema:
        name = str(schema["$ref"]).removeprefix(_REF_PREFIX)
        return [(name, name)]
    if "anyOf" in schema or "oneOf" in schema:
        parts: list[TypePart] = []
        for option in schema.get("anyOf") or schema["oneOf"]:
            if parts:
                parts.append((" | ", None))
            parts.extend(schema_type(option))
        return parts
    kind = schema.get("type", "any")
    if "enum" in schema:
        return [(" | ".join(f"`{value}`" for value in schema["enum"]), None)]
    if kind == "array":
        return [("array of ", None), *schema_type(schema.get("items", {}))]
    if kind == "object" and isinstance(schema.get("additionalProperties"), dict):
        return [("object of ", None), *schema_type(schema["additionalProperties"])]
    text = str(kind)
    if "format" in schema:
        text += f" ({schema['format']})"
    return [(text, None)]


def properties(schema: dict[str, Any]) -> list[Property]:
    """The rows of an object schema's table: name, type, required, constraints and meaning."""
    required = set(schema.get("required", ()))
    rows = []
    for name, field in schema.get("properties", {}).items():
        notes = [
            template.format(field[key]) for key, template in _CONSTRAINTS.items() if key in field
        ]
        if field.get("description"):
            notes.append(field["description"])
        rows.append(Property(name, schema_type(field), name in required, "; ".join(notes)))
    return rows


def code_spans(text: str) -> list[tuple[str, bool]]:
    """Text with `code` marked as in the document's descriptions: (piece, is_code) pairs."""
    return [(piece, index % 2 == 1) for index, piece in enumerate(text.split("`")) if piece]
