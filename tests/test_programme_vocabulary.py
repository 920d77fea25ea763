"""The open programme vocabulary (issue 17): record audits, observer-side tasks, coverage duties
over an area, live audits held, moderation on time, closure sampling; the shipped presets, each
row counted by the engine; and `qa-tui programme show`."""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import date, datetime, timezone
from pathlib import Path

import pytest
from sqlalchemy import select

from qa_tui.cli import main
from qa_tui.config import PROGRAMME_TASKS, ConfigError, ProgrammeTask, load_config
from qa_tui.config.presets import PROGRAMME_PRESETS
from qa_tui.db.engine import Database
from qa_tui.db.models import Observation, Person
from qa_tui.services.programme.compliance import compliance
from qa_tui.services.programme.facts import load_facts, load_people
from qa_tui.services.programme.task_rules import lines_for
from tests.test_programme import CFG, Org, _lines, build, write

TODAY = date(2026, 11, 24)


def only(*tasks: ProgrammeTask):  # noqa: ANN202 - a Config
    return replace(CFG, programme=tasks)


def observe(org: Org, worker: str, on: date, observer: str, kind: str = "annual") -> None:
    org.add(Observation(worker_id=org.people[worker], observed_on=on, kind=kind, observer_id=org.people[observer]))


def test_record_audits_and_observer_side_tasks(db: Database) -> None:
    build(db)
    with db.session() as s:
        org = Org.load(s)
        org.audit("C-1", "HOS1", date(2026, 11, 3), kind="cp_conference_record")
        org.audit("C-1", "HOS1", date(2026, 11, 4), kind="live")
        observe(org, "SW1", date(2026, 10, 5), "HOS1")  # own service (S1)
        observe(org, "SWB", date(2026, 10, 6), "HOS1", kind="cp_conference")  # another service
    cfg = only(
        ProgrammeTask(("HOS",), "audit_record", "monthly", kinds=("cp_conference_record",)),
        ProgrammeTask(("HOS",), "audit_record", "monthly", kinds=("lac_review_record",)),
        ProgrammeTask(("HOS",), "observe_practice", "quarterly", count=2),
        ProgrammeTask(("HOS",), "observe_practice", "quarterly", own_service=True, count=2),
        ProgrammeTask(("HOS",), "observe_practice", "quarterly", kinds=("cp_conference",)),
    )
    with db.reader() as s:
        people = load_people(s)
        hos = next(p for p in people.values() if p.staff_id == "HOS1")
        lines = lines_for(hos, cfg, load_facts(s, TODAY, cfg, [hos], people, everyone=False))
    assert [(line.task, line.done, line.required, line.status) for line in lines if TODAY in line.period] == [
        ("audit_record", 1, 1, "met"), ("audit_record", 0, 1, "due"),
        ("observe_practice", 2, 2, "met"), ("observe_practice", 1, 2, "due"), ("observe_practice", 1, 1, "met")]


def test_coverage_duties_are_the_managers_over_their_area(db: Database) -> None:
    build(db)
    with db.session() as s:
        org = Org.load(s)
        org.audit("C-1", "TM1", date(2026, 6, 1))  # SW1 has a case audited this year
        observe(org, "SW1", date(2026, 6, 1), "TM1")
        observe(org, "SW2", date(2026, 6, 1), "SW1", kind="peer")  # a peer: not "a team leader or above"
    cfg = only(ProgrammeTask(("OPS",), "ensure_case_holders_audited", "financial_year"),
               ProgrammeTask(("OPS",), "ensure_practitioners_observed", "financial_year"))
    lines = _lines(db, "OPS1", TODAY, cfg)
    audited = lines[("ensure_case_holders_audited", "FY 2026/27")]
    assert [(i.subject, i.done) for i in audited.items] == [("Person SW1 (SW1)", 1), ("Person SW2 (SW2)", 0)]
    observed = lines[("ensure_practitioners_observed", "FY 2026/27")]
    assert [(i.subject, i.done) for i in observed.items] == [("Person SW1 (SW1)", 1), ("Person SW2 (SW2)", 0)]
    # SWB is in another service: not OPS1's area. The practitioners' own duty is separate.
    assert _lines(db, "SW1", TODAY, cfg) == {}
    late = _lines(db, "OPS1", date(2027, 2, 1), cfg)[("ensure_practitioners_observed", "FY 2026/27")]
    assert late.status == "late" and [i.subject for i in late.items if i.late] == ["Person SW2 (SW2)"]


