"""Supervision-file and cross-service audits, the lists per kind, and what the one audit form
shows for each kind; every kind counts towards the auditor's QA programme."""

from __future__ import annotations

from datetime import date

import pytest

from qa_tui.config import parse_config
from qa_tui.db.engine import Database
from qa_tui.db.models import Person
from qa_tui.errors import NotAllowed, ValidationError
from qa_tui.services.audits import kinds as audit_kinds
from qa_tui.services.audits import record as audits
from qa_tui.services.audits import summaries
from qa_tui.services.practice import celebration
from qa_tui.services.audits import themes
from qa_tui.services.programme.obligations import obligations
from qa_tui.services.practice.supervision import record_supervision
from tests.kinds_seed import Org, seed_org

CFG = parse_config({})


@pytest.fixture
def org(db: Database, today: date) -> Org:
    return seed_org(db, today)


def submit(db: Database, audit: audits.AuditDTO, today: date) -> None:
    with db.session() as s:
        for g in audit.grades:
            audits.set_grade(s, audit.id, g.domain, 1)
        audits.set_overall_grade(s, audit.id, 1)
        audits.submit_for_moderation(s, audit.id, today)


def test_supervision_regularity_counts_held_against_cadence_and_finds_gaps(db: Database, org: Org, today: date) -> None:
    robin = org.people["swa"]
    with db.session() as s:
        for held in (date(2026, 1, 10), date(2026, 2, 9), date(2026, 5, 20), date(2026, 6, 18), date(2026, 7, 16)):
            record_supervision(s, worker_id=robin, supervisor_id=org.people["tmn1"], held_on=held,
                               kind="reflective" if held.month == 6 else "casework", today=today)
        record_supervision(s, worker_id=robin, supervisor_id=org.people["tmn1"], held_on=date(2025, 10, 1), today=today)
        facts = audit_kinds.supervision_regularity(s, robin, today, CFG)
    assert (facts.since, facts.cadence, facts.held, facts.expected, facts.reflective) == (
        date(2025, 11, 25), "monthly", 5, 11, 1)
    assert [(g.start, g.end, g.days_late, g.open) for g in facts.gaps] == [
        (date(2025, 11, 25), date(2026, 1, 10), 16, False),
        (date(2026, 2, 9), date(2026, 5, 20), 72, False),
        (date(2026, 7, 16), today, 100, True)]
    assert facts.supervisors == ("Tam One",)
    assert facts.summary().startswith("5 supervisions since 25 Nov 2025 (monthly: 11 expected); last held 16 Jul 2026")


def test_supervision_file_audit_has_a_worker_and_no_case_and_counts_for_the_auditor(
        db: Database, org: Org, today: date) -> None:
    hos, robin = org.people["hos"], org.people["swa"]
    with db.session() as s:
        with pytest.raises(NotAllowed, match="your own supervision file"):
            audit_kinds.start_supervision_file_audit(s, hos, hos, today=today, cfg=CFG)
        with pytest.raises(ValidationError, match="not of a case"):
            audits.start_audit(s, kind="supervision_file", template=CFG.template("supervision_file"),
                               case_id=org.cases["C-001"], worker_id=robin, auditor_id=hos, team_id=None,
                               audit_date=today, today=today, cfg=CFG)
        with pytest.raises(ValidationError, match="needs a case"):
            audits.start_audit(s, kind="cross_service", template=CFG.template("cross_service"), case_id=None,
                               worker_id=robin, auditor_id=hos, team_id=None, audit_date=today, today=today, cfg=CFG)
        audit = audit_kinds.start_supervision_file_audit(s, robin, hos, today=today, cfg=CFG)
        assert (audit.kind, audit.case_id, audit.case_reference, audit.worker.name) == (
            "supervision_file", None, "", "Robin Ash")
        assert audit_kinds.start_supervision_file_audit(s, robin, hos, today=today, cfg=CFG).id == audit.id
        context = audit_kinds.form_context(s, audit.id, today=today, cfg=CFG)
        record = summaries.audit_record_markdown(s, audit.id, today=today, cfg=CFG)
    assert context.subject == "Supervision file of Robin Ash (SW1)" and context.kind_name == "Supervision file audit"
    assert context.regularity is not None and context.notes[0].startswith("0 supervisions since")
    assert record.startswith("# Supervision file audit: Robin Ash (SW1)")
    submit(db, audit, today)
    with db.reader() as s:
        line = next(x for x in obligations(s, hos, today, CFG).lines
                    if x.task == "audit_supervision_file" and today in x.period)
        rows = audit_kinds.audits_of_kind(s, "supervision_file")
    assert (line.done, line.status) == (1, "met")
    assert [(r.subject, r.auditor_name, r.status) for r in rows] == [("Robin Ash", "Hari Head", "submitted")]


