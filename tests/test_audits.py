"""The live audit record: starting and resuming, field-by-field saving with optimistic locking,
sending for moderation, deadline flags, the meeting summary, the worker's record and drafts."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import func, select

from qa_tui.config import Config, parse_config
from qa_tui.db.engine import Database
from qa_tui.db.models import Audit, AuditEvent, Case, CaseDraw, DrawPick, FollowUp, Person, Service, Team
from qa_tui.errors import ChangedElsewhere, NotAllowed, ValidationError
from qa_tui.services.audits import record as audits
from qa_tui.services.audits import summaries
from qa_tui.services.audits import drafts
from qa_tui.services.audits.actions import add_action

CFG = parse_config({})
LIVE = CFG.template("live")


@dataclass(frozen=True)
class Org:
    team_id: uuid.UUID
    other_team_id: uuid.UUID
    worker_id: uuid.UUID  # SW whose case is audited
    auditor_id: uuid.UUID  # TM running the audit
    participant_id: uuid.UUID  # ASWP sitting in
    moderator_id: uuid.UUID  # HOS, took no part
    senior_id: uuid.UUID  # SM, a moderator role
    case_id: uuid.UUID
    other_case_id: uuid.UUID


def seed_org(db: Database) -> Org:
    """A small synthetic organisation: one service, two teams, five people, two cases."""
    with db.session() as s:
        service = Service(code="CS", name="Children's services")
        team = Team(code="T1", name="Assessment 1", service=service)
        other = Team(code="T2", name="Family support 2", service=service)
        s.add_all([service, team, other])
        s.flush()
        people = {}
        for key, staff_id, name, role, team_ in [
            ("worker", "W001", "Sam Worker", "SW", team),
            ("auditor", "M001", "Terry Manager", "TM", team),
            ("participant", "A001", "Pat Advanced", "ASWP", team),
            ("moderator", "H001", "Harper Head", "HOS", None),
            ("senior", "S001", "Sasha Senior", "SM", None),
        ]:
            people[key] = Person(staff_id=staff_id, name=name, role=role, team_id=team_.id if team_ else None)
        s.add_all(people.values())
        s.flush()
        case = Case(reference="CASE-0001", category="CIN", worker_id=people["worker"].id, team_id=team.id,
                    opened_on=date(2026, 1, 5))
        other_case = Case(reference="CASE-0002", category="CP", worker_id=people["worker"].id, team_id=team.id,
                          opened_on=date(2026, 3, 9))
        s.add_all([case, other_case])
        s.flush()
        return Org(team.id, other.id, people["worker"].id, people["auditor"].id, people["participant"].id,
                   people["moderator"].id, people["senior"].id, case.id, other_case.id)


def start(db: Database, org: Org, today: date, *, case_id: uuid.UUID | None = None,
          audit_date: date = date(2026, 11, 10), **kwargs) -> audits.AuditDTO:
    with db.session() as s:
        return audits.start_audit(
            s, kind="live", template=LIVE, case_id=case_id or org.case_id, worker_id=org.worker_id,
            auditor_id=org.auditor_id, team_id=org.team_id, audit_date=audit_date,
            participants=kwargs.pop("participants", [org.participant_id]), today=today, cfg=CFG, **kwargs)


def grade_everything(db: Database, audit_id: uuid.UUID, grades: dict[str, int] | None = None,
                     overall: int | None = 1, skip: str = "") -> None:
    with db.session() as s:
        for d in LIVE.domains:
            if d.key != skip:
                audits.set_grade(s, audit_id, d.key, (grades or {}).get(d.key, 1))
        if overall is not None:
            audits.set_overall_grade(s, audit_id, overall)


def submitted_audit(db: Database, org: Org, today: date, **kwargs) -> audits.AuditDTO:
    dto = start(db, org, today, **kwargs)
    grade_everything(db, dto.id)
    with db.session() as s:
        audits.submit_for_moderation(s, dto.id, today)
    return dto


def test_start_gives_a_draft_with_the_auditor_taking_part(db: Database, today: date) -> None:
    org = seed_org(db)
    dto = start(db, org, today)
    assert dto.status == "draft" and dto.kind == "live"
    assert dto.case_reference == "CASE-0001" and dto.case_category == "CIN"
    assert dto.worker.name == "Sam Worker" and dto.worker.staff_id == "W001"
    assert dto.auditor.name == "Terry Manager"
    assert {p.id for p in dto.participants} == {org.auditor_id, org.participant_id}
    assert dto.template.name == "Live case audit" and dto.template.version == 1
    assert dto.template.scale[0] == "Outstanding"
    assert [g.domain for g in dto.grades] == [d.key for d in LIVE.domains]
    assert all(g.agreed is None and g.moderated is None for g in dto.grades)
    assert dto.moderation_deadline == date(2026, 11, 28)
    assert dto.finalise_by == date(2026, 12, 8)
    assert not dto.past_moderation_deadline and not dto.not_finalised_in_time
    assert dto.actions == () and dto.moderations == ()


def test_starting_a_drawn_pick_twice_resumes_the_same_audit(db: Database, today: date) -> None:
    org = seed_org(db)
    with db.session() as s:
        draw = CaseDraw(team_id=org.team_id, month="2026-11", seed="s", algorithm="v1", rules={},
                        drawn_on=today)
        s.add(draw)
        s.flush()
        pick = DrawPick(draw_id=draw.id, worker_id=org.worker_id, case_reference="CASE-0001", case_id=org.case_id)
        s.add(pick)
        s.flush()
        pick_id = pick.id
    first = start(db, org, today, draw_pick_id=pick_id)
    with db.session() as s:
        audits.set_text(s, first.id, "strengths", "Clear plan")
    again = start(db, org, today, draw_pick_id=pick_id)
    assert again.id == first.id and again.strengths == "Clear plan"
    with db.reader() as s:
        assert s.scalar(select(func.count()).select_from(Audit)) == 1
    with db.session() as s:
        redraw = DrawPick(draw_id=draw.id, worker_id=org.worker_id, case_reference="CASE-0001",
                          case_id=org.case_id, round=1, replaces_id=pick_id)
        s.add(redraw)
        s.flush()
        redraw_id = redraw.id
    with pytest.raises(ValidationError, match="the drawn case is CASE-0001"):
        start(db, org, today, draw_pick_id=redraw_id, case_id=org.other_case_id)


def test_every_field_save_bumps_one_version_and_stale_saves_are_refused(db: Database, today: date) -> None:
    org = seed_org(db)
    dto = start(db, org, today)
    with db.session() as s:
        saved = audits.set_grade(s, dto.id, "voice", 1, comment="Child's wishes recorded",
                                 expected_version=dto.version)
    assert saved.version == dto.version + 1
    with db.session() as s:
        same = audits.set_grade(s, dto.id, "voice", 1, expected_version=saved.version)
    assert same.version == saved.version  # nothing changed, nothing written
    with db.session() as s:
        after_text = audits.set_text(s, dto.id, "to_improve", "Update the chronology",
                                     expected_version=saved.version)
    with pytest.raises(ChangedElsewhere, match="CASE-0001"):
        with db.session() as s:
            audits.set_text(s, dto.id, "strengths", "my stale edit", expected_version=saved.version)
    with pytest.raises(ChangedElsewhere):
        with db.session() as s:
            audits.set_grade(s, dto.id, "impact", 2, expected_version=saved.version)
    with db.reader() as s:
        current = audits.get_audit(s, dto.id, today=today, cfg=CFG)
    assert current.version == after_text.version
    assert current.strengths == "" and current.to_improve == "Update the chronology"
    voice = next(g for g in current.grades if g.domain == "voice")
    assert voice.agreed == 1 and voice.comment == "Child's wishes recorded"
    assert next(g for g in current.grades if g.domain == "impact").agreed is None


def test_a_concurrent_write_between_load_and_save_is_changed_elsewhere(db: Database, today: date) -> None:
    org = seed_org(db)
    dto = start(db, org, today)
    with db.reader() as s:
        stale = s.get(Audit, dto.id)
    with db.session() as s:
        audits.set_text(s, dto.id, "strengths", "saved first")
    with pytest.raises(ChangedElsewhere):
        with db.session() as s:
            # Held in the identity map (a strong reference) with the version it was loaded at.
            held = s.merge(stale, load=False)
            audits.set_text(s, held.id, "strengths", "saved second")
    with db.reader() as s:
        assert s.get(Audit, dto.id).strengths == "saved first"


def test_grades_are_checked_against_the_template(db: Database, today: date) -> None:
    org = seed_org(db)
    dto = start(db, org, today)
    with db.session() as s:
        with pytest.raises(ValidationError, match="'feelings' is not a domain of Live case audit"):
            audits.set_grade(s, dto.id, "feelings", 1)
        with pytest.raises(ValidationError, match="grade for Impact: expected a grade from 0 .* to 3"):
            audits.set_grade(s, dto.id, "impact", 4)
        with pytest.raises(ValidationError, match="Impact"):
            audits.set_grade(s, dto.id, "impact", -1)
        with pytest.raises(ValidationError):
            audits.set_grade(s, dto.id, "impact", True)  # type: ignore[arg-type]
        with pytest.raises(ValidationError, match="overall grade"):
            audits.set_overall_grade(s, dto.id, 9)
        with pytest.raises(ValidationError, match="field"):
            audits.set_text(s, dto.id, "child_name", "never stored")
        audits.set_grade(s, dto.id, "impact", 2)
        audits.set_grade(s, dto.id, "impact", None)
    with db.reader() as s:
        assert next(g for g in audits.get_audit(s, dto.id, today=today, cfg=CFG).grades
                    if g.domain == "impact").agreed is None


def test_participant_grades_are_kept_beside_the_agreed_grade(db: Database, today: date) -> None:
    org = seed_org(db)
    dto = start(db, org, today, participants=[])
    with db.session() as s:
        audits.set_grade(s, dto.id, "practice", 2, participant_id=org.senior_id, comment="mine")
        audits.set_grade(s, dto.id, "practice", 1, participant_id=org.auditor_id)
        audits.set_grade(s, dto.id, "practice", 1)
    with db.reader() as s:
        current = audits.get_audit(s, dto.id, today=today, cfg=CFG)
    practice = next(g for g in current.grades if g.domain == "practice")
    assert practice.agreed == 1
    assert [(p.participant.name, p.grade, p.comment) for p in practice.by_participant] == [
        ("Sasha Senior", 2, "mine"), ("Terry Manager", 1, "")]
    assert org.senior_id in {p.id for p in current.participants}  # giving a grade is taking part


def test_submit_is_refused_naming_the_missing_domain(db: Database, today: date) -> None:
    org = seed_org(db)
    dto = start(db, org, today)
    grade_everything(db, dto.id, skip="voice")
    with pytest.raises(ValidationError, match="Voice of the child"):
        with db.session() as s:
            audits.submit_for_moderation(s, dto.id, today)
    with db.session() as s:
        audits.set_grade(s, dto.id, "voice", 0)
    dto2 = start(db, org, today, case_id=org.other_case_id)
    grade_everything(db, dto2.id, overall=None)
    with pytest.raises(ValidationError, match="overall grade"):
        with db.session() as s:
            audits.submit_for_moderation(s, dto2.id, today)
    with db.session() as s:
        state = audits.submit_for_moderation(s, dto.id, today)
    assert state.status == "submitted"
    with db.reader() as s:
        current = audits.get_audit(s, dto.id, today=today, cfg=CFG)
        assert s.get(Audit, dto2.id).status == "draft"
    assert audits.local_date(current.submitted_at) == today


def test_a_submitted_audit_cannot_be_edited(db: Database, today: date) -> None:
    org = seed_org(db)
    dto = submitted_audit(db, org, today)
    with db.session() as s:
        for edit in (lambda: audits.set_text(s, dto.id, "strengths", "late change"),
                     lambda: audits.set_grade(s, dto.id, "voice", 0),
                     lambda: audits.set_overall_grade(s, dto.id, 0),
                     lambda: audits.add_participant(s, dto.id, org.senior_id),
                     lambda: audits.submit_for_moderation(s, dto.id, today)):
            with pytest.raises(NotAllowed, match="only a draft can be changed"):
                edit()


def test_a_finding_goes_to_the_workers_supervision_agenda(db: Database, today: date) -> None:
    org = seed_org(db)
    dto = start(db, org, today)
    with db.session() as s:
        finding = audits.mark_finding_for_supervision(s, dto.id, "Discuss the missed visit in October", today)
    with db.reader() as s:
        item = s.get(FollowUp, finding.id)
    assert (item.worker_id, item.source_kind, item.source_id, item.raised_on) == (
        org.worker_id, "audit", dto.id, today)
    with pytest.raises(ValidationError, match="summary"):
        with db.session() as s:
            audits.mark_finding_for_supervision(s, dto.id, "   ", today)


def test_moderation_deadline_and_finalising_flags(db: Database, today: date) -> None:
    org = seed_org(db)
    dto = start(db, org, today)  # held 2026-11-10: moderation by 28 Nov, finalised by 8 Dec
    with db.reader() as s:
        row = s.get(Audit, dto.id)
    assert not audits.is_past_moderation_deadline(row, date(2026, 11, 28), CFG)
    assert audits.is_past_moderation_deadline(row, date(2026, 11, 29), CFG)
    assert not audits.is_not_finalised_in_time(row, date(2026, 12, 8), CFG)
    assert audits.is_not_finalised_in_time(row, date(2026, 12, 9), CFG)
    grade_everything(db, dto.id)
    with db.session() as s:
        audits.submit_for_moderation(s, dto.id, date(2026, 11, 30))
    with db.reader() as s:
        late = audits.get_audit(s, dto.id, today=date(2026, 12, 1), cfg=CFG)
    assert late.past_moderation_deadline  # sent on the 30th: late, and stays flagged
    assert audits.is_past_moderation_deadline(late, date(2027, 5, 1), CFG)

    held_after_the_28th = start(db, org, today, case_id=org.other_case_id, audit_date=date(2026, 11, 30))
    assert held_after_the_28th.moderation_deadline == date(2026, 12, 28)
    assert not held_after_the_28th.past_moderation_deadline

    from qa_tui.config import Deadlines
    strict = Config(deadlines=Deadlines(moderation_day=15, finalise_within_weeks=2))
    assert audits.is_past_moderation_deadline(row, date(2026, 11, 16), strict)
    assert audits.finalise_by(row.audit_date, strict) == date(2026, 11, 24)


def test_session_summary_lists_what_goes_to_moderation(db: Database, today: date) -> None:
    org = seed_org(db)
    first = start(db, org, today)
    second = start(db, org, today, case_id=org.other_case_id)
    grade_everything(db, first.id, {"voice": 0, "impact": 2}, overall=1)
    with db.session() as s:
        add_action(s, title="Update the chronology", owner_id=org.worker_id, raised_by_id=org.auditor_id,
                   audit_id=first.id, today=today, cfg=CFG)
        audits.submit_for_moderation(s, first.id, today)
    with db.reader() as s:
        rows = summaries.session_summary(s, [second.id, first.id], today=today, cfg=CFG)
    assert [r.case_reference for r in rows] == ["CASE-0002", "CASE-0001"]
    assert rows[1].worker_name == "Sam Worker" and rows[1].status == "submitted"
    assert ("Voice of the child", "Outstanding") in rows[1].grades
    assert ("Impact", "Requires improvement to be good") in rows[1].grades
    assert rows[1].overall == "Good"
    assert [a.title for a in rows[1].actions] == ["Update the chronology"]
    assert rows[0].overall == "—" and rows[0].actions == ()


def test_the_workers_record_holds_grades_texts_and_actions(db: Database, today: date, tmp_path: Path) -> None:
    org = seed_org(db)
    dto = start(db, org, today)
    grade_everything(db, dto.id, {"voice": 0}, overall=2)
    with db.session() as s:
        audits.set_text(s, dto.id, "strengths", "Warm, direct work | with the family")
        audits.set_text(s, dto.id, "lived_experience", "Stable at school; sleeps well.")
        add_action(s, title="Add the school's views to the plan", owner_id=org.worker_id,
                   raised_by_id=org.auditor_id, audit_id=dto.id, due_on=date(2026, 12, 11), today=today, cfg=CFG)
    with db.reader() as s:
        text = summaries.audit_record_markdown(s, dto.id, today=today, cfg=CFG)
    assert text.startswith("# Live case audit: case CASE-0001")
    assert "| Voice of the child | Outstanding |" in text
    assert "| **Overall** | Requires improvement to be good |" in text
    assert "Moderated grade" not in text
    assert "Warm, direct work | with the family" in text
    assert "## To improve\n\n_Nothing recorded._" in text
    assert "| Add the school's views to the plan | Sam Worker | 2026-12-11 | open |" in text
    assert "Sam Worker (W001)" in text
    with db.session() as s:
        path = summaries.export_audit_record(s, dto.id, today=today, cfg=CFG, out_dir=tmp_path / "out")
    assert path.name == "audit-CASE-0001-2026-11-10.md" and path.stat().st_mode & 0o777 == 0o600
    assert path.read_text(encoding="utf-8") == text
    with db.reader() as s:
        assert s.scalar(select(AuditEvent.detail).where(AuditEvent.action == "export")).endswith(path.name)


def test_drafts_round_trip_and_are_listed_per_owner(db: Database) -> None:
    pick = uuid.uuid4()
    payload = {"draw_pick": pick, "case": "CASE-0001", "field": "strengths", "text": "Half-typed sen",
               "held_on": date(2026, 11, 24)}
    with db.session() as s:
        drafts.save_draft(s, "meeting:tm1", payload, "tm1")
        drafts.save_draft(s, "meeting:other", {"field": "voice"}, "someone")
    with db.session() as s:
        loaded = drafts.load_draft(s, "meeting:tm1")
    assert loaded.payload == {"draw_pick": str(pick), "case": "CASE-0001", "field": "strengths",
                              "text": "Half-typed sen", "held_on": "2026-11-24"}
    with db.session() as s:
        drafts.save_draft(s, "meeting:tm1", {**loaded.payload, "text": "Half-typed sentence"}, "tm1")
        drafts.save_draft(s, "note:tm1", {"x": 1}, "tm1")
    with db.reader() as s:
        mine = drafts.list_drafts(s, "tm1")
        assert drafts.load_draft(s, "meeting:tm1").payload["text"] == "Half-typed sentence"
    assert sorted(d.key for d in mine) == ["meeting:tm1", "note:tm1"]
    assert mine[0].updated_at >= mine[1].updated_at
    with db.session() as s:
        assert drafts.clear_draft(s, "meeting:tm1") is True
        assert drafts.clear_draft(s, "meeting:tm1") is False
    with db.reader() as s:
        assert drafts.load_draft(s, "meeting:tm1") is None
        assert [d.key for d in drafts.list_drafts(s, "tm1")] == ["note:tm1"]
    with pytest.raises(ValidationError, match="draft key"):
        with db.session() as s:
            drafts.save_draft(s, "", {}, "tm1")


def test_every_audit_change_is_on_the_trail(db: Database, today: date) -> None:
    org = seed_org(db)
    dto = start(db, org, today)
    with db.session() as s:
        audits.set_text(s, dto.id, "to_improve", "Chronology")
    with db.reader() as s:
        updates = s.scalars(select(AuditEvent).where(
            AuditEvent.table_name == "audit", AuditEvent.record_id == str(dto.id),
            AuditEvent.action == "update")).all()
    assert [e.new for e in updates] == [{"to_improve": "Chronology"}]
