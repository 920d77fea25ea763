"""Writing files that hold QA data: private (0600), atomic (temp file renamed into place)."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path


def write_export(path: Path, text: str) -> Path:
    """A text export (Markdown, HTML) written as `write_private` writes, with every control
    character made visible: opened in a terminal or an editor, it shows what was typed and does
    nothing else. (CSV and XLSX cells follow qa_tui.services.reports.cells.)"""
    from qa_tui.text import printable

    return write_private(path, printable(text))


def write_private(path: Path, data: bytes | str) -> Path:
    """Write `data` to `path` as a 0600 file: a temporary file in the same folder, synced, then
    renamed into place, so a reader sees the old file or the whole new one and nobody else can
    read it. Missing folders are made 0700. A file that cannot be written is a ValidationError
    naming it."""
    from qa_tui.errors import ValidationError

    path = Path(path)
    payload = data.encode("utf-8") if isinstance(data, str) else data
    try:
        make_private_dirs(path.parent)
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    except OSError as exc:
        raise ValidationError(str(path), f"cannot be written ({exc.strerror})") from None
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(payload)
            out.flush()
            os.fsync(out.fileno())
        os.chmod(tmp, 0o600)
        os.replace(tmp, path)
    except OSError as exc:
        Path(tmp).unlink(missing_ok=True)
        raise ValidationError(str(path), f"cannot be written ({exc.strerror})") from None
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    dir_fd = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(dir_fd)  # the rename itself survives a power cut
    finally:
        os.close(dir_fd)
    return path


def make_private_dirs(folder: Path) -> None:
    """Create `folder` and any missing parents, each 0700 (mkdir(parents=True) would leave the
    parents at the umask's default, typically readable by everyone)."""
    missing = []
    while not folder.exists():
        missing.append(folder)
        folder = folder.parent
    for made in reversed(missing):
        made.mkdir(mode=0o700, exist_ok=True)
        os.chmod(made, 0o700)


def exports_dir() -> Path:
    """Where the app writes exports (records, agendas, reports) unless told otherwise."""
    from qa_tui.config import data_dir

    return data_dir() / "exports"
