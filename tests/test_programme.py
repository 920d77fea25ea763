"""The QA programme: parsing it from config, its periods, what each person owes across month,
quarter and financial-year boundaries, compliance rates, and the CP plan review list."""

from __future__ import annotations

import uuid
from dataclasses import replace
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from qa_tui.config import DEFAULT_PROGRAMME, ConfigError, ProgrammeTask, load_config, parse_config
from qa_tui.dates import financial_year_start, quarter_start
from qa_tui.db.engine import Database
from qa_tui.db.models import Audit, Case, CpPlan, Observation, Person, Service, Supervision, Team
from qa_tui.errors import NotFound, ValidationError
from qa_tui.services.practice.supervision import supervision_status
from qa_tui.services.programme.compliance import compliance
from qa_tui.services.programme.cp_reviews import case_plans, cp_review_list, cp_review_reason, plan_review_reason
from qa_tui.services.programme.obligations import obligations, obligations_by_staff_id
from qa_tui.services.programme.periods import parse_financial_quarter, period_containing, previous_period
from qa_tui.services.audits.templates import ensure_template

CFG = parse_config({})
PERIODIC = ("weekly", "fortnightly", "monthly", "bimonthly", "quarterly", "six_monthly", "financial_year")


class Org:
    """A small hand-made council, written through the ORM (so the audit trail runs as usual)."""

    def __init__(self, session) -> None:  # noqa: ANN001 - a Session
        self.s = session
        self.live = ensure_template(session, CFG.template("live")).id
        self.dip = ensure_template(session, CFG.template("dip")).id
        self.services: dict[str, uuid.UUID] = {}
        self.teams: dict[str, uuid.UUID] = {}
        self.people: dict[str, uuid.UUID] = {}
        self.cases: dict[str, uuid.UUID] = {}

    @classmethod
    def load(cls, session) -> Org:  # noqa: ANN001 - a Session
        """An Org over what is already stored."""
        org = cls(session)
        org.services = {x.code: x.id for x in session.query(Service)}
        org.teams = {x.code: x.id for x in session.query(Team)}
        org.people = {x.staff_id: x.id for x in session.query(Person)}
        org.cases = {x.reference: x.id for x in session.query(Case)}
        return org

    def add(self, row):  # noqa: ANN001, ANN201
        self.s.add(row)
        self.s.flush()
        return row

    def team(self, code: str, service: str = "S1", name: str | None = None) -> uuid.UUID:
        if service not in self.services:
            self.services[service] = self.add(Service(code=service, name=f"Service {service}")).id
        self.teams[code] = self.add(Team(code=code, name=name or f"Team {code}", service_id=self.services[service])).id
        return self.teams[code]

    def person(self, staff_id: str, role: str, team: str | None = None, manager: str | None = None,
               name: str | None = None, **extra) -> uuid.UUID:  # noqa: ANN003
        self.people[staff_id] = self.add(Person(
            staff_id=staff_id, name=name or f"Person {staff_id}", role=role,
            team_id=self.teams[team] if team else None,
            manager_id=self.people[manager] if manager else None, **extra)).id
        return self.people[staff_id]

    def case(self, reference: str, team: str, worker: str | None = None, category: str = "CIN",
             **extra) -> uuid.UUID:  # noqa: ANN003
        self.cases[reference] = self.add(Case(
            reference=reference, category=category, team_id=self.teams[team],
            worker_id=self.people[worker] if worker else None, **extra)).id
        return self.cases[reference]

    def audit(self, case: str, auditor: str, on: date, *, kind: str = "live", status: str = "submitted",
              worker: str | None = None, team: str | None = None, **extra) -> uuid.UUID:  # noqa: ANN003
        case_row = self.s.get(Case, self.cases[case])
        extra.setdefault("template_id", self.dip if kind == "dip_sample" else self.live)
        return self.add(Audit(
            kind=kind, case_id=case_row.id,
            worker_id=self.people[worker] if worker else case_row.worker_id, auditor_id=self.people[auditor],
            team_id=self.teams[team] if team else case_row.team_id, audit_date=on, status=status, **extra)).id

    def supervision(self, worker: str, supervisor: str, on: date) -> None:
        self.add(Supervision(worker_id=self.people[worker], supervisor_id=self.people[supervisor], held_on=on))

    def observation(self, worker: str, on: date, observer: str | None = None) -> None:
        self.add(Observation(worker_id=self.people[worker], observed_on=on, kind="annual",
                             observer_id=self.people[observer] if observer else None))


