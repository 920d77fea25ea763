"""The kinds of file the app imports, and the one way to import any of them: `preview_import`
reads a file and compares it with the database, writing nothing, and `write_import` writes what
was previewed. Each kind's own reader and writer is turned into the shared ImportPreview here."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session

from qa_tui.config import Config
from qa_tui.services.imports.annex_a import AnnexAPreview, ListSummary, apply_annex_a, preview_annex_a
from qa_tui.services.imports.caseload import UNALLOCATED, CaseChange, CaseloadPlan, ImportResult, RowNote
from qa_tui.services.imports.caseload_csv import (
    InvolvementsPreview,
    SwEpisodesPreview,
    apply_involvements,
    apply_sw_episodes,
    preview_involvements,
    preview_sw_episodes,
)
from qa_tui.services.imports.cin_census import (
    CinCensusPreview,
    CinCensusResult,
    PlanHistory,
    apply_cin_census,
    preview_cin_census,
)
from qa_tui.services.imports.cin_census_xml import CensusNote
from qa_tui.services.imports.csv_rows import ImportRejected, ImportReport, Problem, read_import_file
from qa_tui.services.imports.people_cases import import_cases, import_people
from qa_tui.services.imports.preview import Change, Finding, ImportPreview, ImportWritten, grouped

WORKBOOK_SUFFIXES = (".xlsx", ".xls", ".ods")
XML_SUFFIXES = (".xml",)
# The changes to stored cases a caseload preview lists one by one (new and updated are counted).
CHANGES_LISTED = ("reallocated", "closed", "reopened")

CaseloadPreview = AnnexAPreview | InvolvementsPreview | SwEpisodesPreview


@dataclass(frozen=True)
class ImportKind:
    """A kind of file: how previews name it, how a person choosing a file knows it, and how it
    is previewed and written."""

    key: str
    what: str  # "Annex A"
    label: str  # "Ofsted Annex A workbook (.xlsx, .xls, .ods)"

    def preview(self, session: Session, path: Path, today: date, cfg: Config) -> ImportPreview:
        raise NotImplementedError

    def write(self, session: Session, preview: ImportPreview, today: date) -> ImportWritten:
        raise NotImplementedError


def preview_import(session: Session, kind: str, path: Path | str, today: date,
                   cfg: Config | None = None) -> ImportPreview:
    """Read the file and compare it with the database. Writes nothing. A file that cannot be read
    at all raises ValidationError; problems with its rows are in the preview."""
    return IMPORT_KINDS[kind].preview(session, Path(path), today, cfg or Config())


def write_import(session: Session, preview: ImportPreview, today: date) -> ImportWritten:
    """Write what was previewed, in the caller's transaction, worked out afresh against the
    database as it is now."""
    if preview.rejected:
        raise ValueError(f"{preview.source} was refused; there is nothing to write")
    return IMPORT_KINDS[preview.kind].write(session, preview, today)


def guess_kind(path: str) -> str:
    """The likeliest kind for a file name: a workbook is Annex A, an XML file the CIN census, a
    CSV file a people file."""
    if path.lower().endswith(XML_SUFFIXES):
        return "cin-census"
    return "annex-a" if path.lower().endswith(WORKBOOK_SUFFIXES) else "people"


# --- caseload files: Annex A, worker involvements, SSDA903 social worker episodes ------------


@dataclass(frozen=True)
class _CaseloadFile(ImportKind):
    read: Callable[[Session, Path, date], Any]  # the kind's preview, with its plan
    apply: Callable[[Session, Any, date], ImportResult]
    describe: Callable[[Any], tuple[str, tuple[str, ...]]]  # (title, lines) for what the file holds

    def preview(self, session: Session, path: Path, today: date, cfg: Config) -> ImportPreview:
        detail = self.read(session, path, today)
        return self._as_preview(detail, detail.plan, detail)

    def write(self, session: Session, preview: ImportPreview, today: date) -> ImportWritten:
        result = self.apply(session, preview.detail, today)
        return ImportWritten(self._as_preview(preview.detail, result.plan, result), result.matches_preview)

    def _as_preview(self, read: CaseloadPreview, plan: CaseloadPlan, detail: object) -> ImportPreview:
        title, contents = self.describe(read)
        return ImportPreview(
            kind=self.key, source=read.source, contents_title=title, contents=contents, **_plan_fields(plan),
            problems=tuple(_row_finding(note) for note in read.problems),
            notes=grouped(_row_finding(note) for note in read.warnings) + tuple(
                Finding("", (), "", note) for note in plan.notes),
            detail=detail)


def _plan_fields(plan: CaseloadPlan) -> dict[str, Any]:
    """What a caseload plan gives a preview: counts, cases to add, changes listed, creations, loads."""
    return {"counts": tuple(plan.counts().items()), "added": tuple(c.reference for c in plan.of_kind("new")),
            "changes": tuple(Change(c.reference, c.kind, _change_text(c)) for c in plan.of_kind(*CHANGES_LISTED)),
            "new_teams": plan.new_teams, "new_workers": plan.new_workers, "loads": plan.by_team}


def _row_finding(note: RowNote) -> Finding:
    return Finding(note.sheet, (note.row,) if note.row else (), note.column, note.message)


def _change_text(change: CaseChange) -> str:
    if change.kind == "reallocated":
        return (f"{change.reference} reallocated: {change.old_worker or UNALLOCATED} ({change.old_team or 'no team'})"
                f" -> {change.worker or UNALLOCATED} ({change.team or 'no team'})")
    if change.kind == "closed":
        return f"{change.reference} closed on {change.closed_on:%d/%m/%Y} ({change.category})"
    return f"{change.reference} reopened as {change.category}"


def _annex_a_lists(preview: AnnexAPreview) -> tuple[str, tuple[str, ...]]:
    return "Lists", tuple(_list_line(summary) for summary in preview.lists)


def _list_line(summary: ListSummary) -> str:
    if summary.sheet is None:
        return f"List {summary.number} ({summary.category}): not used"
    return (f"List {summary.number} ({summary.category}) from sheet {summary.sheet!r}: "
            f"{summary.rows} rows, {summary.used} used, {summary.open} open")


def _involvement_rows(preview: InvolvementsPreview) -> tuple[str, tuple[str, ...]]:
    return "", (f"Rows: {preview.rows}, cases: {len(preview.cases)}",)


def _episodes(preview: SwEpisodesPreview) -> tuple[str, tuple[str, ...]]:
    return "", (f"Episodes: {preview.episodes}, children: {preview.children}, "
                f"current allocations: {len(preview.allocations)}",)


# --- the CIN census ---------------------------------------------------------------------------


@dataclass(frozen=True)
class _CinCensusFile(ImportKind):
    def preview(self, session: Session, path: Path, today: date, cfg: Config) -> ImportPreview:
        detail = preview_cin_census(session, path, today, cfg.cin_census)
        return _census_preview(self.key, detail, detail.plan, detail.history, detail)

    def write(self, session: Session, preview: ImportPreview, today: date) -> ImportWritten:
        result: CinCensusResult = apply_cin_census(session, preview.detail, today)
        return ImportWritten(_census_preview(self.key, preview.detail, result.result.plan, result.history, result),
                             result.matches_preview)


def _census_preview(key: str, read: CinCensusPreview, plan: CaseloadPlan, history: PlanHistory,
                    detail: object) -> ImportPreview:
    fields = _plan_fields(plan)
    fields["counts"] += (("CP plans added", history.added), ("CP plans updated", history.updated))
    return ImportPreview(
        kind=key, source=read.source, contents_title="Census", contents=_census_lines(read), **fields,
        problems=tuple(_census_finding(note) for note in read.problems), problems_title="Not used",
        notes=tuple(_census_finding(note) for note in read.notes) + tuple(
            Finding("", (), "", note) for note in plan.notes),
        detail=detail)


def _census_lines(read: CinCensusPreview) -> tuple[str, ...]:
    header = read.header
    about = " ".join(part for part in (
        f"year {header.year}" if header.year else "",
        f"as at {header.reference_date:%d/%m/%Y}" if header.reference_date else "",
        f"from local authority {header.la_code}" if header.la_code else "") if part)
    lines = [f"CIN census {about}".strip(),
             f"Children: {read.children_in_file} in the file, {read.children_used} used; "
             f"CIN episodes: {read.episodes} ({read.open_episodes} open); "
             f"CP plans: {read.cp_plans} ({read.running_cp_plans} running)"]
    if read.skipped_new:
        lines.append(f"{read.skipped_new} children not in qa-tui are skipped (import.cin_census.new_children)")
    prefix = read.settings.reference_prefix
    lines.append(f"Case reference: <{read.settings.child_id}>" + (f" after {prefix!r}" if prefix else "")
                 + ". The census names no team or worker: stored cases keep theirs.")
    lines.append("Never stored: UPN, date of birth, sex, ethnicity, disability or anything else about a child.")
    return tuple(lines)


def _census_finding(note: CensusNote) -> Finding:
    return Finding(note.where, (), "", note.message)


# --- people and cases CSV files ---------------------------------------------------------------


@dataclass(frozen=True)
class _RecordsFile(ImportKind):
    importer: Callable[..., ImportReport]  # import_people or import_cases

    def preview(self, session: Session, path: Path, today: date, cfg: Config) -> ImportPreview:
        try:
            text = read_import_file(path)
            report = self.importer(session, text, source=path.name, dry_run=True)
        except ImportRejected as rejected:
            return ImportPreview(self.key, rejected.source, "", (), (), rejected=True,
                                 problems=tuple(_line_finding(p) for p in rejected.problems))
        return self._as_preview(report, text)

    def write(self, session: Session, preview: ImportPreview, today: date) -> ImportWritten:
        written = self._as_preview(self.importer(session, preview.detail, source=preview.source), preview.detail)
        same = [(p.counts, p.added, p.changes, p.organisation) for p in (preview, written)]
        return ImportWritten(written, same[0] == same[1])

    def _as_preview(self, report: ImportReport, text: str) -> ImportPreview:
        return ImportPreview(
            kind=self.key, source=report.source, contents_title="", contents=(),
            counts=(("added", report.added), ("changed", report.changed), ("unchanged", report.unchanged)),
            added=report.added_keys,
            changes=tuple(Change(c.key, "changed", f"{c.key} ({', '.join(c.columns)})") for c in report.changes),
            organisation=report.organisation, ignored_columns=report.ignored_columns,
            notes=tuple(_line_finding(warning) for warning in report.warnings), detail=text)


def _line_finding(problem: Problem) -> Finding:
    return Finding("", (problem.line,), problem.column, problem.message, "line")


IMPORT_KINDS: dict[str, ImportKind] = {kind.key: kind for kind in (
    _CaseloadFile("annex-a", "Annex A", "Ofsted Annex A workbook (.xlsx, .xls, .ods)",
                  preview_annex_a, apply_annex_a, _annex_a_lists),
    _RecordsFile("people", "People", "People CSV (docs/templates/people.csv)", import_people),
    _RecordsFile("cases", "Cases", "Cases CSV (docs/templates/cases.csv)", import_cases),
    _CaseloadFile("involvements", "Involvements", "Worker involvements CSV (docs/templates/involvements.csv)",
                  preview_involvements, apply_involvements, _involvement_rows),
    _CaseloadFile("ssda903-sw", "SSDA903 social worker episodes", "SSDA903 social worker episodes CSV",
                  preview_sw_episodes, apply_sw_episodes, _episodes),
    _CinCensusFile("cin-census", "CIN census", "DfE Children in Need census (.xml)"),
)}


def permission_for(kind: str) -> str:
    """The permission writing an import of this kind needs (docs/permissions.md): the staff list
    is an administrator's; every caseload extract is the caseload importers'."""
    from qa_tui.services.people.permissions import EDIT_PEOPLE, IMPORT_CASELOAD

    return EDIT_PEOPLE if kind == "people" else IMPORT_CASELOAD