def test_live_audit_held_and_moderation_by_the_28th(db: Database) -> None:
    build(db)
    with db.session() as s:
        org = Org.load(s)
        org.audit("C-1", "TM1", date(2026, 11, 2), status="submitted",
                  submitted_at=datetime(2026, 11, 20, 12, tzinfo=timezone.utc))
        org.audit("C-2", "TM1", date(2026, 10, 20), status="draft")  # October's, never sent
        org.audit("C-2", "TM1", date(2026, 11, 10), status="draft")  # not yet due
    cfg = only(ProgrammeTask(("TM",), "hold_live_audit", "monthly"),
               ProgrammeTask(("TM",), "send_for_moderation_on_time", "monthly"))
    lines = _lines(db, "TM1", TODAY, cfg)
    assert lines[("hold_live_audit", "2026-11")].status == "met"
    assert _lines(db, "TM2", TODAY, cfg)[("hold_live_audit", "2026-11")].status == "due"
    nov = lines[("send_for_moderation_on_time", "2026-11")]
    assert [(i.done, i.late, i.note) for i in nov.items] == [(1, False, "sent"), (0, False, "not sent")]
    assert nov.status == "due"
    october = _lines(db, "TM1", date(2026, 10, 30), cfg)[("send_for_moderation_on_time", "2026-10")]
    assert october.status == "late" and october.items[0].note == "not sent"


def test_closures_sampled_per_month(db: Database) -> None:
    build(db)
    with db.session() as s:
        org = Org.load(s)
        for n in range(5):
            org.case(f"CL-{n}", "A1", "SW1", closed_on=date(2026, 9, 3 + n))
        org.audit("CL-0", "OPS1", date(2026, 9, 20), kind="closure")
    sampled = only(ProgrammeTask(("OPS",), "audit_on_closure", "on_event", sample_count=2, within_days=28))
    line = next(v for (task, _), v in _lines(db, "OPS1", TODAY, sampled).items() if task == "audit_on_closure")
    assert [(i.subject, i.required, i.done, i.late) for i in line.items] == [("closures and transfers in 2026-09", 2, 1, True)]
    percent = only(ProgrammeTask(("OPS",), "audit_on_closure", "on_event", sample_percent=20, within_days=28))
    line = next(v for (task, _), v in _lines(db, "OPS1", TODAY, percent).items() if task == "audit_on_closure")
    assert (line.required, line.done, line.status) == (1, 1, "met")


def moved(org: Org, case: str, from_team: str, to_team: str, on: date) -> None:
    """A move of team as the trail records it (a hand edit or an import), on `on`."""
    from qa_tui.db.models import AuditEvent

    org.add(AuditEvent(at=datetime(on.year, on.month, on.day, 12, tzinfo=timezone.utc), actor="tester",
                       action="update", table_name="case_file", record_id=str(org.cases[case]),
                       old={"team_id": str(org.teams[from_team])}, new={"team_id": str(org.teams[to_team])}))


