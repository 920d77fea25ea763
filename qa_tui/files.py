"""Writing files that hold QA data: private (0600), atomic (temp file renamed into place)."""

from __future__ import annotations

import os
from pathlib import Path


def write_private(path: Path, data: bytes | str) -> Path:
    """Write `data` to `path` as a 0600 file, atomically; parent folders are made 0700."""
    path = Path(path)
    make_private_dirs(path.parent)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    payload = data.encode("utf-8") if isinstance(data, str) else data
    fd = os.open(tmp, os.O_CREAT | os.O_WRONLY | os.O_TRUNC, 0o600)
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(payload)
            out.flush()
            os.fsync(out.fileno())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
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
