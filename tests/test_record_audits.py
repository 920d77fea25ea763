"""Audits of records other than a child's case file (issue 17): CP conference and looked-after
review records of a case in that category, and a foster carer's or adopter's file by its
reference; started, resumed, listed, and by keys from the Audits area with their own templates."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select

from qa_tui.config import parse_config
from qa_tui.db.engine import Database
from qa_tui.db.models import Audit, AuditGrade
from qa_tui.errors import NotAllowed, ValidationError
from qa_tui.services.audits.kinds import audits_of_kind, form_context
from qa_tui.services.audits.record_audits import cases_for_record_audit, start_record_audit
from tests.kinds_seed import Org, seed_org
from tests.pilot import SIZE, make_app, make_context, screen_text, settle, url_of
from tests.test_screens_audit_kinds import choose, grade_labels, screen_name, table_column, type_and_enter

CFG = parse_config({})
TODAY = date(2026, 11, 24)
RECORDS = ("cp_conference_record", "lac_review_record", "carer_file")


@pytest.fixture
def org(db: Database) -> Org:
    return seed_org(db, TODAY)


def test_record_audits_start_on_the_right_record_and_resume_the_draft(db: Database, org: Org) -> None:
    hos = org.people["hos"]
    with db.session() as s:
        cp = [c.reference for c in cases_for_record_audit(s, "cp_conference_record", TODAY)]
        cla = [c.reference for c in cases_for_record_audit(s, "lac_review_record", TODAY, search="c-0")]
        assert cp == ["C-001", "C-002", "C-003", "C-006"]  # open CP cases only (C-007 closed)
        assert cla == ["C-005"]
        conference = start_record_audit(s, "cp_conference_record", hos, case_id=org.cases["C-002"], today=TODAY,
                                        cfg=CFG)
        again = start_record_audit(s, "cp_conference_record", hos, case_id=org.cases["C-002"], today=TODAY, cfg=CFG)
        assert again.id == conference.id and conference.template.key == "cp_conference_record"
        with pytest.raises(ValidationError, match="case: a looked-after child review record audit is of a CLA case; "
                                                  "C-002 is CP"):
            start_record_audit(s, "lac_review_record", hos, case_id=org.cases["C-002"], today=TODAY, cfg=CFG)
        with pytest.raises(ValidationError, match="carer's reference: .*never a name"):
            start_record_audit(s, "carer_file", hos, record_reference="Mrs Smith", today=TODAY, cfg=CFG)
        with pytest.raises(ValidationError, match="kind"):
            start_record_audit(s, "live", hos, case_id=org.cases["C-002"], today=TODAY, cfg=CFG)
        with pytest.raises(NotAllowed):
            start_record_audit(s, "carer_file", org.people["swa"], record_reference="FC-1", today=TODAY, cfg=CFG)
        carer = start_record_audit(s, "carer_file", hos, record_reference=" FC-0231 ", today=TODAY, cfg=CFG)
        assert carer.record_reference == "FC-0231" and carer.case_id is None and carer.subject == "carer file FC-0231"
        assert start_record_audit(s, "carer_file", hos, record_reference="FC-0231", today=TODAY, cfg=CFG).id == carer.id
        assert form_context(s, carer.id, today=TODAY, cfg=CFG).subject == "Foster carer or adopter file FC-0231"
    with db.reader() as s:
        listed = [(r.kind, r.subject) for r in audits_of_kind(s, RECORDS, auditor_id=hos)]
    assert sorted(listed) == [("carer_file", "FC-0231"), ("cp_conference_record", "C-002")]


async def keys(pilot, *pressed: str) -> None:  # noqa: ANN001 - a Pilot
    """Press the keys as one burst, then wait for what they started."""
    await pilot.press(*pressed)
    await settle(pilot)


async def test_record_audits_by_keys_from_the_audits_area(db: Database, org: Org) -> None:
    ctx = make_context(url_of(db), today=TODAY, staff_id="HOS1")
    async with make_app(ctx).run_test(size=SIZE) as pilot:
        await settle(pilot)
        await keys(pilot, "u", "8")
        assert "Record audits" in screen_text(pilot.app)
        await keys(pilot, "n")
        await choose(pilot, "looked-after child's review record")
        await type_and_enter(pilot, "")  # every open looked-after child
        await choose(pilot, "C-005")
        assert screen_name(pilot) == "AuditFormScreen"
        text = screen_text(pilot.app)
        assert "Looked-after child review record audit" in text and "Case C-005 (CLA)" in text
        assert grade_labels(pilot) == [d.label for d in CFG.template("lac_review_record").domains] + ["Overall"]
        await keys(pilot, *["2"] * len(grade_labels(pilot)))
        await keys(pilot, "u", "y")
        await keys(pilot, "escape")

        await keys(pilot, "n")
        await choose(pilot, "carer's or adopter's file")
        await type_and_enter(pilot, "Mrs Smith")  # a name: refused beside the field, kept to correct
        assert screen_name(pilot) == "TextPrompt" and "never a name" in screen_text(pilot.app)
        await keys(pilot, *["backspace"] * 9, *"FC-0231", "enter")
        assert screen_name(pilot) == "AuditFormScreen"
        assert "Foster carer or adopter file FC-0231" in screen_text(pilot.app)
        await keys(pilot, "escape")
        assert sorted(table_column(pilot, "#ao-records", 1)) == ["C-005", "FC-0231"]
    with db.reader() as s:
        review = s.scalar(select(Audit).where(Audit.kind == "lac_review_record"))
        assert review.status == "submitted" and review.overall_grade == 1
        assert s.scalar(select(AuditGrade.grade).where(AuditGrade.audit_id == review.id).limit(1)) == 1
        assert s.scalar(select(Audit.record_reference).where(Audit.kind == "carer_file")) == "FC-0231"
    ctx.db.dispose()
