"""The one preview every import gives before anything is written: what a file would add, change
and leave alone, and every problem and note with its place in the file; and, after the write
step, what was written in the same terms. The `import` command and the import screen each
render these objects; neither builds its own."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from qa_tui.services.imports.caseload import NewTeam, NewWorker, TeamLoad

UNCHANGED = "unchanged"  # the count of records the file leaves as they are


@dataclass(frozen=True)
class Finding:
    """A problem or note and where it is. `place` is the sheet, or a caseload CSV file's name
    ("" when the preview's heading names the file); `rows` are its rows, or its lines in a people
    or cases CSV file (none for a whole sheet or file); `column` is "" for a whole row."""

    place: str
    rows: tuple[int, ...]
    column: str
    message: str
    unit: str = "row"

    def __str__(self) -> str:
        rows = ""
        if len(self.rows) == 1:
            rows = f"{self.unit} {self.rows[0]}"
        elif self.rows:
            rows = f"{self.unit}s {_spans(self.rows)}"
        where = [part for part in (self.place, rows, f"column {self.column}" if self.column else "") if part]
        return f"{', '.join(where)}: {self.message}" if where else self.message


@dataclass(frozen=True)
class Change:
    """A stored record the file changes, and how, as a line a person reads."""

    key: str  # the case reference or staff ID
    kind: str  # "reallocated", "closed", "reopened" (caseload files) or "changed" (people, cases)
    text: str  # the whole line, key first


@dataclass(frozen=True)
class ImportPreview:
    """What importing a file would do (or, inside ImportWritten, what it did)."""

    kind: str  # the key of its import kind
    source: str  # the file, as the import names it
    contents_title: str  # what `contents` lists ("Lists" for a workbook), or "" for plain lines
    contents: tuple[str, ...]  # what the file holds, a line each
    counts: tuple[tuple[str, int], ...]  # records by what would happen to them, every kind in order
    added: tuple[str, ...] = ()  # records to add, by case reference or staff ID
    changes: tuple[Change, ...] = ()  # stored records to change, a line each
    new_teams: tuple[NewTeam, ...] = ()  # teams to create for the file's open cases
    new_workers: tuple[NewWorker, ...] = ()  # workers to create for them
    organisation: tuple[str, ...] = ()  # teams and services a people file adds, renames or moves
    loads: tuple[TeamLoad, ...] = ()  # open cases in the file per team and worker
    ignored_columns: tuple[str, ...] = ()  # columns the import does not read
    problems: tuple[Finding, ...] = ()  # rows not used or, when `rejected`, why the file is refused
    problems_title: str = "Rows not used"  # how `problems` is headed when the file is not refused
    notes: tuple[Finding, ...] = ()  # rows used with a caveat, and notes on whole lists or the file
    rejected: bool = False  # nothing can be written until the file is fixed
    detail: object = None  # the kind's own preview, which the write step takes back (or its result)

    @property
    def writes_anything(self) -> bool:
        changed = any(n for kind, n in self.counts if kind != UNCHANGED)
        return not self.rejected and bool(changed or self.new_teams or self.new_workers or self.organisation)


@dataclass(frozen=True)
class ImportWritten:
    """What the write step saved, in the preview's terms."""

    written: ImportPreview
    matches_preview: bool  # False when the database changed between the preview and the write


def grouped(findings: Iterable[Finding]) -> tuple[Finding, ...]:
    """Findings that differ only by row, as one ("List 6, rows 2-6, column N: ..."); findings for
    a whole sheet or file stay as they are. Groups keep the order they first appear in."""
    groups: dict[tuple[str, str, str, str], list[Finding]] = {}
    for finding in findings:
        groups.setdefault((finding.place, finding.column, finding.message, finding.unit), []).append(finding)
    out: list[Finding] = []
    for (place, column, message, unit), group in groups.items():
        if len(group) == 1 or not all(f.rows for f in group):
            out.extend(group)
        else:
            out.append(Finding(place, tuple(row for f in group for row in f.rows), column, message, unit))
    return tuple(out)


def _spans(rows: tuple[int, ...]) -> str:
    """2, 3, 4, 7 → "2-4, 7"."""
    spans: list[str] = []
    start = previous = rows[0]
    for row in [*rows[1:], None]:
        if row is not None and row == previous + 1:
            previous = row
            continue
        spans.append(f"{start}-{previous}" if previous != start else str(start))
        if row is not None:
            start = previous = row
    return ", ".join(spans)