def test_transfers_are_counted_with_closures_sampled_and_their_window_configurable(db: Database) -> None:
    build(db)
    with db.session() as s:
        org = Org.load(s)
        org.case("CL-0", "A1", "SW1", closed_on=date(2026, 9, 3))
        org.case("MV-0", "B1", "SWB")  # moved out of A1 into B1: A1's leader audits it
        moved(org, "MV-0", "A1", "B1", date(2026, 9, 10))
        org.case("MV-1", "A1", "SW1")  # moved into A1: the leader of the team it left audits it
        moved(org, "MV-1", "B1", "A1", date(2026, 9, 12))
        org.audit("MV-0", "OPS1", date(2026, 10, 5), kind="closure")  # 25 days after the move
    every = only(ProgrammeTask(("OPS",), "audit_on_closure", "on_event", within_days=28))
    line = next(v for (task, _), v in _lines(db, "OPS1", TODAY, every).items() if task == "audit_on_closure")
    assert line.task_label == "Audit case files on closure or transfer"
    assert [(i.subject, i.done, i.late, i.note) for i in line.items] == [
        ("CL-0", 0, True, "closed 2026-09-03"), ("MV-0", 1, False, "moved team 2026-09-10")]
    tight = only(ProgrammeTask(("OPS",), "audit_on_closure", "on_event", within_days=14))
    line = next(v for (task, _), v in _lines(db, "OPS1", TODAY, tight).items() if task == "audit_on_closure")
    assert [(i.subject, i.due_by) for i in line.items] == [("CL-0", date(2026, 9, 17)), ("MV-0", date(2026, 9, 24))]
    assert line.done == 1  # held after its due date, the audit still counts
    sampled = only(ProgrammeTask(("OPS",), "audit_on_closure", "on_event", sample_count=1, within_days=28))
    line = next(v for (task, _), v in _lines(db, "OPS1", TODAY, sampled).items() if task == "audit_on_closure")
    assert [(i.subject, i.required, i.done, i.late, i.note) for i in line.items] == [
        ("closures and transfers in 2026-09", 1, 1, False, "1 of 2 closures and transfers sampled")]
    theirs = next(v for (task, _), v in _lines(db, "TMB", TODAY, only(
        ProgrammeTask(("TM",), "audit_on_closure", "on_event"))).items() if task == "audit_on_closure")
    assert [i.subject for i in theirs.items] == ["MV-1"]


def test_new_programme_keys_are_checked(tmp_path: Path) -> None:
    base = 'roles = ["HOS"]\nfrequency = "monthly"\n'
    for text, key, expected in [
        (base + 'task = "audit_record"\n', "kinds", "audit kinds"),
        (base + 'task = "audit_record"\nkinds = ["tea_break"]\n', "kinds", "unknown value 'tea_break'"),
        (base + 'task = "dip_sample"\nkinds = ["live"]\n', "kinds", "only audit_record and observe_practice"),
        (base + 'task = "dip_sample"\nown_service = true\n', "own_service", "only observe_practice"),
        (base + 'task = "dip_sample"\nsample_count = 2\n', "sample_count", "only audit_on_closure"),
        ('preset = "atlantis-1999"\n', "preset", "portsmouth-2016"),
    ]:
        with pytest.raises(ConfigError, match=rf"programme\[0\]\.{key}: .*{expected}"):
            load_config(write(tmp_path, "[[programme]]\n" + text))
    cfg = load_config(write(tmp_path, '[[programme]]\npreset = "wirral-2023"\n\n[[programme]]\n' + base
                            + 'task = "audit_record"\nkinds = ["carer_file"]\n'))
    assert cfg.programme[:-1] == PROGRAMME_PRESETS["wirral-2023"].tasks
    assert cfg.programme[-1].kinds == ("carer_file",)


@pytest.mark.parametrize("name", sorted(PROGRAMME_PRESETS))
def test_every_preset_row_is_a_task_the_engine_counts(db: Database, name: str) -> None:
    preset = PROGRAMME_PRESETS[name]
    cfg = replace(CFG, programme=preset.tasks)
    build(db)
    with db.session() as s:
        org = Org.load(s)
        org.person("PI1", "PI", "A1")
        org.person("IRO1", "IRO", "A1")
        org.person("ASWP1", "ASWP", "A1", manager="TM1")
        org.person("SM1", "SM", "A1")
    with db.reader() as s:
        people = load_people(s)
        by_role = {p.role: p for p in sorted(people.values(), key=lambda p: p.staff_id)}
        facts = load_facts(s, TODAY, cfg, list(by_role.values()), people, everyone=True)
        counted = {(p.role, line.task, line.frequency) for p in by_role.values() for line in lines_for(p, cfg, facts)}
        table = compliance(s, TODAY, cfg)
    assert preset.rows and all(row.task.task in PROGRAMME_TASKS for row in preset.rows)
    for row in preset.rows:
        for role in row.task.roles:
            if role in by_role:
                assert (role, row.task.task, row.task.frequency) in counted, (row.council_task, role)
    assert {r.task for r in table.rows} == {t.task for t in preset.tasks if set(t.roles) & set(by_role)}


