"""The dashboard's numbers: this month's audits for the teams a person's dashboard covers (their
team, or the teams under them in the line management), the moderation queue, overdue actions and
supervisions due. Aggregates only, so it stays quick on a large council."""

from __future__ import annotations

import uuid
from datetime import date

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from qa_tui.config import Config
from qa_tui.dates import Month
from qa_tui.db.models import Action, Audit, CaseDraw, Person
from qa_tui.services.audits.record import is_past_moderation_deadline, moderation_deadline_for
from qa_tui.services.people.line_teams import dashboard_scope
from qa_tui.services.programme.dashboard_figures import Dashboard, OverdueActionLine, SupervisionLine


def build_dashboard(session: Session, *, today: date, config: Config,
                    person_id: uuid.UUID | None = None) -> Dashboard:
    """Numbers for the teams `person_id`'s dashboard covers (the config's team when it names one;
    nobody's: the whole council), the late audits escalated to that person and the escalations
    they have to answer (from triage's rules)."""
    from qa_tui.services.practice.supervision import supervision_status
    from qa_tui.services.programme.triage import other_rows

    month = Month.of(today)
    deadline = moderation_deadline_for(today, config)  # for an audit held today
    scope = dashboard_scope(session, person_id, config.user_team)
    team_ids = scope.team_ids

    def for_team(stmt, column):  # noqa: ANN001, ANN202 - a small local filter
        return stmt if team_ids is None else stmt.where(column.in_(team_ids))

    status_counts = dict(session.execute(for_team(
        select(Audit.status, func.count()).where(
            Audit.kind == "live", Audit.audit_date >= month.first, Audit.audit_date <= month.last,
        ).group_by(Audit.status), Audit.team_id)).all())
    drawn = session.scalar(for_team(
        select(func.count()).select_from(CaseDraw).where(CaseDraw.month == str(month)), CaseDraw.team_id)) or 0
    holders = session.scalar(for_team(
        select(func.count()).select_from(Person).where(
            Person.role.in_(config.draw.roles), Person.active_to.is_(None) | (Person.active_to >= today)),
        Person.team_id)) or 0

    waiting, oldest = session.execute(for_team(
        select(func.count(), func.min(Audit.submitted_at)).where(Audit.status == "submitted"),
        Audit.team_id)).one()
    drafts = session.execute(for_team(
        select(Audit.audit_date, Audit.submitted_at).where(Audit.status == "draft", Audit.kind == "live"),
        Audit.team_id)).all()
    late = sum(1 for d in drafts if is_past_moderation_deadline(d, today, config))

    overdue_filter = (Action.status == "open", Action.due_on < today)
    overdue = session.scalar(for_team(
        select(func.count()).select_from(Action).where(*overdue_filter), Action.team_id)) or 0
    top = session.execute(for_team(
        select(Action.title, Person.name, Action.due_on)
        .join(Person, Person.id == Action.owner_id, isouter=True)
        .where(*overdue_filter).order_by(Action.due_on, Action.id).limit(5), Action.team_id)).all()

    supervision = supervision_status(session, today, config, team_ids=team_ids)
    overdue_sup = [row for row in supervision if row.overdue]
    due_soon = [row for row in supervision if row.due_this_week]
    sup_lines = sorted(overdue_sup, key=lambda r: -r.days_overdue)[:5]

    mine = other_rows(session, today, config, owner_id=person_id,
                      kinds=("moderation", "finalisation", "escalation")) if person_id is not None else ()
    return Dashboard(
        escalated_to_me=sum(1 for r in mine if r.kind != "escalation" and r.owner_id != person_id),
        escalations_to_answer=sum(1 for r in mine if r.kind == "escalation"),
        today=today, team_name=scope.name, month=str(month), moderation_deadline=deadline,
        drawn_this_month=drawn > 0, case_holders=holders,
        audits_by_status={s: status_counts.get(s, 0) for s in ("draft", "submitted", "moderated", "finalised")},
        moderation_waiting=waiting or 0, moderation_late=late,
        moderation_oldest=oldest.date() if oldest else None,
        overdue_actions=overdue,
        overdue_action_lines=tuple(
            OverdueActionLine(title, owner or "(no owner)", due, (today - due).days) for title, owner, due in top),
        supervisions_overdue=len(overdue_sup), supervisions_due_soon=len(due_soon),
        supervision_lines=tuple(SupervisionLine(r.worker_name, r.due_on, r.days_overdue) for r in sup_lines),
    )
