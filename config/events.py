"""Event files: one TOML file per event in `config/events/`, validated at start-up."""

from __future__ import annotations

import tomllib
from collections.abc import Sequence
from pathlib import Path

from pydantic import ValidationError

from config.images import find_image
from registrations.event import Event


class EventFileError(Exception):
    """An event file that cannot be used; the message names the file and the key."""


def describe_file_error(path: Path, what: str, exc: ValidationError) -> str:
    """Each problem of a TOML file under its key, e.g. for `what` = "event file"."""
    problems = []
    for error in exc.errors():
        key = ".".join(str(part) for part in error["loc"]) or "(whole file)"
        problems.append(f"  {key}: {error['msg']}")
    return f"{path}: invalid {what}\n" + "\n".join(problems)


def load_event(path: Path, assets: Sequence[Path] = ()) -> Event:
    """Read and validate one event file; the slug is the file name.

    A `logo_strip` is looked for beside the file, then in `assets` (the organisation's folder).
    """
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise EventFileError(f"{path}: cannot read event file: {exc}") from exc
    if "slug" in data:
        raise EventFileError(f"{path}: slug: the slug is the file name, remove the key")
    try:
        event = Event.model_validate({**data, "slug": path.stem})
    except ValidationError as exc:
        raise EventFileError(describe_file_error(path, "event file", exc)) from exc
    if event.logo_strip is not None:
        try:
            logo = find_image(event.logo_strip, [path.parent, *assets])
        except ValueError as exc:
            raise EventFileError(f"{path}: invalid event file\n  logo_strip: {exc}") from None
        event = event.model_copy(update={"logo_strip": logo})
    return event


def load_events(folder: Path, assets: Sequence[Path] = ()) -> dict[str, Event]:
    """Every `*.toml` event in `folder`, by slug, in date order (`assets`: see `load_event`)."""
    if not folder.is_dir():
        raise EventFileError(f"{folder}: events folder does not exist (set EVENTS_DIR)")
    events = [load_event(path, assets) for path in sorted(folder.glob("*.toml"))]
    if not events:
        raise EventFileError(f"{folder}: no event files (*.toml) found")
    return {event.slug: event for event in sorted(events, key=lambda e: (e.starts_on, e.slug))}
