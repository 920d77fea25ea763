"""Escalation (issue 17): late audits reach the auditor's line manager, and a week later theirs,
in triage; a head of service's triage covers every team of their service."""

from __future__ import annotations

import uuid
from datetime import date

from qa_tui.db.engine import Database
from qa_tui.db.models import Service
from qa_tui.services.programme.escalation import escalated_to, escalation_level
from qa_tui.services.programme.triage import TriageFilters, other_rows, triage_counts
from tests.test_triage import CFG, TODAY, all_rows, scenario


def test_the_escalation_rule() -> None:
    sw, tm, hos = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    managers = {sw: tm, tm: hos, hos: None}
    assert escalated_to(sw, 0, False, managers) == ()
    assert escalated_to(sw, 1, True, managers) == (tm,)
    assert escalated_to(sw, 6, True, managers) == (tm,)
    assert escalated_to(sw, 7, True, managers) == (tm, hos)
    assert escalated_to(hos, 30, True, managers) == ()  # nobody above
    assert [escalation_level(p, sw, (tm, hos)) for p in (sw, tm, hos, uuid.uuid4())] == [0, 1, 2, -1]


def test_late_audits_show_for_the_line_manager_then_theirs(db: Database) -> None:
    ids = scenario(db)  # TM1 audits; TM1 reports to OPS1, who reports to HOS1

    def audit_rows(owner: str, today: date = TODAY) -> set[tuple[str, str]]:
        names = {v: k for k, v in ids.items()}
        with db.reader() as s:
            rows = other_rows(s, today, CFG,
                              owner_id=ids[owner], kinds=("moderation", "finalisation"))
        return {(r.kind, names[r.record_id]) for r in rows}

    late = {("moderation", "late draft"), ("finalisation", "late draft"), ("finalisation", "sent, not finalised")}
    assert audit_rows("TM1") == late
    assert audit_rows("OPS1") == late  # the line manager, from the day each is late
    assert audit_rows("HOS1") == late  # a week or more late: the next one up too
    assert audit_rows("TM2") == set()
    # On 20 November "sent, not finalised" (due 17 November) is three days late: not yet HOS1's.
    early = date(2026, 11, 20)
    assert ("finalisation", "sent, not finalised") in audit_rows("OPS1", early)
    assert ("finalisation", "sent, not finalised") not in audit_rows("HOS1", early)
    # The whole paged list with an owner filter shows the escalated rows too.
    rows = all_rows(db, TriageFilters(owner_id=ids["HOS1"], kinds=("moderation",)))
    assert [(r.kind, r.record_id, r.owner_name) for r in rows] == [("moderation", ids["late draft"], "Person TM1")]
    assert rows[0].escalated_to == (ids["OPS1"], ids["HOS1"])


def test_a_head_of_service_sees_every_team_of_their_service(db: Database) -> None:
    ids = scenario(db)
    with db.reader() as s:
        s1 = s.query(Service).filter_by(code="S1").one().id
    everything = all_rows(db)
    service = all_rows(db, TriageFilters(service_id=s1))
    assert {r.team_id for r in everything} >= {ids["A1"], ids["A2"], ids["B1"]}
    assert {r.team_id for r in service} == {ids["A1"], ids["A2"]}
    assert {r.record_id for r in service} == {r.record_id for r in everything if r.team_id in (ids["A1"], ids["A2"])}
    with db.reader() as s:
        counts = triage_counts(s, TODAY, CFG,
                               TriageFilters(service_id=s1))
    assert counts["dip_sample"] == sum(r.kind == "dip_sample" for r in service)
    assert counts["action"] == sum(r.kind == "action" for r in service)


async def test_the_triage_screen_scopes_to_a_service_by_key(db: Database) -> None:
    from qa_tui.demo import DEMO_USER_STAFF_ID, build_demo
    from tests.pilot import SIZE, make_app, make_context, screen_text, settle, url_of

    build_demo(db, today=TODAY, cases=400)
    with db.reader() as s:
        services = sorted(s.query(Service).all(), key=lambda x: x.name)
        first = services[0]
        teams_of_first = {t.id for t in first.teams}
    ctx = make_context(url_of(db), today=TODAY, staff_id=DEMO_USER_STAFF_ID)
    app = make_app(ctx)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("t")
        await settle(pilot)
        await pilot.press("v", "down", "enter")  # "Every service", then the first service by name
        await settle(pilot)
        screen = app.screen
        assert screen.filters.service_id == first.id and screen.filters.team_id is None
        assert f"service {first.name}" in screen_text(app)
        rows = list(screen.rows)
        assert rows and all(r.team_id in teams_of_first for r in rows)
    ctx.db.dispose()