def test_programme_show_prints_role_task_frequency_purpose(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = write(tmp_path, '[[programme]]\npreset = "portsmouth-2016"\n')
    assert main(["--config", str(config), "programme", "show"]) == 0
    out = capsys.readouterr().out
    assert "Portsmouth" in out and "| Role | Task | Frequency | Purpose |" in out
    assert "| Practice improvement team | Review CP plans ended under 3 months or running 18 months+, across the " \
           "council | quarterly | Monitor practice and feedback |" in out
    assert "| Head of service | Observe practice × 2 | quarterly |" in out
    assert main(["--config", str(config), "programme", "show", "--preset", "wirral-2023"]) == 0
    assert "Hold the team's live audit" in capsys.readouterr().out
    assert main(["--config", str(config), "programme", "show", "--preset", "nowhere"]) != 0


def test_the_demo_council_moves_cases_between_teams_and_its_leaders_owe_audits_on_transfer(db: Database) -> None:
    from qa_tui.demo import build_demo
    from qa_tui.services.audits.closure import closure_queue
    from qa_tui.services.programme.obligations import obligations_by_staff_id

    build_demo(db, today=TODAY, cases=400)
    with db.reader() as s:
        queue = closure_queue(s, TODAY, cfg=CFG)
        leaders = s.scalars(select(Person.staff_id).where(Person.role == "OPS").order_by(Person.staff_id)).all()
        owed = [line for staff_id in leaders for line in obligations_by_staff_id(s, staff_id, TODAY, CFG).lines
                if line.task == "audit_on_closure"]
    moves = [i for i in queue if i.event == "transferred"]
    assert moves and all(i.to_team_code and i.team_code != i.to_team_code for i in moves)
    assert any(item.note.startswith("moved team") for line in owed for item in line.items)


def test_one_row_gives_a_role_its_own_count_and_frequency(db: Database, tmp_path: Path,
                                                          capsys: pytest.CaptureFixture[str]) -> None:
    row = ('[[programme]]\nroles = ["SW", "NQSW"]\ntask = "have_case_audited"\nfrequency = "monthly"\n'
           'purpose = "Practice seen"\n')
    for extra, key, expected in [
        ('per_role.TM = { frequency = "weekly" }\n', "per_role.TM", "the row's roles"),
        ('per_role.NQSW = { frequency = "hourly" }\n', "per_role.NQSW.frequency", "expected one of"),
        ('per_role.NQSW = { frequency = "on_event" }\n', "per_role.NQSW.frequency", "kind of frequency"),
        ('per_role.NQSW = { count = 0 }\n', "per_role.NQSW.count", "from 1 to 100"),
        ('per_role.NQSW = { colour = "red" }\n', "per_role.NQSW.colour", "unknown key"),
    ]:
        with pytest.raises(ConfigError, match=rf"programme\[0\]\.{re.escape(key)}: .*{expected}"):
            load_config(write(tmp_path, row + extra))
    path = write(tmp_path, row + 'per_role.NQSW = { frequency = "fortnightly", count = 2 }\n')
    cfg = replace(CFG, programme=load_config(path).programme)
    build(db)
    nqsw = _lines(db, "SW2", TODAY, cfg)  # SW2 is the NQSW
    sw = _lines(db, "SW1", TODAY, cfg)
    assert {(task, line.frequency, line.required) for (task, _), line in nqsw.items()} >= {
        ("have_case_audited", "fortnightly", 2)}
    assert all(line.frequency == "monthly" and line.required == 1 for (task, _), line in sw.items()
               if task == "have_case_audited")
    assert main(["--config", str(path), "programme", "show"]) == 0
    out = capsys.readouterr().out
    assert "| Social worker, Newly qualified social worker (ASYE) | Have a case audited | monthly; NQSW: × 2 fortnightly |" \
        in out
