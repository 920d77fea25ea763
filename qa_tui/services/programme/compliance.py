"""Programme compliance per team or per role: this period's required and done per task, how many
people have met it, and how many are late."""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from qa_tui.config import PROGRAMME_TASKS, ROLE_NAMES, Config
from qa_tui.db.models import Team
from qa_tui.errors import ValidationError
from qa_tui.services.programme.facts import PersonRow, load_facts, load_people, tasks_for
from qa_tui.services.programme.task_rules import ObligationLine, lines_for

GROUP_BY = ("team", "role")


@dataclass(frozen=True)
class ComplianceRow:
    group: str  # team code or role; "" for people without a team
    group_label: str
    task: str  # "" on a group's total over every task
    task_label: str
    frequency: str
    period_label: str
    people: int
    required: int
    done: int
    people_met: int
    people_late: int  # owed something from a period that has ended

    @property
    def rate(self) -> float | None:
        """Done as a share of required this period; None when nothing is required."""
        return self.done / self.required if self.required else None


@dataclass(frozen=True)
class Compliance:
    today: date
    group_by: str
    rows: tuple[ComplianceRow, ...]  # per group and task, groups in order
    totals: tuple[ComplianceRow, ...]  # one per group, every task together


def compliance(session: Session, today: date, cfg: Config, *, group_by: str = "team",
               service_id: uuid.UUID | None = None) -> Compliance:
    """Programme compliance of every person active on `today` (in one service's teams, when
    given: a head of service's view), per team or per role: this period's required and done per
    task, how many people have met it, and how many are late."""
    return compliance_tables(session, today, cfg, (group_by,), service_id=service_id)[0]


def compliance_tables(session: Session, today: date, cfg: Config, group_bys: tuple[str, ...] = GROUP_BY, *,
                      service_id: uuid.UUID | None = None) -> tuple[Compliance, ...]:
    """compliance() for several groupings from one count."""
    for group_by in group_bys:
        if group_by not in GROUP_BY:
            raise ValidationError("group by", f"expected one of {', '.join(GROUP_BY)}, got {group_by!r}")
    people = load_people(session)
    judged = [p for p in people.values() if p.active_on(today) and tasks_for(p.role, cfg)]
    if service_id is not None:
        in_service = set(session.scalars(select(Team.id).where(Team.service_id == service_id)))
        judged = [p for p in judged if p.team_id in in_service]
    facts = load_facts(session, today, cfg, judged, people, everyone=True)
    lines = {p.id: lines_for(p, cfg, facts) for p in judged}
    teams = {t_id: (code, name) for t_id, code, name in session.execute(select(Team.id, Team.code, Team.name))}

    def group_of(p: PersonRow, group_by: str) -> tuple[str, str]:
        if group_by == "role":
            return p.role, ROLE_NAMES.get(p.role, p.role)
        return teams.get(p.team_id, ("", "(no team)")) if p.team_id is not None else ("", "(no team)")

    return tuple(_grouped(judged, lines, today, cfg, group_by, lambda p: group_of(p, group_by))
                 for group_by in group_bys)


def _grouped(judged: list[PersonRow], lines: dict[uuid.UUID, list[ObligationLine]], today: date, cfg: Config,
             group_by: str, group_of: Callable[[PersonRow], tuple[str, str]]) -> Compliance:
    tallies: dict[str, dict[tuple[str, str], _Tally]] = defaultdict(dict)
    labels: dict[str, str] = {}
    for p in judged:
        group, label = group_of(p)
        labels[group] = label
        for line in lines[p.id]:
            tally = tallies[group].setdefault((line.task, line.frequency), _Tally())
            if line.period.end < today and line.frequency != "on_event":
                tally.late.add(p.id)  # a missed earlier period
                continue
            tally.period_label = line.period.label
            tally.people.add(p.id)
            tally.required += line.required
            tally.done += line.done
            if line.status == "met":
                tally.met.add(p.id)
            elif line.status == "late":
                tally.late.add(p.id)

    task_order = {(t.task, frequency): i for i, t in enumerate(cfg.programme)
                  for frequency in (t.frequency, *(v.frequency for v in t.per_role))}
    rows, totals = [], []
    for group in sorted(tallies):
        ordered = sorted(tallies[group].items(), key=lambda kv: task_order.get(kv[0], 0))
        rows += [ComplianceRow(group, labels[group], task, PROGRAMME_TASKS[task], frequency, t.period_label,
                               len(t.people), t.required, t.done, len(t.met), len(t.late))
                 for (task, frequency), t in ordered]
        every = [t for _, t in ordered]
        people_in = set().union(*(t.people for t in every))
        late = set().union(*(t.late for t in every))
        met_all = {pid for pid in people_in if all(pid in t.met for t in every if pid in t.people)} - late
        totals.append(ComplianceRow(group, labels[group], "", "All tasks", "", "", len(people_in | late),
                                    sum(t.required for t in every), sum(t.done for t in every),
                                    len(met_all), len(late)))
    return Compliance(today, group_by, tuple(rows), tuple(totals))


@dataclass
class _Tally:
    period_label: str = ""
    people: set[uuid.UUID] = field(default_factory=set)
    required: int = 0
    done: int = 0
    met: set[uuid.UUID] = field(default_factory=set)
    late: set[uuid.UUID] = field(default_factory=set)
