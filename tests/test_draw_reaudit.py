"""The draw offers a case due a re-audit for impact (issue 17: moderated Requires improvement or
Inadequate, re-audited `impact_reaudit_months` later) although it was audited within the 12-month
exclusion; the same cases programme.impact lists as due. Draws recorded before the rule keep it off."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

from sqlalchemy import select

from qa_tui.config import default_templates, parse_config
from qa_tui.db.engine import Database
from qa_tui.db.models import Audit, Case, CaseDraw, Moderation
from qa_tui.services.audits.draw import draw_cases_for_team
from qa_tui.services.audits.draw_pools import reaudit_moderated_by, rules_from_dict
from qa_tui.services.audits.draw_verification import verify_draw
from qa_tui.services.audits.templates import ensure_template
from qa_tui.services.programme.impact import reaudits_due
from tests.test_draw import MONTH, _case, _team, _worker

CFG = parse_config({})
RULES = CFG.draw  # as configured: re-audits for impact 3 months after, Requires improvement or worse


def _audited(s, case: Case, on: date, *, status: str = "moderated", kind: str = "live",  # noqa: ANN001
             moderated: tuple[date, int] | None = None, moderator=None) -> None:  # noqa: ANN001
    template = ensure_template(s, default_templates()[0])
    audit = Audit(kind=kind, template_id=template.id, case_id=case.id, worker_id=case.worker_id, audit_date=on,
                  status=status)
    s.add(audit)
    s.flush()
    if moderated is not None:
        s.add(Moderation(audit_id=audit.id, moderator_id=moderator.id, outcome="agreed", overall_grade=moderated[1],
                         moderated_on=moderated[0], grades={}))
        s.flush()


def test_a_case_due_a_reaudit_for_impact_is_offered_despite_the_twelve_month_exclusion(
        db: Database, today: date) -> None:
    with db.session() as s:
        team = _team(s, "R1")
        manager = _worker(s, team, "R1-TM", role="TM")
        worker = _worker(s, team, "R1-S01")
        due = _case(s, "DUE-INADEQUATE", worker)
        _audited(s, due, date(2026, 6, 20), moderated=(date(2026, 7, 1), 3), moderator=manager)
        ri = _case(s, "DUE-RI", worker)
        _audited(s, ri, date(2026, 5, 1), moderated=(date(2026, 8, 24), 2), moderator=manager)  # due 24 Nov: today
        not_yet = _case(s, "NOT-YET-DUE", worker)
        _audited(s, not_yet, date(2026, 10, 1), moderated=(date(2026, 8, 25), 2), moderator=manager)
        good = _case(s, "MODERATED-GOOD", worker)
        _audited(s, good, date(2026, 6, 1), moderated=(date(2026, 6, 5), 1), moderator=manager)
        held = _case(s, "REAUDIT-HELD", worker)
        _audited(s, held, date(2026, 5, 1), moderated=(date(2026, 5, 10), 3), moderator=manager)
        _audited(s, held, date(2026, 10, 5), status="submitted")
        checklist = _case(s, "DIP-SAMPLED", worker)  # a checklist's grade schedules nothing
        _audited(s, checklist, date(2026, 6, 1), kind="dip_sample", moderated=(date(2026, 6, 5), 3), moderator=manager)
        _case(s, "NEVER-AUDITED", worker)
        team_id = team.id
    with db.reader() as s:
        offered = draw_cases_for_team(s, team_id, MONTH, today, RULES, seed="impact")
        s.rollback()
        listed = {r.case_reference for r in reaudits_due(s, today, CFG)}
        without = draw_cases_for_team(s, team_id, MONTH, today, replace(RULES, impact_reaudit_months=0), seed="impact")
        s.rollback()
    assert offered.pools[0].eligible == ("DUE-INADEQUATE", "DUE-RI", "NEVER-AUDITED")
    assert listed == {"DUE-INADEQUATE", "DUE-RI"}
    assert without.pools[0].eligible == ("NEVER-AUDITED",)


def test_a_draw_recorded_before_the_rule_verifies_with_the_rule_off(db: Database, today: date) -> None:
    with db.session() as s:
        team = _team(s, "R2")
        manager = _worker(s, team, "R2-TM", role="TM")
        worker = _worker(s, team, "R2-S01")
        _audited(s, _case(s, "R2-DUE", worker), date(2026, 6, 20), moderated=(date(2026, 7, 1), 3),
                 moderator=manager)
        _case(s, "R2-OPEN", worker)
        team_id = team.id
    with db.session() as s:
        old_rules = {k: v for k, v in draw_cases_for_team(
            s, team_id, MONTH, today, replace(RULES, impact_reaudit_months=0), seed="old").rules.items()
            if not k.startswith("impact_")}
        draw = s.scalar(select(CaseDraw).where(CaseDraw.team_id == team_id))
        draw.rules = old_rules
        draw_id = draw.id
    assert rules_from_dict(old_rules).impact_reaudit_months == 0
    with db.reader() as s:
        checked = verify_draw(s, draw_id, today)
    assert checked.picks_match and checked.pools_current


def test_the_due_date_is_the_moderation_plus_whole_months_clamped_to_the_month_end() -> None:
    assert reaudit_moderated_by(date(2026, 11, 24), 3) == date(2026, 8, 24)
    # 30 November + 3 months is 28 February (clamped): due on 28 February, like 28 November.
    assert reaudit_moderated_by(date(2027, 2, 28), 3) == date(2026, 11, 30)
    assert reaudit_moderated_by(date(2027, 2, 27), 3) == date(2026, 11, 27)
