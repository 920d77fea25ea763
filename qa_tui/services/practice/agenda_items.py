"""The substance of each supervision follow-up: what the finding says (to improve, what to
develop, what went well, the family's words, the dip-sample areas not met), where it comes from
and when, the record to open, and the worker's response to it."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from qa_tui.db.models import Audit, AuditGrade, Case, Feedback, Observation, Person, RecordSeen
from qa_tui.services.practice.followups import FollowUpView
from qa_tui.services.practice.responses import ResponseView, responses_for

OBSERVATION_LABELS = {
    "asye": "ASYE direct observation",
    "annual": "Annual practice observation",
    "peer": "Peer observation",
    "iro_review": "IRO review observation",
}
GIVERS = {"child": "a child", "young_person": "a young person", "parent": "a parent", "carer": "a carer",
          "professional": "a professional"}
# The follow-up's source → the kind of record a response is kept against.
RESPONSE_KIND = {"audit": "audit", "dip_sample": "audit", "observation": "observation"}


@dataclass(frozen=True)
class Finding:
    """What a follow-up is about, enough to discuss it without opening the record."""

    heading: str  # the source, its date and what tells it from another on the same day
    lines: tuple[tuple[str, str], ...]  # (label, text as typed), only those with something in them
    record_kind: str  # "audit", "observation", "feedback" or "" (nothing to open)
    record_id: uuid.UUID | None
    event_on: date
    response: ResponseView | None

    def text(self) -> str:
        """The finding as plain text: the heading, each line, then the worker's response."""
        out = [self.heading, *(f"{label}: {value}" for label, value in self.lines)]
        if self.response is not None:
            out.append(self.response.line)
            if self.response.reflection:
                out.append(f"Their reflection: {self.response.reflection}")
        return "\n".join(out)


def findings_for(session: Session, items: Sequence[FollowUpView]) -> dict[uuid.UUID, Finding]:
    """Follow-up id → its finding, for a whole agenda in a few queries."""
    found = record_findings(session, [(f.source_kind, f.source_id) for f in items if f.source_id])
    return {f.id: found.get((f.source_kind, f.source_id))  # type: ignore[misc]
            or Finding(f"{f.source_label} from {_day(f.event_on)}", (), "", None, f.event_on, None)
            for f in items}


def record_findings(session: Session, refs: Sequence[tuple[str, uuid.UUID]]) -> dict[tuple[str, uuid.UUID], Finding]:
    """(kind, record id) → the record's finding with the worker's response, for kinds "audit",
    "dip_sample", "observation" and "feedback"; records that no longer exist are left out."""
    ids = {kind: {record_id for k, record_id in refs if k == kind}
           for kind in ("audit", "dip_sample", "observation", "feedback")}
    audits = {a.id: a for a in session.scalars(select(Audit).where(Audit.id.in_(ids["audit"] | ids["dip_sample"])))}
    observations = {o.id: o for o in session.scalars(select(Observation).where(Observation.id.in_(ids["observation"])))}
    feedback = {f.id: f for f in session.scalars(select(Feedback).where(Feedback.id.in_(ids["feedback"])))}
    grades: dict[uuid.UUID, list[AuditGrade]] = {}
    for g in session.scalars(select(AuditGrade).where(AuditGrade.audit_id.in_(ids["dip_sample"]),
                                                      AuditGrade.participant_id.is_(None))):
        grades.setdefault(g.audit_id, []).append(g)
    people = _names(session, [o.observer_id for o in observations.values()] + [a.auditor_id for a in audits.values()])
    cases = _references(session, [a.case_id for a in audits.values()] + [f.case_id for f in feedback.values()])
    responses = responses_for(session, [(RESPONSE_KIND[k], i) for k, i in refs if k in RESPONSE_KIND])
    seen = _first_seen(session, [i for _, i in refs])

    found = {}
    for kind, record_id in refs:
        if kind == "observation" and record_id in observations:
            finding = _observation(observations[record_id], people, seen.get(record_id))
        elif kind == "audit" and record_id in audits:
            finding = _audit(audits[record_id], people, cases)
        elif kind == "dip_sample" and record_id in audits:
            finding = _dip_sample(audits[record_id], grades.get(record_id, []), people, cases)
        elif kind == "feedback" and record_id in feedback:
            finding = _feedback(feedback[record_id], cases)
        else:
            continue
        response = responses.get((RESPONSE_KIND.get(kind, ""), record_id))
        found[(kind, record_id)] = Finding(finding.heading, finding.lines, finding.record_kind, finding.record_id,
                                           finding.event_on, response)
    return found


