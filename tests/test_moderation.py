"""Moderation: the lifecycle to finalised, returning for rework, both sets of grades kept, the
separation rule (refusals recorded even when the caller's transaction rolls back), calibration."""

from __future__ import annotations

import uuid
from datetime import date

import pytest
from sqlalchemy import func, select

from qa_tui.db.engine import Database
from qa_tui.db.models import Action, Audit, AuditEvent, AuditGrade, Moderation, Person
from qa_tui.errors import NotAllowed, ValidationError
from qa_tui.services.audits import record as audits
from qa_tui.services.audits import summaries
from qa_tui.services.audits import moderation
from qa_tui.services.audits.actions import add_action
from tests.test_audits import CFG, grade_everything, seed_org, start, submitted_audit


def refusals(db: Database, audit_id: uuid.UUID) -> list[AuditEvent]:
    with db.reader() as s:
        return list(s.scalars(select(AuditEvent).where(
            AuditEvent.action == "refused", AuditEvent.table_name == "audit",
            AuditEvent.record_id == str(audit_id))))


def status_of(db: Database, audit_id: uuid.UUID) -> str:
    with db.reader() as s:
        return s.get(Audit, audit_id).status


def test_lifecycle_from_draft_to_finalised(db: Database, today: date) -> None:
    org = seed_org(db)
    dto = submitted_audit(db, org, today)
    with db.reader() as s:
        queue = moderation.moderation_queue(s, today, cfg=CFG)
    assert [(r.case_reference, r.worker_name, r.auditor_name, r.team_name, r.days_waiting, r.late)
            for r in queue] == [("CASE-0001", "Sam Worker", "Terry Manager", "Assessment 1", 0, False)]
    with db.session() as s:
        with pytest.raises(NotAllowed, match="only a moderated audit can be finalised"):
            moderation.finalise(s, dto.id, today)
        state = moderation.moderate(s, dto.id, org.moderator_id, outcome="agreed", comment="Fair", today=today)
    assert state.status == "moderated"
    with db.reader() as s:
        assert moderation.moderation_queue(s, today, cfg=CFG) == []
        to_finalise = moderation.awaiting_finalisation(s, date(2026, 12, 9), cfg=CFG, team_id=org.team_id)
    assert [(r.case_reference, r.days_waiting, r.late) for r in to_finalise] == [("CASE-0001", 15, True)]
    with db.session() as s:
        with pytest.raises(NotAllowed, match="not waiting for moderation"):
            moderation.moderate(s, dto.id, org.senior_id, outcome="agreed", today=today)
        assert moderation.finalise(s, dto.id, today).status == "finalised"
    with db.reader() as s:
        assert moderation.awaiting_finalisation(s, today, cfg=CFG) == []
        final = audits.get_audit(s, dto.id, today=today, cfg=CFG)
    assert final.status == "finalised"
    assert all(audits.local_date(t) == today for t in (final.submitted_at, final.moderated_at, final.finalised_at))
    assert [(m.outcome, m.moderator.name, m.comment) for m in final.moderations] == [("agreed", "Harper Head", "Fair")]
    assert all(g.moderated == g.agreed == 1 for g in final.grades)
    assert final.moderated_overall == 1


def test_returned_for_rework_goes_back_to_draft_and_can_be_resent(db: Database, today: date) -> None:
    org = seed_org(db)
    dto = submitted_audit(db, org, today)
    with db.session() as s:
        with pytest.raises(ValidationError, match="comment"):
            moderation.moderate(s, dto.id, org.moderator_id, outcome="returned", comment=" ", today=today)
        state = moderation.moderate(s, dto.id, org.moderator_id, outcome="returned",
                                    comment="Evidence for the impact grade is missing", today=today)
    assert state.status == "draft"
    with db.session() as s:
        audits.set_text(s, dto.id, "to_improve", "Record the impact of the plan")
        audits.submit_for_moderation(s, dto.id, date(2026, 11, 25))
        moderation.moderate(s, dto.id, org.moderator_id, outcome="agreed", today=date(2026, 11, 26))
    with db.reader() as s:
        final = audits.get_audit(s, dto.id, today=today, cfg=CFG)
    assert [m.outcome for m in final.moderations] == ["returned", "agreed"]
    assert final.moderations[0].comment == "Evidence for the impact grade is missing"
    assert final.status == "moderated"


