"""The `fields` query parameter: keep only the requested parts of a JSON answer.

Accepts Google's forms: `a.b,c`, `a/b` and `files(id,name)`.
"""

from __future__ import annotations

from typing import Any

Mask = dict[str, "Mask"]  # an empty mask keeps the whole value


def parse(text: str) -> Mask:
    mask: Mask = {}
    for part in _split_top_level(text):
        _add(mask, part.strip())
    return mask


def _split_top_level(text: str) -> list[str]:
    parts, depth, current = [], 0, ""
    for char in text:
        if char == "," and depth == 0:
            parts.append(current)
            current = ""
            continue
        depth += (char == "(") - (char == ")")
        current += char
    parts.append(current)
    return [p for p in parts if p.strip()]


def _add(mask: Mask, part: str) -> None:
    head, paren, inner = part.partition("(")
    node = mask
    keys = [k for k in head.replace("/", ".").split(".") if k]
    for key in keys:
        if key == "*":
            node.clear()
            return
        node = node.setdefault(key, {})
    if paren:
        for sub in _split_top_level(inner.rstrip(")")):
            _add(node, sub.strip())


def apply(value: Any, mask: Mask) -> Any:
    if not mask:
        return value
    if isinstance(value, list):
        return [apply(item, mask) for item in value]
    if not isinstance(value, dict):
        return value
    return {key: apply(value[key], sub) for key, sub in mask.items() if key in value}


def mentions(mask: Mask, *path: str) -> bool:
    """Whether the mask asks for something at or under `path` (an empty mask asks for all)."""
    node = mask
    for key in path:
        if not node:
            return True
        if key not in node:
            return False
        node = node[key]
    return True


def submask(mask: Mask, *path: str) -> Mask | None:
    """The part of the mask under `path`: `{}` asks for all of it, None for none of it."""
    node = mask
    for key in path:
        if not node:
            return {}
        if key not in node:
            return None
        node = node[key]
    return node