def utc(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, 12, tzinfo=timezone.utc)


def build(db: Database) -> dict[str, uuid.UUID]:
    """Two services; a Head of Service over an operations lead over two team managers; a DD."""
    with db.session() as s:
        org = Org(s)
        org.team("A1", "S1")
        org.team("A2", "S1")
        org.team("B1", "S2")
        org.person("DD1", "DD")
        org.person("HOS1", "HOS", manager="DD1")
        org.person("OPS1", "OPS", manager="HOS1")
        org.person("TM1", "TM", "A1", manager="OPS1")
        org.person("TM2", "TM", "A2", manager="OPS1")
        org.person("TMB", "TM", "B1")
        org.person("SW1", "SW", "A1", manager="TM1")
        org.person("SW2", "NQSW", "A1", manager="TM1")
        org.person("SWB", "SW", "B1", manager="TMB")
        org.case("C-1", "A1", "SW1")
        org.case("C-2", "A1", "SW2")
        org.case("C-B", "B1", "SWB")
        return {**org.people, **{f"case:{k}": v for k, v in org.cases.items()}, **org.teams}


def _lines(db: Database, staff_id: str, today: date, cfg=CFG):  # noqa: ANN001, ANN202
    with db.reader() as s:
        owed = obligations_by_staff_id(s, staff_id, today, cfg)
    return {(line.task, line.period.label): line for line in owed.lines}


# --- parsing --------------------------------------------------------------------------------


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "config.toml"
    path.write_text(text, encoding="utf-8")
    return path


GOOD = 'roles = ["TM"]\ntask = "dip_sample"\nfrequency = "monthly"\n'


@pytest.mark.parametrize(
    ("text", "key", "expected"),
    [
        ('[[programme]]\nroles = ["TM"]\ntask = "bake_cakes"\nfrequency = "monthly"\n', "programme[0].task", "expected one of"),
        (f"[[programme]]\n{GOOD}\n[[programme]]\n{GOOD}\n[[programme]]\n"
         'roles = ["TM"]\ntask = "dip_sample"\nfrequency = "daily"\n', "programme[2].frequency", "financial_year"),
        ('[[programme]]\nroles = ["CHEF"]\ntask = "dip_sample"\nfrequency = "monthly"\n', "programme[0].roles", "unknown value 'CHEF'"),
        ('[[programme]]\ntask = "dip_sample"\nfrequency = "monthly"\n', "programme[0].roles", "list of roles"),
        ('[[programme]]\nroles = []\ntask = "dip_sample"\nfrequency = "monthly"\n', "programme[0].roles", "at least one role"),
        ('[[programme]]\nroles = "TM"\ntask = "dip_sample"\nfrequency = "monthly"\n', "programme[0].roles", "list of strings"),
        ('[[programme]]\nroles = ["OPS"]\ntask = "audit_on_closure"\nfrequency = "monthly"\n', "programme[0].frequency", "on_event"),
        ('[[programme]]\nroles = ["SW"]\ntask = "be_observed"\nfrequency = "on_event"\n', "programme[0].frequency", "only audit_on_closure"),
        (f"[[programme]]\n{GOOD}within_days = 10\n", "programme[0].within_days", "only on_event"),
        (f"[[programme]]\n{GOOD}count = 0\n", "programme[0].count", "from 1 to 100"),
        (f"[[programme]]\n{GOOD}count = true\n", "programme[0].count", "whole number"),
        (f"[[programme]]\n{GOOD}how_often = 2\n", "programme[0].how_often", "unknown key"),
        ('programme = "all of it"\n', "programme", "[[programme]] tables"),
        ("programme = [1]\n", "programme[0]", "[[programme]] table"),
    ],
)
def test_bad_programme_entries_name_file_key_and_expectation(tmp_path: Path, text: str, key: str, expected: str) -> None:
    path = write(tmp_path, text)
    with pytest.raises(ConfigError) as info:
        load_config(path)
    message = str(info.value)
    assert str(path) in message and key in message and expected in message