def test_an_inadequate_audit_needs_a_named_escalation_owner_and_is_triaged_until_answered(db: Database) -> None:
    import pytest

    from qa_tui.errors import NeedsEscalationOwner, NotAllowed, ValidationError
    from qa_tui.services.audits import record as audits
    from qa_tui.services.audits.escalations import answer_escalation, open_escalations, raise_escalation
    from tests.test_audits import grade_everything, seed_org, start

    org = seed_org(db)
    audit = start(db, org, TODAY)
    grade_everything(db, audit.id, overall=1)
    domain = audit.grades[0].domain
    with db.session() as s:  # one domain Inadequate (the worst grade): not even saved without an owner
        with pytest.raises(NeedsEscalationOwner, match="escalation owner") as refused:
            audits.set_grade(s, audit.id, domain, 3)
        assert refused.value.field.startswith("grade for ")
        with pytest.raises(NeedsEscalationOwner, match="overall grade: Inadequate needs a named escalation owner"):
            audits.set_overall_grade(s, audit.id, 3)
    with db.reader() as s:
        dto = audits.get_audit(s, audit.id, today=TODAY, cfg=CFG)
        assert dto.overall_grade == 1 and dto.grades[0].agreed != 3  # nothing written
    with db.session() as s:
        with pytest.raises(ValidationError, match="escalation owner"):
            raise_escalation(s, audit.id, owner_id=None, reason="inadequate", note="", today=TODAY, cfg=CFG)
        not_a_manager = r"Pat Advanced \(advanced practitioner\) is not a manager; escalate to a team manager"
        with pytest.raises(ValidationError, match=not_a_manager):
            raise_escalation(s, audit.id, owner_id=org.participant_id, reason="inadequate", note="", today=TODAY,
                             cfg=CFG)  # a practitioner sitting in is not who a finding is escalated to
        esc = raise_escalation(s, audit.id, owner_id=org.senior_id, reason="inadequate",
                               note="Child seen at home; [plan] needs review", today=TODAY, cfg=CFG)
        audits.set_grade(s, audit.id, domain, 3)  # the owner named: saved
        audits.submit_for_moderation(s, audit.id, TODAY)
    assert esc.respond_by == date(2026, 11, 26)  # two days by default
    rows = [r for r in all_rows(db, TriageFilters(kinds=("escalation",)))]
    assert [(r.record_id, r.owner_id, r.late) for r in rows] == [(esc.id, org.senior_id, False)]
    late = [r for r in all_rows(db, TriageFilters(kinds=("escalation",), min_days_overdue=1))]
    assert late == []
    with db.reader() as s:
        later = other_rows(s, date(2026, 11, 30), CFG, kinds=("escalation",))
    assert [(r.late, r.days_overdue) for r in later] == [(True, 4)]
    with db.session() as s:
        with pytest.raises(NotAllowed):
            answer_escalation(s, esc.id, "Seen", org.auditor_id, TODAY)
        answer_escalation(s, esc.id, "Strategy discussion held; plan revised", org.senior_id, TODAY)
        assert open_escalations(s) == []
    assert all_rows(db, TriageFilters(kinds=("escalation",))) == []


def test_only_the_escalation_owner_acting_as_themselves_answers_it(db: Database) -> None:
    """The rule lives in the permissions module: the person acting in the session, not an
    argument, must be the owner; a laptop's bundle answering someone else's escalation is refused."""
    import pytest

    from qa_tui.db.acting import acting_of
    from qa_tui.errors import NotAllowed
    from qa_tui.services.audits.escalations import answer_escalation, open_escalations, raise_escalation
    from qa_tui.services.sync.recheck import refusal
    from tests.permissions_seed import act_as, nobody
    from tests.test_audits import seed_org, start

    org = seed_org(db)
    audit = start(db, org, TODAY)
    with db.session() as s:
        esc = raise_escalation(s, audit.id, owner_id=org.senior_id, reason="risk_now",
                               note="Seen at school", today=TODAY, cfg=CFG)
    act_as(db, org.auditor_id)
    with db.session() as s, pytest.raises(NotAllowed, match="may not answer this escalation: only its owner"):
        answer_escalation(s, esc.id, "Handled", None, TODAY)
    with db.session() as s:  # naming the owner does not make the auditor the owner
        with pytest.raises(NotAllowed, match="only its owner"):
            answer_escalation(s, esc.id, "Handled", org.senior_id, TODAY)
        assert [e.id for e in open_escalations(s)] == [esc.id]
        who = acting_of(s)
        live = {"owner_id": str(org.senior_id), "answered_on": None, "response": ""}
        assert "only its owner" in refusal(s, who, "escalation", {**live, "response": "Handled",
                                                                   "answered_on": TODAY.isoformat()}, live)
        assert refusal(s, who, "escalation", {**live, "note": "more"}, live) == ""
    act_as(db, org.senior_id)
    with db.session() as s:
        answer_escalation(s, esc.id, "Strategy meeting held", None, TODAY)
        assert open_escalations(s) == []
    nobody(db)


