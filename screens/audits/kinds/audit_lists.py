"""The supervision-file, cross-service and record audits lists: the latest audits of the kind, yours
or everyone's; Enter opens one, n starts one."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable, Sequence
from typing import TYPE_CHECKING

from textual.app import SystemCommand

from screens.audits.audit_steps import person_options
from screens.audits.kinds.pane import OwnListPane
from screens.dialogs import ChoiceDialog, TextPrompt

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from qa_tui.services.audits.kinds import AuditListRow, OtherServiceCase
    from qa_tui.services.audits.record_audits import RecordCase
    from qa_tui.services.people.directory import PersonRef


class AuditListPane(OwnListPane["AuditListRow"]):
    """The audits of one kind (`KEY`), newest first."""

    def loader(self) -> Callable[[Session], Sequence[AuditListRow]]:
        from qa_tui.services.audits.kinds import audits_of_kind

        kind, auditor_id = self.KEY, self.mine_id
        return lambda s: audits_of_kind(s, kind, auditor_id=auditor_id)

    def row_key(self, row: AuditListRow) -> object:
        return row.audit_id

    def open(self, row: AuditListRow) -> None:
        self.open_audit(row.audit_id)


class SupervisionFilePane(AuditListPane):
    KEY = "supervision_file"
    TITLE = "Supervision files"
    TAB = "Supervision"
    COLUMNS = ("Worker", "Team", "Auditor", "Date", "Status")
    HINT = "Enter opens the audit · n audits a worker's supervision file · v yours or everyone's"

    def cells(self, row: AuditListRow) -> Sequence[object]:
        return (row.subject, row.team_code, row.auditor_name, f"{row.audit_date:%-d %b %Y}", row.status)

    def new(self) -> None:
        me = self.person_needed()
        if me is None:
            return
        from qa_tui.services.audits.kinds import start_supervision_file_audit
        from qa_tui.services.people.directory import people_for_picking

        ctx = self.ctx

        def chosen(worker_id: uuid.UUID | None) -> None:
            if worker_id is not None:
                self.call_service(
                    lambda s: start_supervision_file_audit(s, worker_id, me, today=ctx.today(), cfg=ctx.config),
                    lambda audit: self.open_audit(audit.id), write=True)

        def ask(people: list[PersonRef]) -> None:
            self.app.push_screen(ChoiceDialog("Whose supervision file?",
                                              person_options(p for p in people if p.id != me)), chosen)

        self.call_service(lambda s: people_for_picking(s, ctx.today()), ask)

    def palette_commands(self) -> Iterable[SystemCommand]:
        yield SystemCommand("Audit a supervision file", "Regularity and quality of a worker's supervision", self.new)


class CrossServicePane(AuditListPane):
    KEY = "cross_service"
    TITLE = "Cross-service audits"
    TAB = "Cross-service"
    COLUMNS = ("Case", "Team", "Worker", "Auditor", "Date", "Status")
    HINT = "Enter opens the audit · n picks a case from another service · v yours or everyone's"

    def cells(self, row: AuditListRow) -> Sequence[object]:
        return (row.subject, row.team_code, row.worker_name, row.auditor_name, f"{row.audit_date:%-d %b %Y}",
                row.status)

    def new(self) -> None:
        me = self.person_needed()
        if me is None:
            return
        from qa_tui.services.audits.kinds import cross_service_cases, start_cross_service_audit

        ctx = self.ctx

        def chosen(case_id: uuid.UUID | None) -> None:
            if case_id is not None:
                self.call_service(
                    lambda s: start_cross_service_audit(s, case_id, me, today=ctx.today(), cfg=ctx.config),
                    lambda audit: self.open_audit(audit.id), write=True)

        def offer(cases: list[OtherServiceCase]) -> None:
            if not cases:
                self.notify("No open case from another service matches.", severity="warning")
                return
            self.app.push_screen(ChoiceDialog("Audit which case from another service?", [
                (c.case_id, f"{c.reference} {c.category} · {c.team_code} ({c.service_name}) · {c.worker_name or '—'}")
                for c in cases]), chosen)

        def searched(text: str | None) -> None:
            if text is not None:
                self.call_service(lambda s: cross_service_cases(s, me, ctx.today(), search=text), offer)

        self.app.push_screen(TextPrompt("Cross-service audit", "Case reference or team code (blank: all)",
                                        required=False), searched)

    def palette_commands(self) -> Iterable[SystemCommand]:
        yield SystemCommand("Cross-service audit", "Audit a case from another part of the service", self.new)


class RecordAuditsPane(AuditListPane):
    """Audits of records other than a child's case file: CP conference records, looked-after
    children's review records, and foster carers' or adopters' files."""

    KEY = "records"
    TITLE = "Record audits"
    TAB = "Records"
    COLUMNS = ("Record", "Of", "Team", "Auditor", "Date", "Status")
    HINT = "Enter opens the audit · n audits a CP conference or LAC review record, or a carer's file · v yours or everyone's"
    RECORDS = {"cp_conference_record": "CP conference", "lac_review_record": "LAC review",
               "carer_file": "Carer file"}

    def loader(self) -> Callable[[Session], Sequence[AuditListRow]]:
        from qa_tui.services.audits.kinds import audits_of_kind

        kinds, auditor_id = tuple(self.RECORDS), self.mine_id
        return lambda s: audits_of_kind(s, kinds, auditor_id=auditor_id)

    def cells(self, row: AuditListRow) -> Sequence[object]:
        return (self.RECORDS.get(row.kind, row.kind), row.subject, row.team_code, row.auditor_name,
                f"{row.audit_date:%-d %b %Y}", row.status)

    def new(self) -> None:
        if self.person_needed() is None:
            return
        self.app.push_screen(ChoiceDialog("Audit which record?", [
            (kind, name) for kind, name in (("cp_conference_record", "A CP conference record (a CP case)"),
                                            ("lac_review_record", "A looked-after child's review record (a CLA case)"),
                                            ("carer_file", "A foster carer's or adopter's file (by its reference)"))]),
            lambda kind: kind and self._start(kind))

    def _start(self, kind: str) -> None:
        from qa_tui.services.audits.record_audits import (
            cases_for_record_audit,
            check_record_reference,
            needs_case,
            start_record_audit,
        )

        ctx, me = self.ctx, self.ctx.person_id

        def start(case_id: uuid.UUID | None = None, reference: str = "") -> None:
            self.call_service(lambda s: start_record_audit(s, kind, me, case_id=case_id, record_reference=reference,
                                                           today=ctx.today(), cfg=ctx.config),
                              lambda audit: self.open_audit(audit.id), write=True)

        if not needs_case(kind):
            self.app.push_screen(TextPrompt("Foster carer or adopter file", "The carer's reference in the case system",
                                            placeholder="e.g. FC-0231 (never a name)", check=check_record_reference),
                                 lambda reference: reference and start(reference=reference))
            return

        def offer(cases: list[RecordCase]) -> None:
            if not cases:
                self.notify(f"No open {self.RECORDS[kind]} case matches.", severity="warning")
                return
            self.app.push_screen(ChoiceDialog(f"Whose {self.RECORDS[kind]} record?", [
                (c.case_id, f"{c.reference} {c.category} · {c.team_code} · {c.worker_name or '—'}") for c in cases]),
                lambda case_id: case_id and start(case_id=case_id))

        self.app.push_screen(TextPrompt(f"{self.RECORDS[kind]} record audit", "Case reference or team code (blank: all)",
                                        required=False),
                             lambda text: text is not None and self.call_service(
                                 lambda s: cases_for_record_audit(s, kind, ctx.today(), search=text), offer))

    def palette_commands(self) -> Iterable[SystemCommand]:
        yield SystemCommand("Audit a record", "A CP conference record, a LAC review record or a carer's file",
                            self.new)