def test_programme_tables_replace_the_default_and_an_empty_list_means_none(tmp_path: Path) -> None:
    assert load_config(tmp_path / "absent.toml").programme == DEFAULT_PROGRAMME
    config = load_config(write(tmp_path, '[[programme]]\nroles = ["OPS", "HOS"]\ntask = "audit_on_closure"\n'
                                         'frequency = "on_event"\nwithin_days = 14\ncount = 2\npurpose = "x"\n'))
    assert config.programme == (ProgrammeTask(("OPS", "HOS"), "audit_on_closure", "on_event", 2, "x", 14),)
    assert load_config(write(tmp_path, "programme = []\n")).programme == ()


def test_the_default_programme_is_the_issue_example() -> None:
    table = {(t.roles, t.task, t.frequency, t.count) for t in DEFAULT_PROGRAMME}
    assert {(("HOS",), "audit_case_file", "monthly", 1), (("HOS",), "audit_supervision_file", "monthly", 1),
            (("DD",), "audit_case_file", "monthly", 1), (("DD",), "audit_supervision_file", "quarterly", 1),
            (("OPS",), "audit_cross_service", "monthly", 1), (("OPS",), "audit_on_closure", "on_event", 1),
            (("TM",), "supervise_each_practitioner", "monthly", 1),
            (("SW", "NQSW", "ASWP"), "have_case_audited", "financial_year", 1),
            (("SW", "NQSW", "ASWP", "IRO"), "be_observed", "financial_year", 1),
            (("TM",), "review_cp_long_or_ending", "quarterly", 1)} <= table


# --- periods (pure) -------------------------------------------------------------------------


@settings(max_examples=300, deadline=None)
@given(day=st.dates(min_value=date(2001, 1, 1), max_value=date(2099, 12, 31)), frequency=st.sampled_from(PERIODIC))
def test_periods_contain_the_day_and_tile_without_gaps(day: date, frequency: str) -> None:
    period = period_containing(frequency, day)
    assert period.start <= day <= period.end and day in period
    before = previous_period(period)
    assert before.end == period.start - timedelta(days=1)
    after = period_containing(frequency, period.end + timedelta(days=1))
    assert after.start == period.end + timedelta(days=1) and previous_period(after) == period
    assert period_containing(frequency, period.start) == period == period_containing(frequency, period.end)
    if frequency == "quarterly":
        assert period.start == quarter_start(day)
    if frequency in ("bimonthly", "quarterly", "six_monthly", "financial_year"):
        fy = financial_year_start(day)
        assert financial_year_start(period.start) == fy == financial_year_start(period.end)
    if frequency == "financial_year":
        assert (period.start, period.end) == (fy, date(fy.year + 1, 3, 31))
    if frequency == "weekly":
        assert period.start.weekday() == 0 and (period.end - period.start).days == 6


def test_financial_quarters_are_parsed_from_april() -> None:
    q1, q4 = parse_financial_quarter("2026-Q1"), parse_financial_quarter("2026-q4")
    assert (q1.start, q1.end, q1.label) == (date(2026, 4, 1), date(2026, 6, 30), "2026-Q1")
    assert (q4.start, q4.end, q4.label) == (date(2027, 1, 1), date(2027, 3, 31), "2026-Q4")
    for bad in ("2026-Q5", "2026Q1", "Q1-2026", "2026-Q"):
        with pytest.raises(ValidationError, match="YYYY-Qn"):
            parse_financial_quarter(bad)


def test_cp_review_reason_short_ended_plans_and_long_running_ones() -> None:
    day = date(2026, 11, 24)
    # Ended having lasted under three months, in the last three months: was it ended too soon?
    assert plan_review_reason(date(2026, 8, 1), date(2026, 10, 31), day).startswith("plan lasted under 3 months")
    assert plan_review_reason(date(2026, 8, 1), date(2026, 11, 1), day) == ""  # lasted three months
    assert plan_review_reason(date(2026, 6, 1), date(2026, 8, 24), day) == ""  # ended over 3 months ago
    assert plan_review_reason(date(2026, 6, 1), date(2026, 8, 25), day) != ""
    # A future end date is not "ending within 3 months": the plan is simply running.
    assert plan_review_reason(date(2026, 6, 1), date(2027, 1, 24), day) == ""
    assert "18 months" in plan_review_reason(date(2025, 5, 24), None, day)
    assert plan_review_reason(date(2025, 5, 25), None, day) == ""
    assert plan_review_reason(date(2024, 1, 1), date(2026, 11, 1), day) == ""  # long, but ended
    # A running plan on a closed case ended with the case; a census plan and the case flag merge.
    assert case_plans([(date(2024, 1, 1), None)], None, None, date(2026, 11, 1)) == [
        (date(2024, 1, 1), date(2026, 11, 1))]
    assert case_plans([(date(2026, 9, 1), date(2026, 10, 1))], date(2026, 9, 1), None, None) == [
        (date(2026, 9, 1), date(2026, 10, 1))]
    reason, plan = cp_review_reason([(date(2026, 9, 1), date(2026, 10, 1)), (date(2024, 1, 1), None)], day)
    assert "18 months" in reason and plan == (date(2024, 1, 1), None)
    assert cp_review_reason([], day) == ("", None)


