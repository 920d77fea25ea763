"""Behind a compliance rate: the people of one team or role (and, for one task, the cases or
practitioners each owes it for) with what they have done, what is still owed and by when, the
late first. The same obligations the rate was counted from."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date

from sqlalchemy.orm import Session

from qa_tui.config import ROLE_NAMES, Config
from qa_tui.errors import ValidationError
from qa_tui.services.programme.compliance import GROUP_BY, ComplianceGroups
from qa_tui.services.programme.facts import load_facts, load_people, tasks_for
from qa_tui.services.programme.task_rules import ObligationItem, lines_for

STATUS_RANK = {"late": 0, "due": 1, "met": 2}


@dataclass(frozen=True)
class PersonCompliance:
    """One person's part in a compliance rate, for one task (or each of their tasks)."""

    person_id: uuid.UUID
    person: str  # "Name (staff ID)"
    name: str
    team: str
    role: str
    task_label: str
    period_label: str
    required: int
    done: int
    status: str  # met / due / late
    due_by: date
    waiting: tuple[ObligationItem, ...]  # the cases or practitioners not yet done


def people_behind(session: Session, today: date, cfg: Config, *, group_by: str, group: str,
                  task: str = "", frequency: str = "") -> list[PersonCompliance]:
    """The obligations behind one row of the compliance table: `group` is a team code, a role,
    or "role@service" for people in no team (as ComplianceGroups names them); `task` "" means every task (the group's total row)."""
    if group_by not in GROUP_BY:
        raise ValidationError("group by", f"expected one of {', '.join(GROUP_BY)}, got {group_by!r}")
    people = load_people(session)
    groups = ComplianceGroups(session, people)
    judged = [p for p in people.values()
              if p.active_on(today) and tasks_for(p.role, cfg) and groups.of(p, group_by)[0] == group]
    facts = load_facts(session, today, cfg, judged, people, everyone=False)
    found = []
    for p in judged:
        for line in lines_for(p, cfg, facts):
            if task and (line.task, line.frequency) != (task, frequency):
                continue
            if line.period.end < today and line.frequency != "on_event" and line.status == "met":
                continue  # an earlier period that was met: the rate counts only the late ones
            found.append(PersonCompliance(
                p.id, p.label, p.name, groups.of(p, "team")[1],
                ROLE_NAMES.get(p.role, p.role), line.task_label, line.period.label, line.required, line.done,
                line.status, line.due_by, tuple(i for i in line.items if i.done < i.required)))
    return sorted(found, key=lambda r: (STATUS_RANK.get(r.status, 3), r.due_by, r.person, r.task_label))
