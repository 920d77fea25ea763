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
from qa_tui.db.models import Service, Team
from qa_tui.errors import ValidationError
from qa_tui.services.programme.facts import Facts, PersonRow, load_facts, load_people, tasks_for
from qa_tui.services.programme.task_rules import ObligationLine, lines_for

GROUP_BY = ("team", "role")


# What each task counts, in the words of "done 3 of 5 …".
TASK_UNITS = {
    "audit_case_file": "audits", "audit_supervision_file": "audits", "audit_record": "audits",
    "audit_cross_service": "audits", "audit_on_closure": "cases", "supervise_each_practitioner": "supervisions",
    "have_case_audited": "audits", "be_observed": "observations", "observe_practice": "observations",
    "ensure_case_holders_audited": "people", "ensure_practitioners_observed": "people",
    "hold_live_audit": "audits", "send_for_moderation_on_time": "audits", "dip_sample": "dip samples",
    "review_cp_long_or_ending": "cases",
}
ROLE_PLURALS = {
    "SW": "Social workers", "NQSW": "Newly qualified social workers", "ASWP": "Advanced practitioners",
    "TM": "Team managers", "SM": "Senior managers", "OPS": "Operations leads", "HOS": "Heads of service",
    "AD": "Assistant directors", "DD": "Deputy directors", "IRO": "IROs / CP chairs",
    "PI": "Practice improvement team",
}


def owed_by(people: list[PersonRow]) -> str:
    """Who owes a row, plainly: "Team managers (4)", one person by name ("Name (Head of service)"),
    several roles in turn, the largest first."""
    by_role: dict[str, list[PersonRow]] = defaultdict(list)
    for p in people:
        by_role[p.role].append(p)
    if len(people) == 1:
        only = people[0]
        return f"{only.name} ({ROLE_NAMES.get(only.role, only.role)})"
    return ", ".join(f"{ROLE_PLURALS.get(role, role)} ({len(ps)})" for role, ps in sorted(
        by_role.items(), key=lambda kv: (-len(kv[1]), kv[0])))


@dataclass(frozen=True)
class ComplianceRow:
    group: str  # team code, role, or "role@service" for people without a team ("role@" council-wide)
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
    owed_by: str = ""  # "Team managers (4)"
    unit: str = ""  # what done and required count ("audits", "people"); "" on a total over tasks

    @property
    def counted(self) -> str:
        """"10 of 12": done of required; on a total over tasks, people who met every task of everyone."""
        return f"{self.people_met} of {self.people}" if not self.task else f"{self.done} of {self.required}"

    @property
    def counted_unit(self) -> str:
        return self.unit if self.task else "met all"

    @property
    def progress(self) -> str:
        """"done 10 of 12 audits"; on a total: "3 of 5 people met every task"."""
        return f"done {self.counted} {self.unit}".rstrip() if self.task else f"{self.counted} people met every task"

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
               service_id: uuid.UUID | None = None, closed: bool = False) -> Compliance:
    """Programme compliance of every person active on `today` (in one service's teams, when
    given: a head of service's view), per team or per role: this period's required and done per
    task, how many people have met it, and how many are late. With `closed`, `today` is a closed
    period's end and people and cases are taken as they stood then."""
    return compliance_tables(session, today, cfg, (group_by,), service_id=service_id, closed=closed)[0]


def compliance_tables(session: Session, today: date, cfg: Config, group_bys: tuple[str, ...] = GROUP_BY, *,
                      service_id: uuid.UUID | None = None, closed: bool = False) -> tuple[Compliance, ...]:
    """compliance() for several groupings from one count."""
    for group_by in group_bys:
        if group_by not in GROUP_BY:
            raise ValidationError("group by", f"expected one of {', '.join(GROUP_BY)}, got {group_by!r}")
    people = load_people(session, today if closed else None)
    groups = ComplianceGroups(session, people)
    judged = [p for p in people.values() if p.active_on(today) and tasks_for(p.role, cfg)]
    if service_id is not None:
        judged = [p for p in judged if service_id in groups.services_of(p)]
    facts = load_facts(session, today, cfg, judged, people, everyone=True, closed=closed)
    lines = {p.id: lines_for(p, cfg, facts) for p in judged}
    return tuple(_grouped(judged, lines, today, cfg, group_by, lambda p: groups.of(p, group_by))
                 for group_by in group_bys)