# --- obligations ----------------------------------------------------------------------------


def test_head_of_service_monthly_audits_across_the_month_boundary(db: Database) -> None:
    build(db)
    with db.session() as s:
        org = Org.load(s)
        org.audit("C-1", "HOS1", date(2026, 10, 31))
        org.audit("C-2", "HOS1", date(2026, 11, 3), status="draft")  # a draft is not done yet
        org.audit("C-2", "HOS1", date(2026, 10, 15), kind="supervision_file")
    lines = _lines(db, "HOS1", date(2026, 11, 24))
    assert set(lines) == {("audit_case_file", "2026-11"), ("audit_supervision_file", "2026-11")}
    assert (lines[("audit_case_file", "2026-11")].status, lines[("audit_case_file", "2026-11")].done) == ("due", 0)
    assert lines[("audit_case_file", "2026-11")].due_by == date(2026, 11, 30)
    # On 1 December November is over: the case-file audit is late, the supervision file too.
    lines = _lines(db, "HOS1", date(2026, 12, 1))
    assert lines[("audit_case_file", "2026-11")].status == "late"
    assert lines[("audit_supervision_file", "2026-11")].status == "late"
    assert lines[("audit_case_file", "2026-12")].status == "due"
    # The October audit counted for October only.
    lines = _lines(db, "HOS1", date(2026, 10, 31))
    assert lines[("audit_case_file", "2026-10")].status == "met"
    assert lines[("audit_supervision_file", "2026-10")].status == "met"


def test_deputy_director_quarterly_supervision_file_across_the_quarter_boundary(db: Database) -> None:
    build(db)
    with db.session() as s:
        org = Org.load(s)
        org.audit("C-1", "DD1", date(2026, 9, 30), kind="supervision_file")
    lines = _lines(db, "DD1", date(2026, 9, 30))
    assert lines[("audit_supervision_file", "2026-Q2")].status == "met"
    lines = _lines(db, "DD1", date(2026, 10, 1))
    assert lines[("audit_supervision_file", "2026-Q3")].status == "due"
    assert ("audit_supervision_file", "2026-Q2") not in lines  # met, so not listed as late
    assert lines[("audit_case_file", "2026-09")].status == "late"  # September: no case file


def test_team_manager_supervises_each_report_by_the_supervision_rule(db: Database) -> None:
    build(db)
    with db.session() as s:
        org = Org.load(s)
        org.supervision("SW1", "TM1", date(2026, 10, 5))
        org.supervision("SW1", "TM1", date(2026, 11, 2))
        org.person("SW3", "SW", None, manager="TM1", active_to=date(2026, 9, 30))  # left before October
    lines = _lines(db, "TM1", date(2026, 11, 24))
    nov = lines[("supervise_each_practitioner", "2026-11")]
    assert (nov.required, nov.done, nov.status) == (2, 1, "late")
    assert [(i.subject, i.done, i.late) for i in nov.items] == [
        ("Person SW1 (SW1)", 1, False), ("Person SW2 (SW2)", 0, True)]
    assert nov.items[0].due_by == date(2026, 12, 2)
    # A rolling rule: what was missed in October is still overdue now, so no second line for it.
    assert ("supervise_each_practitioner", "2026-10") not in lines
    with db.session() as s:
        s.add(Supervision(worker_id=s.query(Person).filter_by(staff_id="SW2").one().id, held_on=date(2026, 11, 20)))
    lines = _lines(db, "TM1", date(2026, 11, 24))
    assert lines[("supervise_each_practitioner", "2026-11")].status == "met"