def test_regrading_keeps_both_sets_of_grades(db: Database, today: date) -> None:
    org = seed_org(db)
    dto = start(db, org, today)
    grade_everything(db, dto.id, {"impact": 1, "voice": 2}, overall=1)
    with db.session() as s:
        audits.submit_for_moderation(s, dto.id, today)
    with db.session() as s:
        with pytest.raises(ValidationError, match="must change at least one grade"):
            moderation.moderate(s, dto.id, org.moderator_id, outcome="regraded",
                                grades={"impact": (1, "")}, today=today)
        with pytest.raises(ValidationError, match="moderated grade for Impact"):
            moderation.moderate(s, dto.id, org.moderator_id, outcome="regraded", grades={"impact": (7, "")},
                                today=today)
        with pytest.raises(ValidationError, match="choose regraded"):
            moderation.moderate(s, dto.id, org.moderator_id, outcome="agreed", grades={"impact": (2, "")},
                                today=today)
        moderation.moderate(s, dto.id, org.moderator_id, outcome="regraded",
                            grades={"impact": (2, "No evidence the plan changed anything"), "voice": (1, "")},
                            overall_grade=2, comment="Impact overstated", today=today)
    with db.reader() as s:
        final = audits.get_audit(s, dto.id, today=today, cfg=CFG)
        auditor_rows = {g.domain: g.grade for g in s.scalars(select(AuditGrade).where(
            AuditGrade.audit_id == dto.id, AuditGrade.participant_id.is_(None)))}
        text = summaries.audit_record_markdown(s, dto.id, today=today, cfg=CFG)
    assert auditor_rows["impact"] == 1 and auditor_rows["voice"] == 2  # the auditor's grades stand
    impact = next(g for g in final.grades if g.domain == "impact")
    assert (impact.agreed, impact.moderated) == (1, 2)
    assert next(g for g in final.grades if g.domain == "practice").moderated == 1
    assert final.overall_grade == 1 and final.moderated_overall == 2
    moderated = {g.domain: (g.grade, g.comment) for g in final.moderations[0].grades}
    assert moderated["impact"] == (2, "No evidence the plan changed anything") and len(moderated) == 6
    assert "| Impact | Good | **Requires improvement to be good** (regraded) |" in text
    assert "| **Overall** | Good | **Requires improvement to be good** (regraded) |" in text
    assert "| Quality of practice | Good | Good |" in text
    assert "regraded by Harper Head (Impact overstated)" in text


@pytest.mark.parametrize("who", ["auditor", "participant", "worker", "grader"])
def test_nobody_moderates_an_audit_they_took_part_in(db: Database, today: date, who: str) -> None:
    org = seed_org(db)
    dto = submitted_audit(db, org, today, participants=[org.senior_id])
    with db.session() as s:
        # Make whoever is refused hold a moderator role, so only the separation rule stops them.
        person_id = {"auditor": org.auditor_id, "participant": org.senior_id, "worker": org.worker_id,
                     "grader": org.moderator_id}[who]
        s.get(Person, person_id).role = "HOS"
        if who == "grader":  # a grade with no participant row still counts as taking part
            s.add(AuditGrade(audit_id=dto.id, domain="voice", participant_id=org.moderator_id, grade=2))
    with pytest.raises(NotAllowed, match="took part in it"):
        with db.session() as s:
            moderation.moderate(s, dto.id, person_id, outcome="agreed", today=today)
    events = refusals(db, dto.id)
    assert len(events) == 1 and "took part in it" in events[0].detail and events[0].actor == "tester"
    assert status_of(db, dto.id) == "submitted"
    with db.reader() as s:
        assert s.scalar(select(func.count()).select_from(Moderation)) == 0


def test_a_refusal_caught_by_the_caller_is_recorded_once_when_it_commits(db: Database, today: date) -> None:
    org = seed_org(db)
    dto = submitted_audit(db, org, today)
    with db.session() as s:
        with pytest.raises(NotAllowed):
            moderation.moderate(s, dto.id, org.participant_id, outcome="agreed", today=today)
        with s.begin_nested():  # a savepoint ending is not the caller's transaction ending
            s.get(Audit, dto.id)
        assert refusals(db, dto.id) == []  # written once the caller's transaction ends
        moderation.moderate(s, dto.id, org.moderator_id, outcome="agreed", today=today)
    assert len(refusals(db, dto.id)) == 1
    assert status_of(db, dto.id) == "moderated"


