"""Which event each file under `instance/exports/` holds, so an erasure can delete them all.

A PDF or XLSX cannot be searched for a name (compressed), and `--output` may give any name: so
the `export` command leaves beside each file it writes there a hidden note naming its event
(`.<file>.event`). An erasure deletes every file of the event: those noted, and any whose name
holds the event's slug (a default name, or a copy staff renamed).
"""

from __future__ import annotations

from pathlib import Path

EXPORTS = "exports"
NOTE = ".event"


def note_path(path: Path) -> Path:
    return path.with_name(f".{path.name}{NOTE}")


def inside(folder: Path, path: Path) -> bool:
    """Whether `path` is in `folder` or below it (however it was spelt)."""
    return path.resolve().is_relative_to(folder.resolve())


def note(path: Path, slug: str) -> None:
    """Record that the file at `path` holds a list of the event."""
    note_path(path).write_text(slug, encoding="utf-8")


def files_of(folder: Path, slug: str) -> list[Path]:
    """Every file under `folder` holding the event's data: noted as the event's, or named after
    it (with its note, and a half-written temporary file)."""
    if not folder.is_dir():
        return []
    found: set[Path] = set()
    for path in folder.rglob("*"):
        if not path.is_file() or path.name.endswith(NOTE):
            continue
        if slug in path.name or _noted(path) == slug:
            found.update(p for p in (path, note_path(path)) if p.exists())
    for stray in folder.rglob(f"*{NOTE}"):  # a note whose file is gone
        target = stray.with_name(stray.name.removeprefix(".").removesuffix(NOTE))
        if not target.exists() and stray.read_text(encoding="utf-8").strip() == slug:
            found.add(stray)
    return sorted(found)


def _noted(path: Path) -> str | None:
    try:
        return note_path(path).read_text(encoding="utf-8").strip()
    except OSError:
        return None