def test_an_nqsw_supervised_three_weeks_ago_is_late_everywhere(db: Database) -> None:
    """NQSWs are supervised fortnightly: the programme, compliance and the dashboard agree."""
    build(db)
    today = date(2026, 11, 24)
    with db.session() as s:
        org = Org.load(s)
        org.supervision("SW1", "TM1", today - timedelta(days=21))  # monthly: in date
        org.supervision("SW2", "TM1", today - timedelta(days=21))  # NQSW, fortnightly: late
    line = _lines(db, "TM1", today)[("supervise_each_practitioner", "2026-11")]
    assert [(i.subject, i.late, i.due_by) for i in line.items] == [
        ("Person SW1 (SW1)", False, date(2026, 12, 3)), ("Person SW2 (SW2)", True, date(2026, 11, 17))]
    assert line.status == "late"
    programme = tuple(t for t in CFG.programme if t.task == "supervise_each_practitioner")
    with db.reader() as s:
        row = next(r for r in compliance(s, today, replace(CFG, programme=programme)).rows if r.group == "A1")
        board = {r.staff_id: r.overdue for r in supervision_status(s, today, CFG)}
    assert (row.required, row.done, row.people_met, row.people_late) == (2, 1, 0, 1)
    assert board["SW2"] and not board["SW1"]


def test_a_supervision_a_caseload_extract_records_counts_in_the_programme_as_on_the_dashboard(db: Database) -> None:
    """person.last_supervised_on (from an extract) is a supervision held, for both rules alike."""
    build(db)
    today = date(2026, 11, 24)
    with db.session() as s:
        s.query(Person).filter_by(staff_id="SW1").one().last_supervised_on = today - timedelta(days=10)
        s.query(Person).filter_by(staff_id="SW2").one().last_supervised_on = today + timedelta(days=3)  # not yet
    line = _lines(db, "TM1", today)[("supervise_each_practitioner", "2026-11")]
    assert [(i.subject, i.late) for i in line.items] == [("Person SW1 (SW1)", False), ("Person SW2 (SW2)", True)]
    with db.reader() as s:
        board = {r.staff_id: r.overdue for r in supervision_status(s, today, CFG)}
    assert not board["SW1"] and board["SW2"]


def test_case_holder_financial_year_audit_and_observation(db: Database) -> None:
    build(db)
    with db.session() as s:
        org = Org.load(s)
        org.audit("C-1", "TM1", date(2026, 3, 31))  # FY 2025/26
        org.observation("SW1", date(2026, 4, 1), observer="TM1")  # FY 2026/27
    lines = _lines(db, "SW1", date(2026, 11, 24))
    assert lines[("have_case_audited", "FY 2026/27")].status == "due"
    assert ("have_case_audited", "FY 2025/26") not in lines  # met last year
    assert lines[("be_observed", "FY 2026/27")].status == "met"
    lines = _lines(db, "SW1", date(2026, 3, 31))
    assert lines[("have_case_audited", "FY 2025/26")].status == "met"
    # Not observed in the year's last quarter is late, as the observation rule says (overdue from January).
    assert lines[("be_observed", "FY 2025/26")].status == "late"
    assert lines[("be_observed", "FY 2025/26")].due_by == date(2026, 3, 31)
    # On 1 April the year not observed becomes late, until this year's observation is held.
    lines = _lines(db, "SW1", date(2026, 4, 1))
    assert ("be_observed", "FY 2025/26") not in lines and lines[("be_observed", "FY 2026/27")].status == "met"
    lines = _lines(db, "SW2", date(2026, 4, 2))
    assert lines[("be_observed", "FY 2025/26")].status == "late"
    assert lines[("have_case_audited", "FY 2025/26")].status == "late"


def test_someone_who_joined_this_period_is_not_late_for_the_last(db: Database) -> None:
    build(db)
    with db.session() as s:
        Org(s).add(Person(staff_id="NEW", name="New Starter", role="SW", active_from=date(2026, 5, 1)))
    lines = _lines(db, "NEW", date(2026, 11, 24))
    assert sorted(lines) == [("be_observed", "FY 2026/27"), ("have_case_audited", "FY 2026/27")]
    assert {line.status for line in lines.values()} == {"due"}


