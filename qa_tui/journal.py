"""The local journal of unsaved edits: every change a person makes is written here (a private file
beside the database, synced) before it is sent, and taken out once the database holds it, so a
kill -9, a power cut or an outage loses nothing that was typed. The next start offers it back."""

from __future__ import annotations

import hashlib
import json
import os
import time
import uuid
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

WRITE_EVERY_SECONDS = 0.2  # the file is never more than this behind the typing (plus one tick)
SUFFIX = ".json"


@dataclass(frozen=True)
class Unsaved:
    """One change not yet stored. `key` names the record and field (a newer change to the same
    field replaces it); `kind` says which service puts it back; `label` names it for a person."""

    key: str
    kind: str
    record_id: str
    field: str
    label: str
    value: Any  # as JSON holds it: text, a number, a list of text, an ISO date, or None
    shown: str = ""  # the value as a person reads it, where that is not the value itself ("2 Good")


def journal_folder(database_url: str) -> Path:
    """Beside a SQLite file (`qa.db` → `qa.db.unsaved/`); for a server database, under the app's
    data folder, keyed by a hash of the URL without its password."""
    from sqlalchemy.engine import make_url

    url = make_url(database_url)
    if url.drivername.startswith("sqlite") and url.database and url.database != ":memory:":
        path = Path(url.database).expanduser()
        return path.with_name(path.name + ".unsaved")
    from qa_tui.config import data_dir

    digest = hashlib.sha256(url.render_as_string(hide_password=True).encode()).hexdigest()[:16]
    return data_dir() / "unsaved" / digest


class Journal:
    """This process's journal: one file in `folder`, named by the process, holding every change
    not yet stored. `put` writes at once unless a write was made less than `WRITE_EVERY_SECONDS`
    ago; then `flush`, called on a short interval, writes it."""

    def __init__(self, folder: Path, *, clock: Callable[[], float] = time.monotonic) -> None:
        self.folder = folder
        self.path = folder / f"{os.getpid()}-{uuid.uuid4().hex[:8]}{SUFFIX}"
        self.clock = clock
        self._entries: dict[str, Unsaved] = {}
        self._dirty = False
        self._written_at = float("-inf")
        self.problem = ""  # the last write that failed, for the screen to show

    @property
    def entries(self) -> tuple[Unsaved, ...]:
        return tuple(self._entries.values())

    def put(self, entry: Unsaved) -> None:
        if self._entries.get(entry.key) == entry:
            return
        self._entries[entry.key] = entry
        self._touch()

    def drop(self, key: str, value: Any = None, *, any_value: bool = False) -> None:
        """Take out the change to `key` once `value` is stored (a newer value stays)."""
        entry = self._entries.get(key)
        if entry is not None and (any_value or _same(entry.value, value)):
            del self._entries[key]
            self._touch()

    def _touch(self) -> None:
        self._dirty = True
        if self.clock() - self._written_at >= WRITE_EVERY_SECONDS:
            self.flush()

    def flush(self) -> None:
        """Write the file now if anything changed since the last write."""
        if not self._dirty:
            return
        from qa_tui.errors import ValidationError
        from qa_tui.files import write_private

        self._dirty = False
        self._written_at = self.clock()
        try:
            if self._entries:
                body = {"pid": os.getpid(), "entries": [asdict(e) for e in self._entries.values()]}
                write_private(self.path, json.dumps(body, ensure_ascii=False, default=str))
            else:
                self.path.unlink(missing_ok=True)
            self.problem = ""
        except (ValidationError, OSError) as exc:
            self.problem = str(exc)


def _same(a: Any, b: Any) -> bool:
    return json.loads(json.dumps(a, default=str)) == json.loads(json.dumps(b, default=str))


def left_behind(folder: Path) -> list[tuple[Path, list[Unsaved]]]:
    """Journals of processes that are no longer running (killed, crashed, or closed with
    changes the database never got), oldest first, with their changes. Unreadable ones are
    skipped: a journal is written whole or not at all, so a broken one is not ours."""
    found: list[tuple[float, Path, list[Unsaved]]] = []
    if not folder.is_dir():
        return []
    for path in folder.glob(f"*{SUFFIX}"):
        try:
            body = json.loads(path.read_text(encoding="utf-8"))
            pid = int(body.get("pid", 0))
            entries = [Unsaved(**{k: e[k] for k in ("key", "kind", "record_id", "field", "label", "value")},
                               shown=str(e.get("shown") or "")) for e in body.get("entries", [])]
            modified = path.stat().st_mtime
        except (OSError, ValueError, TypeError, KeyError, AttributeError):
            continue
        if pid != os.getpid() and not _running(pid) and entries:
            found.append((modified, path, entries))
    return [(path, entries) for _, path, entries in sorted(found, key=lambda f: f[0])]


def _running(pid: int) -> bool:
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:  # a zombie (killed, not yet reaped by its parent) is not running
        with open(f"/proc/{pid}/stat", encoding="ascii") as stat:
            return stat.read().rsplit(")", 1)[1].split()[0] != "Z"
    except (OSError, IndexError):
        return True


def forget(paths: list[Path]) -> None:
    """Remove journals that were restored or discarded."""
    for path in paths:
        path.unlink(missing_ok=True)
