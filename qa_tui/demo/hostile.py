"""The hostile council (`qa-tui demo --hostile`): the demo council with every name, title, theme
and free text carrying what people and files really bring — Rich markup, terminal escapes,
spreadsheet formulas, right-to-left marks, emoji and very long words — so every screen, report
and export can be seen to show them as typed. The same seed gives the same council.

The text is dressed as the rows are written (`dressing.py`), past the checks every service
applies, as if from an older version or another tool. This module adds what the plain demo has
none of (themes, support plans, good practice, a sync conflict), so that every screen has
something hostile to show."""

from __future__ import annotations

import random
import uuid
from dataclasses import dataclass
from datetime import datetime, timezone

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from qa_tui.db.models import (
    AgencyFinding,
    Audit,
    AuditParticipant,
    Case,
    GoodPractice,
    Observation,
    Person,
    SupportPlan,
    SupportStep,
    SyncConflict,
    SyncImport,
    Theme,
    ThemeCase,
)
from qa_tui.demo.dressing import hostile
from qa_tui.demo.state import Council, days
from qa_tui.services.audits.templates import ensure_template
from qa_tui.services.sync.bundle import content_hash
from qa_tui.services.sync.tables import load_rows, plain_fields, table_specs
from qa_tui.text import without_controls

@dataclass(frozen=True)
class _Team:
    manager: Person
    workers: list[Person]
    cases: list[Case]


def _first_team(session: Session, staff_id: str) -> _Team:
    manager = session.scalars(select(Person).where(Person.staff_id == staff_id)).one()
    workers = list(session.scalars(select(Person).where(Person.team_id == manager.team_id, Person.id != manager.id)
                                   .order_by(Person.staff_id)))
    cases = list(session.scalars(select(Case).where(Case.team_id == manager.team_id, Case.closed_on.is_(None),
                                                    Case.worker_id.is_not(None)).order_by(Case.reference).limit(6)))
    return _Team(manager, workers, cases)


def add_hostile_records(council: Council, session: Session, user_staff_id: str) -> None:
    """Themes (themed and multi-agency) with audits in the first team, a finding per agency,
    good practice, a support plan with steps, and a sync conflict waiting for a decision."""
    rng = random.Random(f"{council.seed}/hostile")
    team = _first_team(session, user_staff_id)
    today, tm = council.today, team.manager
    agencies = ["Health visiting", "Police", "School"]
    audits: list[uuid.UUID] = []
    for kind, name in (("themed", "Neglect and the voice of the child"),
                       ("multi_agency", "Domestic abuse: a joint look with partners")):
        stored = ensure_template(session, council.config.template(kind))
        theme_id = council.add(Theme, rng, today - days(20), kind=kind, name=name,
                               description="What the audits look at, and why now.", template_key=stored.key,
                               requested_by="Head of service, Safeguarding", created_on=today - days(20),
                               status="open", rules=[], agencies=agencies if kind == "multi_agency" else [],
                               learning="Share the learning at the practice week.")
        for index, case in enumerate(team.cases[:3]):
            audit_id = None
            if index == 0:
                audit_id = council.add(
                    Audit, rng, today - days(5), kind=kind, template_id=stored.id, case_id=case.id,
                    worker_id=case.worker_id, auditor_id=tm.id, team_id=case.team_id, audit_date=today - days(5),
                    status="draft", draw_pick_id=None, overall_grade=None,
                    strengths="The chronology shows what happened and when.",
                    to_improve="Record the child's own words.", lived_experience="School is where they feel safe.",
                    submitted_at=None, moderated_at=None, finalised_at=None)
                council.add(AuditParticipant, rng, today - days(5), audit_id=audit_id, person_id=tm.id)
                audits.append(audit_id)
            council.add(ThemeCase, rng, today - days(20), theme_id=theme_id, case_id=case.id,
                        auditor_id=tm.id if index < 2 else None, audit_id=audit_id, added_by_rule=False)
    for agency in agencies:
        council.add(AgencyFinding, rng, today - days(4), audit_id=audits[1], agency=agency,
                    finding="Shared the referral late.", learning="Use the joint referral form.")
    council.add(GoodPractice, rng, today - days(3), source_kind="audit", source_id=audits[0],
                worker_id=team.cases[0].worker_id, why="Creative direct work with the child.", marked_by_id=tm.id,
                marked_on=today - days(3))
    observation_id = session.scalar(select(Observation.id).where(Observation.worker_id == team.workers[0].id)
                                    .order_by(Observation.observed_on.desc()).limit(1))
    if observation_id is not None:
        council.add(GoodPractice, rng, today - days(2), source_kind="observation", source_id=observation_id,
                    worker_id=team.workers[0].id, why="Calm, clear and kind.", marked_by_id=tm.id,
                    marked_on=today - days(2))
    plan_id = council.add(SupportPlan, rng, today - days(40), worker_id=team.workers[1].id, manager_id=tm.id,
                          aim="Timely recording of visits.", started_on=today - days(40), status="open",
                          closed_on=None, outcome="")
    for offset, step in ((-10, "Record each visit within two working days."), (14, "Review the chronology together.")):
        council.add(SupportStep, rng, today - days(40), plan_id=plan_id, step=step, due_on=today + days(offset),
                    done_on=None, follow_up_id=None)
    council.writer.flush()
    _add_conflict(council, session, rng, team.workers[2])


def _add_conflict(council: Council, session: Session, rng: random.Random, worker: Person) -> None:
    """A laptop's edit of a worker kept aside as a conflict. What a bundle brings can hold no
    control character (imports refuse them), so its text is dressed without them."""
    spec = table_specs()["person"]
    live = plain_fields(spec, load_rows(session, spec, [worker.id])[worker.id])
    fields = {**live, "name": without_controls(hostile(f"{worker.name} (laptop copy)"))}
    bundle_id = council.new_id(rng)
    at = datetime(council.today.year, council.today.month, council.today.day, 9, tzinfo=timezone.utc)
    session.execute(insert(SyncImport.__table__).values(
        bundle_id=bundle_id, receipt={}, imported_at=at, device=without_controls(hostile("laptop-7", 80)),
        exported_by=without_controls(hostile("laptop user", 120))))
    session.execute(insert(SyncConflict.__table__).values(
        id=council.new_id(rng), table_name="person", record_id=worker.id, reason="edited-elsewhere",
        incoming=fields, incoming_hash=content_hash(fields), base_version=1, live_version=1, bundle_id=bundle_id,
        status="open", resolution=None, resolved_by=None, resolved_at=None))