def test_service_leader_cross_service_and_closures(db: Database) -> None:
    build(db)
    today = date(2026, 11, 24)
    with db.session() as s:
        org = Org.load(s)
        org.audit("C-1", "OPS1", date(2026, 11, 2))  # own service: not cross-service
        org.case("C-CLOSED-1", "A2", closed_on=date(2026, 10, 1))
        org.case("C-CLOSED-2", "A1", closed_on=date(2026, 11, 20))
        org.case("C-CLOSED-B", "B1", closed_on=date(2026, 11, 1))  # another service
        org.audit("C-CLOSED-1", "OPS1", date(2026, 10, 10), kind="closure")
    lines = _lines(db, "OPS1", today)
    cross = lines[("audit_cross_service", "2026-11")]
    assert (cross.done, cross.status) == (0, "due")
    closures = next(v for (task, _), v in lines.items() if task == "audit_on_closure")
    assert [(i.subject, i.done, i.late) for i in closures.items] == [("C-CLOSED-1", 1, False), ("C-CLOSED-2", 0, False)]
    assert closures.status == "due" and closures.due_by == date(2026, 12, 18)
    with db.session() as s:
        Org.load(s).audit("C-B", "OPS1", date(2026, 11, 3))
    assert _lines(db, "OPS1", today)[("audit_cross_service", "2026-11")].status == "met"
    lines = _lines(db, "OPS1", date(2026, 12, 19))
    assert lines[("audit_cross_service", "2026-12")].status == "due"
    assert ("audit_cross_service", "2026-11") not in lines
    closures = next(v for (task, _), v in lines.items() if task == "audit_on_closure")
    assert closures.status == "late" and [i.subject for i in closures.items if i.late] == ["C-CLOSED-2"]


def test_team_manager_reviews_cp_plans_in_their_team_each_quarter(db: Database) -> None:
    build(db)
    today = date(2026, 11, 24)
    with db.session() as s:
        org = Org.load(s)
        org.case("CP-LONG", "A1", "SW1", "CP", cp_plan_start=date(2025, 1, 10))
        org.case("CP-SHORT", "A1", "SW2", "CIN", cp_plan_start=date(2026, 8, 1), cp_plan_end=date(2026, 10, 20))
        org.case("CP-ENDING", "A1", "SW2", "CP", cp_plan_start=date(2026, 6, 1), cp_plan_end=date(2027, 1, 31))
        org.case("CP-NEW", "A1", "SW1", "CP", cp_plan_start=date(2026, 9, 1))
        org.case("CP-OTHER-TEAM", "B1", "SWB", "CP", cp_plan_start=date(2024, 1, 1))
        # Only the census history knows this child's short plan: a new plan followed it.
        census = org.case("CP-CENSUS", "A1", "SW1", "CP", cp_plan_start=date(2026, 11, 10))
        org.add(CpPlan(case_id=census, started_on=date(2026, 9, 1), ended_on=date(2026, 10, 5)))
        org.add(CpPlan(case_id=census, started_on=date(2026, 11, 10), ended_on=None))
        org.audit("CP-LONG", "TM1", date(2026, 10, 2))
    lines = _lines(db, "TM1", today)
    q3 = lines[("review_cp_long_or_ending", "2026-Q3")]
    assert [(i.subject, i.done) for i in q3.items] == [("CP-CENSUS", 0), ("CP-LONG", 1), ("CP-SHORT", 0)]
    assert (q3.required, q3.done, q3.status) == (3, 1, "due")
    assert "lasted under 3 months" in q3.items[0].note
    # CP-LONG was missed in Q2 but has been reviewed in Q3, so nothing is left late.
    assert ("review_cp_long_or_ending", "2026-Q2") not in lines
    with db.reader() as s:
        rows = cp_review_list(s, today, CFG)
        team_rows = cp_review_list(s, today, CFG, team_id=org.teams["B1"])
    assert [(r.case_reference, r.reviewed_this_period, r.last_reviewed) for r in rows] == [
        ("CP-CENSUS", False, None), ("CP-SHORT", False, None), ("CP-OTHER-TEAM", False, None),
        ("CP-LONG", True, date(2026, 10, 2))]
    assert (rows[0].plan_start, rows[0].plan_end) == (date(2026, 9, 1), date(2026, 10, 5))
    assert rows[0].period_label == "2026-Q3" and [r.case_reference for r in team_rows] == ["CP-OTHER-TEAM"]


