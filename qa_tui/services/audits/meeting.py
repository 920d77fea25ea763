"""The live audit meeting: a team's draw for the month, one audit per picked case, and the
meeting's position kept as a draft so a killed session resumes exactly where it was."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from qa_tui.config import Config
from qa_tui.dates import Month
from qa_tui.db.models import Audit
from qa_tui.errors import NotAllowed, NotFound, ValidationError
from qa_tui.services.audits.record import (
    AuditDTO,
    case_label,
    get_audit,
    load_audit,
    start_audit,
    submit_for_moderation,
)
from qa_tui.services.audits.drafts import clear_draft, load_draft, save_draft
from qa_tui.services.audits.draw import CurrentPick, DrawSummary, draw_cases_for_team, get_draw, latest_draw
from qa_tui.services.people.directory import TeamRef, list_teams


@dataclass(frozen=True)
class MeetingCase:
    pick: CurrentPick
    audit_id: uuid.UUID | None
    audit_status: str | None


@dataclass(frozen=True)
class MeetingPlan:
    """A team's draw for a month, and how far each picked case has got."""

    team: TeamRef
    month: str
    draw: DrawSummary | None
    cases: tuple[MeetingCase, ...]  # workers with a pick, in the draw's order
    without_case: tuple[CurrentPick, ...]  # workers whose pool was empty, with the reason


@dataclass(frozen=True)
class ResumePoint:
    draw_id: uuid.UUID
    team_name: str
    index: int
    field: str
    text: str
    case_reference: str


def draft_key(login: str) -> str:
    return f"live-meeting:{login}"


def meeting_teams(session: Session) -> list[TeamRef]:
    return list_teams(session)


def meeting_plan(session: Session, team_id: uuid.UUID, month: Month) -> MeetingPlan:
    team = next((t for t in list_teams(session) if t.id == team_id), None)
    if team is None:
        raise NotFound("That team does not exist or is not active.")
    draw = latest_draw(session, team_id, month)
    return _plan(session, team, month, draw)


def plan_for_draw(session: Session, draw_id: uuid.UUID) -> MeetingPlan:
    draw = get_draw(session, draw_id)
    team = TeamRef(draw.team_id, draw.team_code, draw.team_name)
    return _plan(session, team, Month.parse(draw.month), draw)


def _plan(session: Session, team: TeamRef, month: Month, draw: DrawSummary | None) -> MeetingPlan:
    if draw is None:
        return MeetingPlan(team, str(month), None, (), ())
    picked = [p for p in draw.picks if p.pick_id is not None]
    audits = {pick_id: (audit_id, status) for pick_id, audit_id, status in session.execute(
        select(Audit.draw_pick_id, Audit.id, Audit.status).where(
            Audit.draw_pick_id.in_([p.pick_id for p in picked])))} if picked else {}
    cases = tuple(MeetingCase(p, *audits.get(p.pick_id, (None, None))) for p in picked)
    return MeetingPlan(team, str(month), draw, cases, tuple(p for p in draw.picks if p.pick_id is None))


def draw_for_meeting(session: Session, team_id: uuid.UUID, month: Month, *, today: date, cfg: Config,
                     drawn_by: str, seed: str | None = None) -> MeetingPlan:
    """Draw this month's cases for the team (refused when the team already has a draw this month:
    re-draw one worker instead, with a reason)."""
    if latest_draw(session, team_id, month) is not None:
        raise NotAllowed("This team already has a draw this month. Re-draw one worker's case instead (with a reason).")
    draw = draw_cases_for_team(session, team_id, month, today, cfg.draw, seed=seed, drawn_by=drawn_by)
    return plan_for_draw(session, draw.id)


def open_case(session: Session, case: MeetingCase, *, draw: DrawSummary, auditor_id: uuid.UUID | None,
              participants: list[uuid.UUID], today: date, cfg: Config) -> AuditDTO:
    """The live audit for a picked case: started now (draft) or resumed if already begun."""
    if case.audit_id is not None:
        return get_audit(session, case.audit_id, today=today, cfg=cfg)
    if auditor_id is None:
        raise ValidationError("user", "you are not linked to a person record, so cannot lead an audit; "
                                      "set [user] staff_id in the config file")
    pick = case.pick
    if pick.case_id is None or pick.pick_id is None:
        raise NotFound(f"{pick.worker_name} has no drawn case to audit.")
    from qa_tui.services.audits.participants import attendance_ids

    participants = [*participants, *attendance_ids(session, draw.id)]  # everyone attending takes part
    return start_audit(session, kind="live", template=cfg.template("live"), case_id=pick.case_id,
                       worker_id=pick.worker_id, auditor_id=auditor_id, team_id=draw.team_id,
                       audit_date=today, draw_pick_id=pick.pick_id, participants=participants,
                       today=today, cfg=cfg)


def keep_position(session: Session, login: str, *, draw_id: uuid.UUID, index: int, field: str = "",
                  text: str = "", audit_id: uuid.UUID | None = None) -> None:
    """Remember where the meeting is, including text typed into a field not yet saved."""
    payload: dict[str, Any] = {"draw_id": draw_id, "index": index, "field": field, "text": text,
                               "audit_id": audit_id}
    save_draft(session, draft_key(login), payload, login)


def resume_point(session: Session, login: str) -> ResumePoint | None:
    draft = load_draft(session, draft_key(login))
    if draft is None:
        return None
    try:
        plan = plan_for_draw(session, uuid.UUID(str(draft.payload["draw_id"])))
    except (KeyError, ValueError, NotFound):
        return None
    index = int(draft.payload.get("index", 0))
    if not plan.cases:
        return None
    index = max(0, min(index, len(plan.cases) - 1))
    return ResumePoint(plan.draw.id if plan.draw else uuid.uuid4(), plan.team.name, index,
                       str(draft.payload.get("field", "")), str(draft.payload.get("text", "")),
                       plan.cases[index].pick.case_reference or "")


def end_meeting(session: Session, login: str) -> None:
    clear_draft(session, draft_key(login))


def submit_complete_drafts(session: Session, audit_ids: list[uuid.UUID], today: date) -> tuple[list[uuid.UUID], list[str]]:
    """Send every complete draft to moderation; incomplete ones stay draft, each with its reason."""
    sent: list[uuid.UUID] = []
    problems: list[str] = []
    for audit_id in audit_ids:
        try:
            with session.begin_nested():
                submit_for_moderation(session, audit_id, today)
            sent.append(audit_id)
        except (ValidationError, NotAllowed) as exc:
            problems.append(f"{case_label(load_audit(session, audit_id))}: {exc}")
    return sent, problems