def test_only_moderator_roles_may_moderate(db: Database, today: date) -> None:
    org = seed_org(db)
    dto = submitted_audit(db, org, today, participants=[])
    with pytest.raises(NotAllowed, match=r"Pat Advanced \(A001\).*not a moderator role"):
        with db.session() as s:
            moderation.moderate(s, dto.id, org.participant_id, outcome="agreed", today=today)
    assert "not a moderator role" in refusals(db, dto.id)[0].detail
    assert status_of(db, dto.id) == "submitted"


def test_finalising_leaves_open_actions_open(db: Database, today: date) -> None:
    org = seed_org(db)
    dto = submitted_audit(db, org, today)
    with db.session() as s:
        action = add_action(s, title="Update the plan", owner_id=org.worker_id, raised_by_id=org.moderator_id,
                            audit_id=dto.id, today=today, cfg=CFG)
        moderation.moderate(s, dto.id, org.moderator_id, outcome="agreed", today=today)
        moderation.finalise(s, dto.id, today)
    with db.reader() as s:
        assert s.get(Action, action.id).status == "open"
        assert [a.title for a in audits.get_audit(s, dto.id, today=today, cfg=CFG).actions] == ["Update the plan"]


def test_queue_is_oldest_first_with_waiting_days_lateness_and_team_filter(db: Database, today: date) -> None:
    org = seed_org(db)
    newer = start(db, org, today, audit_date=date(2026, 11, 10))
    older = start(db, org, today, case_id=org.other_case_id, audit_date=date(2026, 10, 20))
    for dto, sent in ((newer, date(2026, 11, 20)), (older, date(2026, 10, 30))):
        grade_everything(db, dto.id)
        with db.session() as s:
            audits.submit_for_moderation(s, dto.id, sent)
    with db.reader() as s:
        queue = moderation.moderation_queue(s, today, cfg=CFG)
        other_team = moderation.moderation_queue(s, today, cfg=CFG, team_id=org.other_team_id)
    assert [(r.case_reference, r.submitted_on, r.days_waiting, r.late) for r in queue] == [
        ("CASE-0002", date(2026, 10, 30), 25, True), ("CASE-0001", date(2026, 11, 20), 4, False)]
    assert other_team == []


def test_calibration_counts_domains_agreed_and_regraded_up_or_down(db: Database, today: date) -> None:
    org = seed_org(db)
    agreed = submitted_audit(db, org, today)
    regraded = submitted_audit(db, org, today, case_id=org.other_case_id)
    with db.session() as s:
        moderation.moderate(s, agreed.id, org.moderator_id, outcome="agreed", today=date(2026, 11, 20))
        moderation.moderate(s, regraded.id, org.moderator_id, outcome="regraded", today=date(2026, 11, 21),
                            grades={"voice": (0, "better than graded"), "impact": (3, ""), "outcomes": (2, "")})
    with db.reader() as s:
        both = moderation.calibration(s, date(2026, 11, 1), date(2026, 11, 30))
        first_only = moderation.calibration(s, date(2026, 11, 1), date(2026, 11, 20))
        none = moderation.calibration(s, date(2026, 12, 1), date(2026, 12, 31))
    assert (both.audits, both.agreed, both.regraded_up, both.regraded_down) == (2, 9, 1, 2)
    voice = next(d for d in both.by_domain if d.domain == "voice")
    assert (voice.agreed, voice.regraded_up, voice.regraded_down) == (1, 1, 0)
    assert (first_only.audits, first_only.agreed, first_only.regraded_up, first_only.regraded_down) == (1, 6, 0, 0)
    assert (none.audits, none.agreed) == (0, 0)


def test_moderating_needs_a_known_outcome_and_a_submitted_audit(db: Database, today: date) -> None:
    org = seed_org(db)
    draft = start(db, org, today)
    with db.session() as s:
        with pytest.raises(ValidationError, match="outcome"):
            moderation.moderate(s, draft.id, org.moderator_id, outcome="approved", today=today)
        with pytest.raises(NotAllowed, match="not waiting for moderation"):
            moderation.moderate(s, draft.id, org.moderator_id, outcome="agreed", today=today)
    assert refusals(db, draft.id) == []