async def test_escalating_from_the_audit_form_by_keys_lets_an_inadequate_audit_go_to_moderation(db: Database) -> None:
    from sqlalchemy import select

    from qa_tui.db.models import Audit, AuditGrade, Escalation, Person
    from qa_tui.demo import DEMO_USER_STAFF_ID, build_demo
    from qa_tui.services.audits.kinds import start_supervision_file_audit
    from screens.audits.audit_form import AuditFormScreen
    from tests.pilot import SIZE, make_app, make_context, screen_text, settle, url_of

    build_demo(db, today=TODAY, cases=400)
    ctx = make_context(url_of(db), today=TODAY, staff_id=DEMO_USER_STAFF_ID)
    with db.session() as s:
        worker = s.scalar(select(Person).where(Person.role == "SW").order_by(Person.staff_id))
        me = s.scalar(select(Person).where(Person.staff_id == DEMO_USER_STAFF_ID))
        audit_id = start_supervision_file_audit(s, worker.id, me.id, today=TODAY, cfg=ctx.config).id
    app = make_app(ctx)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        app.push_screen(AuditFormScreen(audit_id))
        await settle(pilot)
        await pilot.press("w", *"Gaps of [9] weeks", "escape")
        await pilot.press("4", "2", "2", "2", "2", "2")  # one domain Inadequate, then the rest, in one burst
        await settle(pilot)
        editor = app.screen.query_one("AuditEditor")
        first = editor.grades.rows[0]
        assert first.grade == 3 and "needs an escalation owner" in first.note  # beside the field, kept
        assert "Inadequate needs a named escalation owner" in screen_text(app)
        with db.reader() as s:  # the Inadequate is not saved; everything after it is
            grades = dict(s.execute(select(AuditGrade.domain, AuditGrade.grade).where(
                AuditGrade.audit_id == audit_id, AuditGrade.participant_id.is_(None))).all())
            assert grades.get(first.key) is None and len(grades) >= 4
            assert s.get(Audit, audit_id).strengths == "Gaps of [9] weeks"
        await pilot.press("u", "y")
        await settle(pilot)
        with db.reader() as s:
            assert s.get(Audit, audit_id).status == "draft"  # refused: no owner named yet
        await pilot.press("exclamation_mark")
        await settle(pilot)
        await pilot.press("enter", "down", "enter")  # the owner list: the first person
        await settle(pilot)
        await pilot.press("tab", *"Seen today [urgent]", "enter")
        await settle(pilot)
        assert "needs an escalation owner" not in editor.grades.rows[0].note
        await pilot.press("u", "y")
        await settle(pilot)
    with db.reader() as s:
        assert s.scalar(select(AuditGrade.grade).where(AuditGrade.audit_id == audit_id, AuditGrade.domain == first.key,
                                                       AuditGrade.participant_id.is_(None))) == 3
        escalation = s.scalar(select(Escalation).where(Escalation.audit_id == audit_id))
        assert escalation is not None and escalation.note == "Seen today [urgent]"
        assert escalation.reason == "inadequate" and escalation.respond_by == date(2026, 11, 26)
        assert s.get(Audit, audit_id).status == "submitted"
    ctx.db.dispose()


def test_the_dashboard_counts_late_audits_escalated_to_the_viewer(db: Database) -> None:
    from qa_tui.services.programme.dashboard import build_dashboard

    ids = scenario(db)
    with db.reader() as s:
        ops = build_dashboard(s, today=TODAY, config=CFG, person_id=ids["OPS1"])
        tm = build_dashboard(s, today=TODAY, config=CFG, person_id=ids["TM1"])
        nobody = build_dashboard(s, today=TODAY, config=CFG)
    assert (ops.escalated_to_me, ops.escalations_to_answer) == (3, 0)
    assert tm.escalated_to_me == 0  # their own late audits are theirs, not escalated to them
    assert nobody.escalated_to_me == 0


def test_a_head_of_service_sees_what_their_service_owes(db: Database, capsys) -> None:  # noqa: ANN001
    from qa_tui.cli import main
    from qa_tui.services.programme.compliance import compliance

    ids = scenario(db)
    with db.reader() as s:
        s1 = s.query(Service).filter_by(code="S1").one().id
        whole = compliance(s, TODAY, CFG)
        service = compliance(s, TODAY, CFG, service_id=s1)
    assert {t.group for t in whole.totals} >= {"A1", "A2", "B1"}
    # the service's teams, and its senior staff in no team grouped by role within the service
    assert {t.group for t in service.totals if "@" not in t.group} == {"A1", "A2"}
    assert {t.group for t in service.totals if "@" in t.group} <= {"OPS@S1", "HOS@S1", "DD@S1"}
    assert ids["B1"] not in {r.group for r in service.rows}
    url = db.engine.url.render_as_string(hide_password=False)
    assert main(["--db", url, "--today", TODAY.isoformat(), "report", "compliance", "--service", "S1"]) == 0
    out = capsys.readouterr().out
    assert "(A1)" in out and "(B1)" not in out
    assert main(["--db", url, "--today", TODAY.isoformat(), "report", "compliance", "--service", "NOPE"]) != 0
