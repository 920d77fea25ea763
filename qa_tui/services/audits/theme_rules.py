"""The rules that choose a theme's cases: one condition on open cases per rule, evaluated in SQL,
read from what a person typed, and kept with the theme as applied on a day."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import ColumnElement, and_, or_, select
from sqlalchemy.orm import Session, aliased

from qa_tui.dates import add_months
from qa_tui.db.models import CASE_CATEGORIES, Case, Person, Team
from qa_tui.errors import ValidationError

RULE_KINDS = {
    "cp_ending_within": "CP plans ending within N months",
    "cp_longer_than": "CP plans running longer than N months",
    "category_in": "Category in …",
    "team_in": "Team in …",
    "opened_within": "Opened within the last N months",
}
MONTH_RULES = ("cp_ending_within", "cp_longer_than", "opened_within")
MAX_CASES_BY_RULE = 500  # a theme is a sample to audit by hand, not a caseload


@dataclass(frozen=True)
class CaseRule:
    """One condition on open cases; a theme's rules all apply together."""

    kind: str
    months: int | None = None
    values: tuple[str, ...] = ()  # categories (category_in) or team codes (team_in)

    def describe(self) -> str:
        if self.kind == "cp_ending_within":
            return f"CP plan ends within {self.months} months"
        if self.kind == "cp_longer_than":
            return f"CP plan has run longer than {self.months} months"
        if self.kind == "opened_within":
            return f"opened within the last {self.months} months"
        what = "category" if self.kind == "category_in" else "team"
        return f"{what} is {' or '.join(self.values)}"

    def as_json(self) -> dict[str, Any]:
        return {"kind": self.kind, "months": self.months, "values": list(self.values)}

    @classmethod
    def from_json(cls, raw: dict[str, Any]) -> CaseRule:
        return cls(raw["kind"], raw.get("months"), tuple(raw.get("values") or ()))


@dataclass(frozen=True)
class AppliedRules:
    """Rules applied to a theme's case list on one day, and how many cases they added."""

    rules: tuple[CaseRule, ...]
    applied_on: date
    added: int

    def describe(self) -> str:
        return "; ".join(r.describe() for r in self.rules)

    def as_json(self) -> dict[str, Any]:
        return {"rules": [r.as_json() for r in self.rules], "applied_on": self.applied_on.isoformat(),
                "added": self.added}

    @classmethod
    def from_json(cls, raw: dict[str, Any]) -> AppliedRules:
        return cls(tuple(CaseRule.from_json(r) for r in raw["rules"]), date.fromisoformat(raw["applied_on"]),
                   raw["added"])


def check_rules(session: Session, rules: Sequence[CaseRule]) -> None:
    """ValidationError naming the first rule that cannot be used."""
    if not rules:
        raise ValidationError("rules", "give at least one rule to choose cases by")
    for index, rule in enumerate(rules, 1):
        where = f"rule {index}"
        if rule.kind not in RULE_KINDS:
            raise ValidationError(where, f"expected one of {', '.join(RULE_KINDS)}, got {rule.kind!r}")
        if rule.kind in MONTH_RULES:
            if isinstance(rule.months, bool) or not isinstance(rule.months, int) or not 1 <= rule.months <= 240:
                raise ValidationError(where, f"expected a number of months from 1 to 240, got {rule.months!r}")
            continue
        if not rule.values:
            raise ValidationError(where, f"{RULE_KINDS[rule.kind]}: give at least one value")
        if rule.kind == "category_in":
            bad = [v for v in rule.values if v not in CASE_CATEGORIES]
            if bad:
                raise ValidationError(where, f"unknown category {bad[0]!r}; expected one of {', '.join(CASE_CATEGORIES)}")
        else:
            known = set(session.scalars(select(Team.code).where(Team.code.in_(rule.values))))
            bad = [v for v in rule.values if v not in known]
            if bad:
                raise ValidationError(where, f"no team has the code {bad[0]!r}")


def rule_prompt(kind: str) -> str:
    """What to ask for after choosing a kind of rule: months, or the values it takes."""
    if kind in MONTH_RULES:
        return "Months"
    if kind == "category_in":
        return f"Categories ({', '.join(CASE_CATEGORIES)}), separated by commas"
    return "Team codes, separated by commas"


def rule_from_text(kind: str, text: str) -> CaseRule:
    """The rule a person typed: a whole number of months, or values separated by commas
    (categories in capitals). `check_rules` judges whether it can be used."""
    if kind in MONTH_RULES:
        if not text.strip().isdigit():
            raise ValidationError("Months", f"expected a whole number, got {text!r}")
        return CaseRule(kind, int(text))
    values = (v.strip() for v in text.split(","))
    return CaseRule(kind, values=tuple(v.upper() if kind == "category_in" else v for v in values if v))


def _open_on(today: date) -> ColumnElement[bool]:
    return and_(or_(Case.opened_on.is_(None), Case.opened_on <= today),
                or_(Case.closed_on.is_(None), Case.closed_on > today))


def _condition(rule: CaseRule, today: date) -> ColumnElement[bool]:
    if rule.kind == "cp_ending_within":
        assert rule.months is not None
        return and_(Case.cp_plan_start.is_not(None), Case.cp_plan_start <= today,
                    Case.cp_plan_end >= today, Case.cp_plan_end <= add_months(today, rule.months))
    if rule.kind == "cp_longer_than":
        assert rule.months is not None
        return and_(Case.cp_plan_start <= add_months(today, -rule.months),
                    or_(Case.cp_plan_end.is_(None), Case.cp_plan_end >= today))
    if rule.kind == "opened_within":
        assert rule.months is not None
        return Case.opened_on >= add_months(today, -rule.months)
    if rule.kind == "category_in":
        return Case.category.in_(rule.values)
    return Case.team_id.in_(select(Team.id).where(Team.code.in_(rule.values)))


@dataclass(frozen=True)
class CaseChoice:
    case_id: uuid.UUID
    reference: str
    category: str
    team_code: str
    worker_name: str
    cp_plan_start: date | None
    cp_plan_end: date | None


def cases_matching(session: Session, rules: Sequence[CaseRule], today: date, *,
                   limit: int | None = None) -> list[CaseChoice]:
    """Open cases on `today` meeting every rule, by reference."""
    check_rules(session, rules)
    worker = aliased(Person)
    stmt = (select(Case.id, Case.reference, Case.category, Team.code, worker.name, Case.cp_plan_start,
                   Case.cp_plan_end)
            .outerjoin(Team, Team.id == Case.team_id).outerjoin(worker, worker.id == Case.worker_id)
            .where(_open_on(today), *(_condition(r, today) for r in rules)).order_by(Case.reference))
    if limit is not None:
        stmt = stmt.limit(limit)
    return [CaseChoice(i, ref, cat, code or "", name or "", start, end)
            for i, ref, cat, code, name, start, end in session.execute(stmt)]

