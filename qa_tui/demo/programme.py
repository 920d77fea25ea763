"""The demo council's programme records: every Inadequate audit escalated to the auditor's
line manager (older ones answered), and the practice improvement team's own tasks from the
Portsmouth table: CP conference and LAC review records audited monthly, conferences and reviews
observed each quarter; and cases moved between the teams of a service in the last three
months, as the trail records a move, owing an audit on transfer."""

from __future__ import annotations

import random
from datetime import date, timedelta

from sqlalchemy import inspect, select
from sqlalchemy.orm import Session

from qa_tui.dates import Month
from qa_tui.db import trail
from qa_tui.db.models import Audit, AuditGrade, Case, Escalation, Observation, Person, Team
from qa_tui.demo.state import Council, at
from qa_tui.services.audits.templates import ensure_template

ANSWERED_AFTER_DAYS = 10  # escalations older than this were answered
TRANSFERS_PER_SERVICE_MONTH = 2


def add_programme_records(council: Council, session: Session) -> None:
    rng = random.Random(f"{council.seed}/programme")
    today = council.today
    if inspect(session.connection()).has_table(Escalation.__tablename__):  # an older schema (a migration test)
        _escalations(council, session, rng, today)
    _practice_improvement_tasks(council, session, rng, today)
    _transfers(session, random.Random(f"{council.seed}/transfers"), today)


def _transfers(session: Session, rng: random.Random, today: date) -> None:
    """A few open cases a month, per service, moved into their team from another of the service's
    teams: the trail's record of the move is what the closure queue and the programme read."""
    teams = session.execute(select(Team.id, Team.service_id).where(Team.service_id.is_not(None))
                            .order_by(Team.code)).all()
    by_service: dict[object, list] = {}
    for team_id, service_id in teams:
        by_service.setdefault(service_id, []).append(team_id)
    month = Month.of(today)
    for service_teams in by_service.values():
        if len(service_teams) < 2:
            continue
        cases = session.execute(select(Case.id, Case.team_id).where(
            Case.team_id.in_(service_teams), Case.closed_on.is_(None)).order_by(Case.reference)).all()
        picks = rng.sample(cases, min(len(cases), 3 * TRANSFERS_PER_SERVICE_MONTH))
        for n, (case_id, team_id) in enumerate(picks):
            first = month.shift(-(n // TRANSFERS_PER_SERVICE_MONTH)).first
            day = min(first + timedelta(days=rng.randint(0, 27)), today)
            came_from = rng.choice([t for t in service_teams if t != team_id])
            event = trail.record_event(session, "update", Case.__tablename__, case_id,
                                       old={"team_id": str(came_from)}, new={"team_id": str(team_id)},
                                       detail="moved team")
            event.at = at(day, 11)


def _escalations(council: Council, session: Session, rng: random.Random, today: date) -> None:
    worst = len(council.live.scale) - 1
    inadequate = select(AuditGrade.audit_id).where(AuditGrade.participant_id.is_(None), AuditGrade.grade == worst)
    rows = session.execute(
        select(Audit.id, Audit.audit_date, Audit.auditor_id, Person.manager_id)
        .join(Person, Person.id == Audit.auditor_id)
        .where(Audit.kind == "live", Audit.status != "draft",
               (Audit.overall_grade == worst) | Audit.id.in_(inadequate))
        .order_by(Audit.audit_date, Audit.id)).all()
    days = council.config.deadlines.escalation_response_days
    for audit_id, held, auditor_id, manager_id in rows:
        owner = manager_id or auditor_id
        raised = min(held + timedelta(days=rng.randint(0, 3)), today)
        answered = raised + timedelta(days=rng.randint(0, days + 2)) if (today - raised).days > ANSWERED_AFTER_DAYS \
            else None
        council.add(Escalation, rng, raised, audit_id=audit_id, owner_id=owner, reason="inadequate",
                    note="Inadequate finding: manager to review the plan with the worker",
                    raised_on=raised, respond_by=raised + timedelta(days=days), answered_on=answered,
                    response="Strategy discussion held and the plan revised" if answered else "")


def _practice_improvement_tasks(council: Council, session: Session, rng: random.Random, today: date) -> None:
    lead = session.execute(select(Person.id, Person.team_id).where(Person.role == "PI")  # columns an older schema has
                           .order_by(Person.staff_id)).first()
    cp_cases = session.scalars(select(Case.id).where(Case.category == "CP", Case.closed_on.is_(None))
                               .order_by(Case.reference).limit(12)).all()
    cla_cases = session.scalars(select(Case.id).where(Case.category == "CLA", Case.closed_on.is_(None))
                                .order_by(Case.reference).limit(12)).all()
    iro = session.scalar(select(Person.id).where(Person.role == "IRO").order_by(Person.staff_id))
    if lead is None or not cp_cases or not cla_cases or iro is None:
        return
    templates = {kind: ensure_template(session, council.config.template(kind)).id
                 for kind in ("cp_conference_record", "lac_review_record")}
    scale = len(council.live.scale)
    month = Month.of(today)
    for back in range(1, 4):  # the last three months: one of each record audited and finalised
        held = month.shift(-back).first + timedelta(days=rng.randint(3, 20))
        for kind, case_id in (("cp_conference_record", cp_cases[back % len(cp_cases)]),
                              ("lac_review_record", cla_cases[back % len(cla_cases)])):  # a small council has few
            grade = rng.randint(0, scale - 2)
            audit_id = council.add(Audit, rng, held, kind=kind, template_id=templates[kind], case_id=case_id,
                                   worker_id=iro, auditor_id=lead.id, team_id=lead.team_id, audit_date=held,
                                   status="finalised", overall_grade=grade, strengths="Clear analysis of risk",
                                   to_improve="Record the child's own words", lived_experience="",
                                   submitted_at=at(held, 14), finalised_at=at(held + timedelta(days=7), 16))
            for domain in council.config.template(kind).domains:
                council.add(AuditGrade, rng, held, audit_id=audit_id, domain=domain.key, participant_id=None,
                            grade=grade, comment="")
    for back, kind in ((0, "cp_conference"), (1, "lac_review")):  # one of each this quarter and last
        observed = today - timedelta(days=20 + 45 * back)
        council.add(Observation, rng, observed, observer_id=lead.id, worker_id=iro, observed_on=observed, kind=kind,
                    setting="Conference chaired in the Civic Offices", went_well="Calm, clear chairing",
                    to_develop="Summarise the plan for the family", reflection="", feedback_shared=True, themes=[])
