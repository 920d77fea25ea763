"""Writing files that hold QA data: private (0600), atomic (temp file renamed into place)."""

from __future__ import annotations

import os
from pathlib import Path


def write_private(path: Path, data: bytes | str) -> Path:
    """Write `data` to `path` as a 0600 file, atomically; parent folders are made 0700."""
    path = Path(path)
    if not path.parent.exists():
        path.parent.mkdir(parents=True, mode=0o700)
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


def exports_dir() -> Path:
    """Where the app writes exports (records, agendas, reports) unless told otherwise."""
    from qa_tui.config import data_dir

    return data_dir() / "exports"
