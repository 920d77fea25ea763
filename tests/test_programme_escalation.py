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
