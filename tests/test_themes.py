"""Themed and multi-agency audits: rules evaluated in SQL, the case list by rule and by hand,
sharing cases out, starting audits with the theme's template, progress, findings per agency and
the themed report."""

from __future__ import annotations

import stat
from datetime import date, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from qa_tui.config import parse_config
from qa_tui.dates import add_months
from qa_tui.db.engine import Database
from qa_tui.db.models import Audit, AuditEvent, AuditTemplate, Case
from qa_tui.errors import NotAllowed, ValidationError
from qa_tui.services.audits import record as audits
from qa_tui.services.audits import theme_report, theme_rules, themes
from qa_tui.services.audits.theme_rules import CaseRule
from tests.kinds_seed import Org, seed_org

CFG = parse_config({})


@pytest.fixture
def org(db: Database, today: date) -> Org:
    return seed_org(db, today)


def refs(db: Database, rules: list[CaseRule], today: date) -> list[str]:
    with db.reader() as s:
        return [c.reference for c in theme_rules.cases_matching(s, rules, today)]


def test_each_rule_chooses_open_cases_in_sql(db: Database, org: Org, today: date) -> None:
    assert refs(db, [CaseRule("cp_ending_within", 3)], today) == ["C-001", "C-006"]  # C-007 is closed
    assert refs(db, [CaseRule("cp_ending_within", 6)], today) == ["C-001", "C-003", "C-006"]
    assert refs(db, [CaseRule("cp_longer_than", 18)], today) == ["C-002"]
    assert refs(db, [CaseRule("cp_longer_than", 6)], today) == ["C-001", "C-002", "C-006"]
    assert refs(db, [CaseRule("category_in", values=("CIN", "CLA"))], today) == ["C-004", "C-005"]
    assert refs(db, [CaseRule("team_in", values=("S1",))], today) == ["C-005", "C-006"]
    assert refs(db, [CaseRule("opened_within", 2)], today) == ["C-004"]
    together = [CaseRule("cp_ending_within", 3), CaseRule("team_in", values=("N1", "N2"))]
    assert refs(db, together, today) == ["C-001"]


def test_plan_ending_on_the_boundary_counts_and_one_already_ended_does_not(db: Database, org: Org, today: date) -> None:
    with db.session() as s:
        s.get(Case, org.cases["C-003"]).cp_plan_end = add_months(today, 3)
        s.get(Case, org.cases["C-006"]).cp_plan_end = today - timedelta(days=1)
    assert refs(db, [CaseRule("cp_ending_within", 3)], today) == ["C-001", "C-003"]


@pytest.mark.parametrize(("rule", "message"), [
    (CaseRule("cp_ending_within", 0), "from 1 to 240"),
    (CaseRule("cp_longer_than", None), "from 1 to 240"),
    (CaseRule("category_in", values=("XX",)), "unknown category 'XX'"),
    (CaseRule("team_in", values=("N1", "ZZ9")), "no team has the code 'ZZ9'"),
    (CaseRule("team_in"), "at least one value"),
    (CaseRule("placed_out_of_area", 1), "expected one of"),
])
def test_bad_rules_are_named(db: Database, org: Org, today: date, rule: CaseRule, message: str) -> None:
    with db.reader() as s, pytest.raises(ValidationError) as info:
        theme_rules.cases_matching(s, [CaseRule("category_in", values=("CP",)), rule], today)
    assert info.value.field == "rule 2" and message in info.value.problem