def test_cross_service_cases_come_from_other_services_only(db: Database, org: Org, today: date) -> None:
    opsn = org.people["opsn"]
    with db.session() as s:
        offered = audit_kinds.cross_service_cases(s, opsn, today)
        assert [(c.reference, c.service_name) for c in offered] == [("C-005", "South"), ("C-006", "South")]
        assert [c.reference for c in audit_kinds.cross_service_cases(s, opsn, today, search="c6")] == ["C-006"]
        assert [c.reference for c in audit_kinds.cross_service_cases(s, org.people["opss"], today)] == [
            "C-001", "C-002", "C-003", "C-004"]
        with pytest.raises(NotAllowed, match="not from another service"):
            audit_kinds.start_cross_service_audit(s, org.cases["C-001"], opsn, today=today, cfg=CFG)
        assert audit_kinds.cross_service_cases(s, org.people["dd"], today) == []  # every service is theirs
        lone = Person(staff_id="OPS9", name="Lee Lone", role="OPS")
        s.add(lone)
        s.flush()
        with pytest.raises(NotAllowed, match="not part of a service"):
            audit_kinds.cross_service_cases(s, lone.id, today)
        audit = audit_kinds.start_cross_service_audit(s, org.cases["C-006"], opsn, today=today, cfg=CFG)
        assert (audit.kind, audit.case_reference, audit.worker.name) == ("cross_service", "C-006", "Cam Cedar")
    submit(db, audit, today)
    with db.reader() as s:
        lines = {x.task: x for x in obligations(s, opsn, today, CFG).lines if today in x.period}
    assert lines["audit_cross_service"].status == "met"


def test_form_context_for_a_multi_agency_audit_with_good_practice(db: Database, org: Org, today: date) -> None:
    with db.session() as s:
        theme = themes.create_theme(s, kind="multi_agency", name="Neglect", description="Under-fives",
                                    agencies="Health, Police", today=today, cfg=CFG)
        row = themes.add_case_by_reference(s, theme.id, "C-003")
        audit = themes.start_theme_audit(s, row.id, org.people["hos"], today=today, cfg=CFG)
        themes.set_agency_finding(s, audit.id, "Health", finding="Not at the strategy meeting")
        celebration.mark_good_practice(s, source_kind="audit", source_id=audit.id, why="Joint visit",
                                       marked_by_id=org.people["opsn"], today=today)
        context = audit_kinds.form_context(s, audit.id, today=today, cfg=CFG)
    assert context.subject == "Case C-003 (CP) · Sam Birch (SW2)"
    assert context.notes == ("Multi-agency audit: Neglect", "Under-fives", "Agencies: Health, Police")
    assert [f.agency for f in context.findings] == ["Health"]
    assert context.good_practice is not None and context.good_practice.why == "Joint visit"
    submit(db, audit, today)
    with db.reader() as s:
        lines = {x.task: x for x in obligations(s, org.people["hos"], today, CFG).lines if today in x.period}
        assert audit_kinds.audits_of_kind(s, "multi_agency", auditor_id=org.people["tmn1"]) == []
        assert len(audit_kinds.audits_of_kind(s, "multi_agency", auditor_id=org.people["hos"])) == 1
    assert (lines["audit_case_file"].done, lines["audit_case_file"].status) == (1, "met")


def test_unknown_kind_is_refused(db: Database) -> None:
    with db.reader() as s, pytest.raises(ValidationError, match="expected one of live"):
        audit_kinds.audits_of_kind(s, "party")


def test_practitioners_are_not_offered_as_auditors(db: Database, org: Org, today: date) -> None:
    assert [audit_kinds.may_audit(role) for role in ("SW", "NQSW", "ASWP", "TM", "HOS")] == [
        False, False, True, True, True]
    with db.reader() as s:
        names = [p.name for p in audit_kinds.auditors_for_picking(s, today)]
    assert names == ["Dana Director", "Hari Head", "Nia North", "Sol South", "Tam One", "Tam Two"]