class ComplianceGroups:
    """Which row of the table a person counts in: their team, or their role; someone in no team
    (an operations lead, a head of service, a director, the practice improvement team) by their
    role and the service they lead, or council-wide when they lead none or several."""

    def __init__(self, session: Session, people: dict[uuid.UUID, PersonRow]) -> None:
        rows = session.execute(select(Team.id, Team.code, Team.name, Team.service_id))
        self.teams = {t_id: (code, name, service) for t_id, code, name, service in rows}
        self.services = {s_id: (code, name) for s_id, code, name in session.execute(
            select(Service.id, Service.code, Service.name))}
        self.area = Facts(today=date.min, since=date.min, people=people,
                          team_service={t: v[2] for t, v in self.teams.items()})
        for p in people.values():
            if p.manager_id is not None:
                self.area.reports[p.manager_id].append(p)

    def services_of(self, person: PersonRow) -> set[uuid.UUID]:
        """The service of the person's team; for someone in no team, the services below them."""
        teams = {person.team_id} if person.team_id is not None else self.area.area_teams(person)
        return {self.teams[t][2] for t in teams if t in self.teams} - {None}  # type: ignore[misc]

    def of(self, person: PersonRow, group_by: str) -> tuple[str, str]:
        if group_by == "role":
            return person.role, ROLE_NAMES.get(person.role, person.role)
        if person.team_id is not None and person.team_id in self.teams:
            code, name, _ = self.teams[person.team_id]
            return code, name
        services = self.services_of(person)
        role = ROLE_PLURALS.get(person.role, person.role)
        if len(services) == 1:
            code, name = self.services[next(iter(services))]
            return f"{person.role}@{code}", f"{role}, {name}"
        return f"{person.role}@", f"{role}, council-wide"


def _grouped(judged: list[PersonRow], lines: dict[uuid.UUID, list[ObligationLine]], today: date, cfg: Config,
             group_by: str, group_of: Callable[[PersonRow], tuple[str, str]]) -> Compliance:
    tallies: dict[str, dict[tuple[str, str], _Tally]] = defaultdict(dict)
    labels: dict[str, str] = {}
    by_id = {p.id: p for p in judged}
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

    def owing(ids: set[uuid.UUID]) -> str:
        return owed_by(sorted((by_id[i] for i in ids), key=lambda p: (p.name, p.staff_id)))

    task_order = {(t.task, frequency): i for i, t in enumerate(cfg.programme)
                  for frequency in (t.frequency, *(v.frequency for v in t.per_role))}
    rows, totals = [], []
    for group in sorted(tallies):
        ordered = sorted(tallies[group].items(), key=lambda kv: task_order.get(kv[0], 0))
        rows += [ComplianceRow(group, labels[group], task, PROGRAMME_TASKS[task], frequency, t.period_label,
                               len(t.people), t.required, t.done, len(t.met), len(t.late),
                               owing(t.people | t.late), TASK_UNITS.get(task, ""))
                 for (task, frequency), t in ordered]
        every = [t for _, t in ordered]
        people_in = set().union(*(t.people for t in every))
        late = set().union(*(t.late for t in every))
        met_all = {pid for pid in people_in if all(pid in t.met for t in every if pid in t.people)} - late
        totals.append(ComplianceRow(group, labels[group], "", "All tasks", "", "", len(people_in | late),
                                    sum(t.required for t in every), sum(t.done for t in every),
                                    len(met_all), len(late), owing(people_in | late)))
    return Compliance(today, group_by, tuple(rows), tuple(totals))


@dataclass
class _Tally:
    period_label: str = ""
    people: set[uuid.UUID] = field(default_factory=set)
    required: int = 0
    done: int = 0
    met: set[uuid.UUID] = field(default_factory=set)
    late: set[uuid.UUID] = field(default_factory=set)