def _observation(o: Observation, people: dict[uuid.UUID, str], seen_on: date | None) -> Finding:
    parts = [f"{OBSERVATION_LABELS.get(o.kind, o.kind)} on {_day(o.observed_on)}"]
    if o.setting.strip():
        parts.append(o.setting.strip())
    if o.observer_id in people:
        parts.append(f"observed by {people[o.observer_id]}")
    seen = (f"seen by the worker on {_day(seen_on)}" if seen_on
            else "shared, not yet opened by the worker" if o.feedback_shared else "not shared with the worker")
    return Finding(" · ".join(parts), _lines(("To develop", o.to_develop), ("Went well", o.went_well),
                                              ("Reflection", o.reflection), ("Shared", seen)),
                   "observation", o.id, o.observed_on, None)


def _audit(a: Audit, people: dict[uuid.UUID, str], cases: dict[uuid.UUID, str]) -> Finding:
    parts = [f"Case audit on {_day(a.audit_date)}"]
    if a.case_id in cases:
        parts.append(f"case {cases[a.case_id]}")
    if a.overall_grade is not None and 0 <= a.overall_grade < len(a.template.scale):
        parts.append(f"graded {a.template.scale[a.overall_grade]}")
    if a.auditor_id in people:
        parts.append(f"by {people[a.auditor_id]}")
    return Finding(" · ".join(parts), _lines(("To improve", a.to_improve), ("Went well", a.strengths),
                                              ("Child's lived experience", a.lived_experience)),
                   "audit", a.id, a.audit_date, None)


def _dip_sample(a: Audit, grades: list[AuditGrade], people: dict[uuid.UUID, str],
                cases: dict[uuid.UUID, str]) -> Finding:
    parts = [f"Dip sample on {_day(a.audit_date)}"]
    if a.case_id in cases:
        parts.append(f"case {cases[a.case_id]}")
    if a.auditor_id in people:
        parts.append(f"by {people[a.auditor_id]}")
    scale, labels = a.template.scale, {d["key"]: d["label"] for d in a.template.domains}
    order = {d["key"]: i for i, d in enumerate(a.template.domains)}
    not_met = sorted((g for g in grades if g.grade), key=lambda g: order.get(g.domain, len(order)))
    lines = tuple((f"{scale[g.grade]}: {labels.get(g.domain, g.domain)}", g.comment.strip() or "no comment")
                  for g in not_met if 0 < g.grade < len(scale))
    if not lines and grades:
        lines = (("Areas", "every area rated met"),)
    return Finding(" · ".join(parts), lines, "audit", a.id, a.audit_date, None)


def _feedback(f: Feedback, cases: dict[uuid.UUID, str]) -> Finding:
    parts = [f"Feedback from {GIVERS.get(f.giver, f.giver)} on {_day(f.received_on)}"]
    if f.case_id in cases:
        parts.append(f"case {cases[f.case_id]}")
    if f.rating is not None:
        parts.append(f"rated {f.rating}/5")
    return Finding(" · ".join(parts), _lines(("They said", f.said)), "feedback", f.id, f.received_on, None)


def _lines(*pairs: tuple[str, str]) -> tuple[tuple[str, str], ...]:
    return tuple((label, text.strip()) for label, text in pairs if text and text.strip())


def _day(day: date) -> str:
    return f"{day:%-d %b %Y}"


def _first_seen(session: Session, record_ids: list[uuid.UUID]) -> dict[uuid.UUID, date]:
    """Record id → the day the worker it is about first opened it (only they stamp it)."""
    if not record_ids:
        return {}
    return dict(session.execute(select(RecordSeen.source_id, func.min(RecordSeen.seen_on))
                                .where(RecordSeen.source_id.in_(set(record_ids)))
                                .group_by(RecordSeen.source_id)).all())


def _names(session: Session, ids: list[uuid.UUID | None]) -> dict[uuid.UUID, str]:
    wanted = {i for i in ids if i}
    return dict(session.execute(select(Person.id, Person.name).where(Person.id.in_(wanted))).all()) if wanted else {}


def _references(session: Session, ids: list[uuid.UUID | None]) -> dict[uuid.UUID, str]:
    wanted = {i for i in ids if i}
    return dict(session.execute(select(Case.id, Case.reference).where(Case.id.in_(wanted))).all()) if wanted else {}
