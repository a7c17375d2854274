"""The local workbook's file, shared with staff's spreadsheet program.

Staff's Excel or LibreOffice saves the file whenever staff press Save: in place (the file is
truncated and written anew, so a reader may meet half a file) or by renaming a new file over
it. Nothing of theirs or of the service's may be lost, so the service

- reads the file whole, until a read is not overlapped by a write (`read`), and tells a file
  being saved from a broken one by whether it is still changing (`changed_since`);
- replaces the file only with one made from exactly the bytes it read (`replace_if_unchanged`):
  right before the rename it reads the file again and gives up if it changed (staff saved
  meanwhile: the change is then made again on their copy); right after, it reads the old file
  again under a second name it gave it, and a save staff began into it in between is put back;
- keeps a note beside the file (`.<name>.generacja`): the generation of its last save, which it
  also stamps in the file (a copy staff saved from an older generation is an older copy), and
  the file as the service last saw it whole (a file that differs was saved by staff since).
"""

from __future__ import annotations

import hashlib
import os
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

READ_ATTEMPTS = 20
POLL_SECONDS = 0.02
RESTORE_PATIENCE_SECONDS = 5.0


def digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


@dataclass(frozen=True)
class Contents:
    """The file's bytes as read at one moment; both None when there is no file."""

    data: bytes | None
    digest: str | None


ABSENT = Contents(None, None)


def read(path: Path) -> Contents:
    """The whole file, from a read that no write overlapped (as far as the file's size and
    times tell); after `READ_ATTEMPTS` overlapped reads, the last one (the parser decides)."""
    data = b""
    for _ in range(READ_ATTEMPTS):
        try:
            with path.open("rb") as file:
                before = os.fstat(file.fileno())
                data = file.read()
                after = os.fstat(file.fileno())
        except FileNotFoundError:
            return ABSENT
        if _unchanged(before, after) and len(data) == after.st_size:
            break
        time.sleep(POLL_SECONDS)
    return Contents(data, digest(data))


def _unchanged(before: os.stat_result, after: os.stat_result) -> bool:
    return (before.st_size, before.st_mtime_ns, before.st_ctime_ns) == (
        after.st_size,
        after.st_mtime_ns,
        after.st_ctime_ns,
    )


def changed_since(path: Path, known: str | None, wait: float) -> Contents | None:
    """The file's new contents as soon as they differ from `known`, watching for `wait`
    seconds; None when it stayed the same (a save in progress would have changed it)."""
    deadline = time.monotonic() + wait
    while time.monotonic() < deadline:
        time.sleep(POLL_SECONDS)
        contents = read(path)
        if contents.digest != known:
            return contents
    return None


def replace_if_unchanged(path: Path, data: bytes, expected: str | None) -> bool:
    """Put `data` at `path` unless the file is no longer the one read as `expected` (None: no
    file); False when it changed, and nothing of it was lost.

    The old file keeps a second name until the rename is done: a save staff's program began
    into it between the check and the rename (microseconds apart) is found there right after,
    and that very file is put back once written (False then too).
    """
    temporary = _write_temporary(path, data)
    try:
        if expected is None:
            try:  # a link, not a rename: it fails when a file appeared meanwhile
                os.link(temporary, path)
            except FileExistsError:
                return False
            return True
        kept = path.with_name(f".{path.stem}-old-{os.getpid()}-{time.monotonic_ns()}")
        try:
            os.link(path, kept)
        except FileNotFoundError:
            return False
        try:
            if read(kept).digest != expected:
                return False
            os.replace(temporary, path)
            if read(kept).digest == expected:
                return True
            _put_back(path, kept, digest(data))
            return False
        finally:
            if os.path.exists(kept):
                os.unlink(kept)
    finally:
        if os.path.exists(temporary):
            os.unlink(temporary)


def _put_back(path: Path, kept: Path, ours: str) -> None:
    """Staff's save that went into the file the service just replaced, at `path` again once it
    stops changing; unless `path` changed since (a later save of theirs wins)."""
    deadline = time.monotonic() + RESTORE_PATIENCE_SECONDS
    last = read(kept).digest
    while time.monotonic() < deadline:
        time.sleep(5 * POLL_SECONDS)
        now = read(kept).digest
        if now == last:
            break
        last = now
    if read(path).digest == ours:
        os.replace(kept, path)


def _write_temporary(path: Path, data: bytes) -> str:
    """`data` in a new file beside `path`, on disk before it is renamed (mode 0600)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.stem}-", suffix=".xlsx")
    try:
        with os.fdopen(fd, "wb") as file:
            file.write(data)
            file.flush()
            os.fsync(file.fileno())
    except BaseException:
        os.unlink(temporary)
        raise
    return temporary


# -- the note beside the file ----------------------------------------------------------------


@dataclass(frozen=True)
class Note:
    """What the service knows of the file: the generation of its last save, and the file as it
    last saw it whole (its own save, or the file at the start of a round); None: not known."""

    generation: int = 0
    seen: str | None = None


def note_path(path: Path) -> Path:
    return path.with_name(f".{path.name}.generacja")


def read_note(path: Path) -> Note:
    """The note; a missing or unreadable one knows nothing (a release before it wrote only
    the generation)."""
    try:
        parts = note_path(path).read_text(encoding="utf-8").split()
        return Note(int(parts[0]) if parts else 0, parts[1] if len(parts) > 1 else None)
    except (OSError, ValueError):
        return Note()


def write_note(path: Path, note: Note) -> None:
    target = note_path(path)
    fd, temporary = tempfile.mkstemp(dir=target.parent, prefix=target.name)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as file:
            file.write(f"{note.generation} {note.seen or ''}".strip())
        os.replace(temporary, target)
    finally:
        if os.path.exists(temporary):
            os.unlink(temporary)