def test_the_cp_review_owner_is_configurable_and_can_cover_the_council(db: Database, tmp_path: Path) -> None:
    build(db)
    today = date(2026, 11, 24)
    with db.session() as s:
        org = Org.load(s)
        org.team("SAFE", "S3")
        org.person("HSM", "IRO", "SAFE", name="Head of Safeguarding Monitoring")
        org.case("CP-LONG", "A1", "SW1", "CP", cp_plan_start=date(2025, 1, 10))
        org.case("CP-OTHER-TEAM", "B1", "SWB", "CP", cp_plan_start=date(2024, 1, 1))
    cfg = load_config(write(tmp_path, '[[programme]]\nroles = ["IRO"]\ntask = "review_cp_long_or_ending"\n'
                                      'frequency = "quarterly"\nscope = "council"\n'))
    assert cfg.programme[0].scope == "council"
    lines = _lines(db, "HSM", today, cfg)
    assert [i.subject for i in lines[("review_cp_long_or_ending", "2026-Q3")].items] == ["CP-LONG", "CP-OTHER-TEAM"]
    assert _lines(db, "TM1", today, cfg) == {}
    with pytest.raises(ConfigError, match=r"programme\[0\]\.scope"):
        load_config(write(tmp_path, '[[programme]]\nroles = ["IRO"]\ntask = "review_cp_long_or_ending"\n'
                                    'frequency = "quarterly"\nscope = "team"\n'))


def test_obligations_for_unknown_people_and_roles_without_tasks(db: Database) -> None:
    ids = build(db)
    with db.reader() as s:
        with pytest.raises(NotFound):
            obligations(s, uuid.uuid4(), date(2026, 11, 24), CFG)
        with pytest.raises(NotFound, match="NOBODY"):
            obligations_by_staff_id(s, "NOBODY", date(2026, 11, 24), CFG)
        owed = obligations(s, ids["SW1"], date(2026, 11, 24), replace(CFG, programme=()))
    assert owed.lines == () and owed.person.staff_id == "SW1"


# --- compliance -----------------------------------------------------------------------------


def test_compliance_rates_per_team_and_role(db: Database) -> None:
    build(db)
    today = date(2026, 11, 24)
    with db.session() as s:
        org = Org.load(s)
        org.audit("C-1", "TM1", date(2026, 5, 1))  # SW1 audited this year
        org.observation("SW1", date(2026, 6, 1), observer="TM1")
        org.observation("SWB", date(2026, 6, 1), observer="TMB")
        org.supervision("SW1", "TM1", date(2026, 11, 1))
        org.supervision("SW2", "TM1", date(2026, 11, 15))  # NQSW: fortnightly
        org.audit("C-2", "TM1", date(2026, 11, 5), kind="dip_sample", status="finalised")
    programme = tuple(t for t in CFG.programme if t.task in (
        "have_case_audited", "be_observed", "supervise_each_practitioner", "dip_sample"))
    cfg = replace(CFG, programme=programme)
    with db.reader() as s:
        by_team = compliance(s, today, cfg, group_by="team")
        by_role = compliance(s, today, cfg, group_by="role")
    rows = {(r.group, r.task): r for r in by_team.rows}
    audited = rows[("A1", "have_case_audited")]
    assert (audited.people, audited.required, audited.done, audited.people_met, audited.rate) == (2, 2, 1, 1, 0.5)
    assert audited.people_late == 1 and audited.period_label == "FY 2026/27"
    assert (rows[("A1", "be_observed")].done, rows[("A1", "be_observed")].required) == (1, 2)
    sup = rows[("A1", "supervise_each_practitioner")]
    assert (sup.people, sup.required, sup.done, sup.rate, sup.period_label) == (1, 2, 2, 1.0, "2026-11")
    assert rows[("A1", "dip_sample")].people_met == 1 and rows[("A2", "dip_sample")].done == 0
    assert rows[("A2", "supervise_each_practitioner")].required == 0
    assert rows[("A2", "supervise_each_practitioner")].rate is None
    totals = {t.group: t for t in by_team.totals}
    assert (totals["A1"].people, totals["A1"].required, totals["A1"].done) == (3, 7, 5)
    assert (totals["A1"].people_met, totals["A1"].people_late) == (2, 1)  # SW2 missed last year too
    assert [t.group for t in by_team.totals] == ["A1", "A2", "B1"]
    roles = {(r.group, r.task): r for r in by_role.rows}
    assert roles[("SW", "be_observed")].done == 2 and roles[("SW", "be_observed")].required == 2
    assert roles[("NQSW", "be_observed")].done == 0
    assert {t.group_label for t in by_role.totals} >= {"Social worker", "Team manager"}
    with pytest.raises(ValidationError, match="group by"), db.reader() as s:
        compliance(s, today, cfg, group_by="service")
