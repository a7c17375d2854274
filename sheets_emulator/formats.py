"""CellFormat JSON as Google stores it: masked updates, and colours mirrored into colour styles.

Google keeps every colour twice: `backgroundColor` and `backgroundColorStyle: {rgbColor}` (and so
for text and border colours). Setting either one answers both, with zero channels left out
(`{"green": 1, "blue": 1}`), which is what gspread's recorded `test_format` shows. Nothing is
rendered: formats are kept so they can be answered.
"""

from __future__ import annotations

import copy
import math
from typing import Any

from . import fieldmask
from .fieldmask import Mask

_BORDER_SIDES = ("top", "bottom", "left", "right")
# (colour path, style path) pairs, relative to a CellFormat.
COLOUR_PAIRS: tuple[tuple[tuple[str, ...], tuple[str, ...]], ...] = (
    (("backgroundColor",), ("backgroundColorStyle",)),
    (("textFormat", "foregroundColor"), ("textFormat", "foregroundColorStyle")),
    *((("borders", s, "color"), ("borders", s, "colorStyle")) for s in _BORDER_SIDES),
)
_CHANNELS = ("red", "green", "blue")


def merged(current: dict[str, Any], update: dict[str, Any], mask: Mask) -> dict[str, Any]:
    """`current` with the masked fields taken from `update` (absent in `update` = cleared).

    An empty mask replaces the whole format. The result is a new dict; `{}` means no format.
    """
    result = _masked(current, update, mask)
    mirror_colours(result, mask)
    tidy: dict[str, Any] = normalized(result)
    return tidy


def normalized(value: Any) -> Any:
    """JSON as Google answers it: whole numbers as ints, zero colour channels left out."""
    if isinstance(value, dict):
        out = {k: normalized(v) for k, v in value.items()}
        if any(k in out for k in _CHANNELS) and set(out) <= {*_CHANNELS, "alpha"}:
            out = {k: v for k, v in out.items() if k == "alpha" or v != 0}
        return out
    if isinstance(value, list):
        return [normalized(v) for v in value]
    if isinstance(value, float) and math.isfinite(value) and value.is_integer():
        return int(value)
    return value


def mirror_colours(fmt: dict[str, Any], mask: Mask) -> None:
    """Fill in whichever of a colour / colour style pair the update did not give."""
    for colour_path, style_path in COLOUR_PAIRS:
        colour_touched = fieldmask.mentions(mask, *colour_path)
        style_touched = fieldmask.mentions(mask, *style_path)
        if not (colour_touched or style_touched):
            continue
        colour = _get(fmt, colour_path)
        style = _get(fmt, style_path)
        if colour_touched and colour is not None and not (style_touched and style is not None):
            _set(fmt, style_path, {"rgbColor": copy.deepcopy(colour)})
        elif style_touched and isinstance(style, dict) and "rgbColor" in style:
            if not (colour_touched and colour is not None):
                _set(fmt, colour_path, copy.deepcopy(style["rgbColor"]))
        elif colour_touched and colour is None and not style_touched:
            _delete(fmt, style_path)
        elif style_touched and style is None and not colour_touched:
            _delete(fmt, colour_path)


def _masked(current: dict[str, Any], update: dict[str, Any], mask: Mask) -> dict[str, Any]:
    if not mask:
        return copy.deepcopy(update)
    result = copy.deepcopy(current)
    for key, sub in mask.items():
        new = update.get(key)
        if not sub or not isinstance(new, dict) and new is not None:
            if new is None:
                result.pop(key, None)
            else:
                result[key] = copy.deepcopy(new)
            continue
        old = result.get(key)
        inner = _masked(old if isinstance(old, dict) else {}, new or {}, sub)
        if inner:
            result[key] = inner
        else:
            result.pop(key, None)
    return result


def _get(data: dict[str, Any], path: tuple[str, ...]) -> Any:
    node: Any = data
    for key in path:
        if not isinstance(node, dict) or key not in node:
            return None
        node = node[key]
    return node


def _set(data: dict[str, Any], path: tuple[str, ...], value: Any) -> None:
    node = data
    for key in path[:-1]:
        node = node.setdefault(key, {})
    node[path[-1]] = value


def _delete(data: dict[str, Any], path: tuple[str, ...]) -> None:
    node: Any = data
    for key in path[:-1]:
        node = node.get(key) if isinstance(node, dict) else None
    if isinstance(node, dict):
        node.pop(path[-1], None)