def test_themed_audit_from_rule_to_report(db: Database, org: Org, today: date, tmp_path: Path) -> None:
    with db.session() as s:
        theme = themes.create_theme(s, name="CP plans ending within 3 months", requested_by="Dana Director",
                                    description="Is step-down planned well?", today=today, cfg=CFG)
        added = themes.add_cases_by_rule(s, theme.id, [CaseRule("cp_ending_within", 3)], today)
        assert (added.added, added.already, added.references) == (2, 0, ("C-001", "C-006"))
        again = themes.add_cases_by_rule(s, theme.id, [CaseRule("cp_longer_than", 18)], today)
        assert again.references == ("C-002",)
        hand = themes.add_case_by_reference(s, theme.id, " C-007 ")  # closed, picked by hand
        assert hand.reference == "C-007" and not hand.added_by_rule
        with pytest.raises(ValidationError, match="already in the theme"):
            themes.add_case_by_reference(s, theme.id, "C-001")
        with pytest.raises(ValidationError, match="no case has the reference 'NOPE'"):
            themes.add_case_by_reference(s, theme.id, "NOPE")
        given = themes.assign_evenly(s, theme.id, [org.people["tmn1"], org.people["hos"]])
    assert given == 4
    with db.reader() as s:
        rows = {r.reference: r for r in themes.theme_cases(s, theme.id)}
    assert [rows[r].auditor_name for r in ("C-001", "C-002", "C-006", "C-007")] == [
        "Tam One", "Hari Head", "Tam One", "Hari Head"]

    with db.session() as s:
        with pytest.raises(NotAllowed, match="given to Tam One"):
            themes.start_theme_audit(s, rows["C-001"].id, org.people["hos"], today=today, cfg=CFG)
        audit = themes.start_theme_audit(s, rows["C-001"].id, org.people["tmn1"], today=today, cfg=CFG)
        assert audit.kind == "themed" and audit.template.key == "themed"
        assert audit.worker is not None and audit.worker.name == "Robin Ash"
        again = themes.start_theme_audit(s, rows["C-001"].id, org.people["tmn1"], today=today, cfg=CFG)
        assert again.id == audit.id  # resumed, not a second audit
        for domain in audit.template.domains:
            audits.set_grade(s, audit.id, domain.key, 1)
        audits.set_overall_grade(s, audit.id, 1)
        audits.set_text(s, audit.id, "strengths", "Step-down plan agreed with the family")
        audits.submit_for_moderation(s, audit.id, today)
        themes.start_theme_audit(s, rows["C-002"].id, org.people["hos"], today=today, cfg=CFG)
        with pytest.raises(NotAllowed, match="has been started"):
            themes.assign_case(s, rows["C-001"].id, org.people["hos"])
        themes.set_theme_learning(s, theme.id, "Plan step-down from the first review.")

    with db.reader() as s:
        progress = theme_report.theme_progress(s, theme.id)
        by_name = {p.name: p for p in progress.by_auditor}
        assert (by_name["Tam One"].assigned, by_name["Tam One"].submitted, by_name["Tam One"].not_started) == (2, 1, 1)
        assert (by_name["Hari Head"].assigned, by_name["Hari Head"].draft) == (2, 1)
        assert progress.completed == 1
        summary = themes.list_themes(s)[0]
        assert (summary.cases, summary.assigned, summary.started, summary.completed) == (4, 4, 2, 1)
        report = theme_report.theme_report_markdown(s, theme.id, today=today, cfg=CFG)
    assert "# Themed audit: CP plans ending within 3 months" in report
    assert "CP plan ends within 3 months (2 added)" in report
    assert "### Case C-001 (Good)" in report and "Step-down plan agreed with the family" in report
    assert "C-002 (" not in report  # still a draft: not in the findings
    assert "| Tam One | 2 | 1 | 0 | 1 | 0 |" in report
    assert "| **Overall** | 0 | 1 | 0 | 0 |" in report
    assert "Plan step-down from the first review." in report

    with db.session() as s:
        path = theme_report.export_theme_report(s, theme.id, today=today, cfg=CFG, out_dir=tmp_path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600 and path.read_text() == report
    with db.reader() as s:
        assert s.scalar(select(AuditEvent.detail).where(AuditEvent.action == "export",
                                                        AuditEvent.table_name == "theme")).endswith(str(path))


def test_a_rule_matching_too_many_cases_is_refused(db: Database, org: Org, today: date,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(themes, "MAX_CASES_BY_RULE", 2)
    with db.session() as s:
        theme = themes.create_theme(s, name="Every CP plan", today=today, cfg=CFG)
        with pytest.raises(ValidationError, match="more than 2 open cases match"):
            themes.add_cases_by_rule(s, theme.id, [CaseRule("category_in", values=("CP",))], today)
        assert themes.theme_cases(s, theme.id) == []


def test_theme_template_must_exist_and_be_of_its_kind(db: Database, org: Org, today: date) -> None:
    with db.session() as s:
        with pytest.raises(ValidationError, match="no template has the key 'nope'"):
            themes.create_theme(s, name="X", template_key="nope", today=today, cfg=CFG)
        with pytest.raises(ValidationError, match="needs a template of kind themed"):
            themes.create_theme(s, name="X", template_key="live", today=today, cfg=CFG)
        custom = parse_config({"templates": [{"key": "neglect", "name": "Neglect themed audit", "kind": "themed",
                                              "domains": [{"key": "signs", "label": "Signs of neglect seen"}]}]})
        theme = themes.create_theme(s, name="Neglect", template_key="neglect", today=today, cfg=custom)
        row = themes.add_case_by_reference(s, theme.id, "C-004")
        audit = themes.start_theme_audit(s, row.id, org.people["tmn2"], today=today, cfg=custom)
        assert [d.label for d in audit.template.domains] == ["Signs of neglect seen"]
        assert s.scalar(select(AuditTemplate.kind).join(Audit, Audit.template_id == AuditTemplate.id)
                        .where(Audit.id == audit.id)) == "themed"
        themes.close_theme(s, theme.id)
        with pytest.raises(NotAllowed, match="is closed"):
            themes.add_case_by_reference(s, theme.id, "C-005")


def test_multi_agency_audit_findings_per_agency_and_learning(db: Database, org: Org, today: date) -> None:
    with db.session() as s:
        with pytest.raises(ValidationError, match="name the agencies"):
            themes.create_theme(s, kind="multi_agency", name="Neglect", agencies=" , ", today=today, cfg=CFG)
        theme = themes.create_theme(s, kind="multi_agency", name="Neglect in under-fives",
                                    requested_by="Safeguarding partnership",
                                    agencies="Health, Police, Education, health", today=today, cfg=CFG)
        assert theme.agencies == ("Health", "Police", "Education")
        row = themes.add_case_by_reference(s, theme.id, "C-003")
        audit = themes.start_theme_audit(s, row.id, org.people["opsn"], today=today, cfg=CFG)
        assert audit.kind == "multi_agency" and audit.template.key == "multi_agency"
        themes.set_agency_finding(s, audit.id, "police", finding="Referral shared within a day",
                                  learning="Keep the daily triage call")
        themes.set_agency_finding(s, audit.id, "Health", finding="Health visitor not invited to the strategy meeting")
        themes.set_agency_finding(s, audit.id, "Health", finding="Health visitor missed from the strategy meeting",
                                  learning="Invite health to every strategy meeting")
        with pytest.raises(ValidationError, match="'Probation' is not taking part"):
            themes.set_agency_finding(s, audit.id, "Probation", finding="x")
        with pytest.raises(ValidationError, match="say what the audit found"):
            themes.set_agency_finding(s, audit.id, "Education", finding="  ")
        themes.set_theme_learning(s, theme.id, "Fed back to the partnership board in March.")
    with db.reader() as s:
        findings = themes.agency_findings(s, audit.id)
        assert [(f.agency, f.finding) for f in findings] == [
            ("Health", "Health visitor missed from the strategy meeting"), ("Police", "Referral shared within a day")]
        report = theme_report.theme_report_markdown(s, theme.id, today=today, cfg=CFG)
    assert "# Multi-agency audit: Neglect in under-fives" in report
    assert "| Agencies taking part | Health, Police, Education |" in report
    health = report.index("### Health")
    assert report.index("Invite health to every strategy meeting") > health
    assert "### Education\n\n_No findings recorded._" in report
    assert "Fed back to the partnership board in March." in report


def test_agency_findings_only_on_multi_agency_audits(db: Database, org: Org, today: date) -> None:
    with db.session() as s:
        theme = themes.create_theme(s, name="Themed", today=today, cfg=CFG)
        row = themes.add_case_by_reference(s, theme.id, "C-001")
        audit = themes.start_theme_audit(s, row.id, org.people["tmn1"], today=today, cfg=CFG)
        with pytest.raises(NotAllowed, match="multi-agency"):
            themes.set_agency_finding(s, audit.id, "Health", finding="x")


@pytest.mark.parametrize(("kind", "text", "rule"), [
    ("cp_ending_within", " 3 ", CaseRule("cp_ending_within", 3)),
    ("category_in", "cp, cla,,", CaseRule("category_in", values=("CP", "CLA"))),
    ("team_in", "N1 , n2", CaseRule("team_in", values=("N1", "n2"))),
])
def test_a_rule_as_typed(kind: str, text: str, rule: CaseRule) -> None:
    assert theme_rules.rule_from_text(kind, text) == rule


def test_months_must_be_a_whole_number() -> None:
    with pytest.raises(ValidationError, match="Months: expected a whole number, got 'three'"):
        theme_rules.rule_from_text("opened_within", "three")
    assert theme_rules.rule_prompt("opened_within") == "Months"
    assert theme_rules.rule_prompt("category_in") == "Categories (EH, CIN, CP, CLA, CL), separated by commas"
