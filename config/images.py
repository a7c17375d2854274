"""Images staff name in configuration files (the logo strip of the attendance list), checked at
start-up so a wrong path or a file that is no picture stops the service with its key named."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

IMAGE_FORMATS = ("PNG", "JPEG")


def find_image(name: Path, folders: Sequence[Path]) -> Path:
    """`name` as given when absolute, else in the first of `folders` holding it; checked to be
    a PNG or JPEG that opens. ValueError says what is wrong."""
    candidates = [name] if name.is_absolute() else [folder / name for folder in folders]
    found = next((path for path in candidates if path.is_file()), None)
    if found is None:
        where = " or ".join(str(path.parent) for path in candidates) or "nowhere"
        raise ValueError(f"no file {name} (looked in {where})")
    from PIL import Image, UnidentifiedImageError  # Pillow: needed only when a logo is set

    try:
        with Image.open(found) as image:
            kind = image.format
            image.verify()
    except (OSError, UnidentifiedImageError, SyntaxError, ValueError) as exc:
        raise ValueError(
            f"{found} is not a picture that opens ({exc.__class__.__name__})"
        ) from None
    if kind not in IMAGE_FORMATS:
        raise ValueError(f"{found} is {kind}: use a PNG or JPEG file")
    return found.resolve()
