"""The programmes councils actually run, shipped as presets a config selects with
`programme_preset`: each row of the council's own table that is a QA task for a role qa-tui
knows, with the council's wording beside the task the engine counts."""

from __future__ import annotations

from dataclasses import dataclass

from qa_tui.config.model import ProgrammeTask
from qa_tui.config.vocabulary import CASE_HOLDING_ROLES


@dataclass(frozen=True)
class PresetRow:
    """One row of a council's table: who (in the council's words), the task as written, and the
    task qa-tui counts for it."""

    council_role: str
    council_task: str
    task: ProgrammeTask


@dataclass(frozen=True)
class Preset:
    name: str
    title: str
    rows: tuple[PresetRow, ...]
    not_counted: tuple[str, ...]  # rows of the table left out, and why

    @property
    def tasks(self) -> tuple[ProgrammeTask, ...]:
        return tuple(row.task for row in self.rows)


def _row(council_role: str, council_task: str, roles: tuple[str, ...], task: str, frequency: str,
         purpose: str, **extra: object) -> PresetRow:
    return PresetRow(council_role, council_task, ProgrammeTask(roles, task, frequency, purpose=purpose, **extra))  # type: ignore[arg-type]


PRACTITIONERS = (*CASE_HOLDING_ROLES, "IRO")

PORTSMOUTH_2016 = Preset(
    "portsmouth-2016",
    "Portsmouth Children's Social Care, Quality Improvement Framework responsibilities table (2016)",
    (
        _row("Deputy Director", "Audit 1 case file", ("DD",), "audit_case_file", "monthly",
             "Monitor case records, quality of assessment, planning, management analysis, decision-making"),
        _row("Deputy Director", "Audit 1 supervision file", ("DD",), "audit_supervision_file", "quarterly",
             "Monitor regularity and quality of supervision"),
        _row("Deputy Director", "Practice review observation", ("DD",), "observe_practice", "quarterly",
             "Observe social work practice"),
        _row("Deputy Director", "Observe a child protection case conference", ("DD",), "observe_practice",
             "six_monthly", "Monitor practice standards and inter-agency process", kinds=("cp_conference",)),
        _row("Deputy Director", "Supervision of Heads of Service", ("DD",), "supervise_each_practitioner", "monthly",
             "Monitor and develop practice standards, service delivery and strategic direction"),
        _row("All Heads of Service", "Audit 1 case file", ("HOS",), "audit_case_file", "monthly",
             "Monitor case records, quality of assessment, planning, management analysis, decision-making"),
        _row("All Heads of Service", "Audit 1 supervision file", ("HOS",), "audit_supervision_file", "monthly",
             "Monitor regularity and quality of supervision"),
        _row("All Heads of Service", "Supervision of Team Service Leaders", ("HOS",), "supervise_each_practitioner",
             "monthly", "Monitor and develop practice, and improve practice delivery"),
        _row("All Heads of Service", "Undertake 2 observation visits with staff", ("HOS",), "observe_practice",
             "quarterly", "Understand key issues facing front-line staff and monitor practice", count=2),
        _row("All Heads of Service", "Observe a practitioner from own service in practice", ("HOS",),
             "observe_practice", "quarterly", "Understand key issues for frontline practitioners and monitor practice",
             own_service=True),
        _row("Head of Safeguarding Monitoring", "Ensure all case-holders have at least one case audited in each "
             "financial year", ("PI",), "ensure_case_holders_audited", "financial_year",
             "Ensure practice is consistently scrutinised", scope="council"),
        _row("Head of Safeguarding Monitoring", "Review all cases of CP plans that end within 3 months and those "
             "that continue 18 months +", ("PI",), "review_cp_long_or_ending", "quarterly",
             "Monitor practice and feedback", scope="council"),
        _row("Head of Safeguarding Monitoring", "Observe a child protection conference and provide feedback",
             ("PI",), "observe_practice", "quarterly", "Monitor compliance to standards required for chairing case "
             "conferences", kinds=("cp_conference",)),
        _row("Head of Safeguarding Monitoring", "Observe a LAC review and provide feedback", ("PI",),
             "observe_practice", "quarterly", "Monitor compliance to standards in the IRO Handbook",
             kinds=("lac_review",)),
        _row("Head of Safeguarding Monitoring", "Audit a CP conference record", ("PI",), "audit_record", "monthly",
             "Monitor quality of CP practice and produce action plans", kinds=("cp_conference_record",)),
        _row("Head of Safeguarding Monitoring", "Audit a LAC review record", ("PI",), "audit_record", "monthly",
             "Ensure rigour of QA processes", kinds=("lac_review_record",)),
        _row("Service Leaders", "Ensure all practitioners in team have at least one practice observation by a team "
             "leader or above in each financial year", ("OPS",), "ensure_practitioners_observed", "financial_year",
             "Monitor practice and the extent to which individuals change and develop"),
        _row("Service Leaders", "Audit case files on closure / transfer", ("OPS",), "audit_on_closure", "on_event",
             "Objectives met, chronologies checked for gaps and trends, key data recorded, quality acceptable, "
             "step-down plan in place", within_days=28),
        _row("Service Leaders", "Audit 1 case file from another part of the service", ("OPS",),
             "audit_cross_service", "monthly", "Objectives met, chronologies checked, key data recorded, "
             "overall quality acceptable"),
        _row("Service Leaders for Fostering and Adoption", "Audit a foster carer / adopter's file", ("OPS",),
             "audit_record", "monthly", "Practice is monitored and fed back to the Senior Management Team",
             kinds=("carer_file",)),
        _row("Team Leaders", "Undertake monthly supervision with all practitioners they are responsible for",
             ("TM",), "supervise_each_practitioner", "monthly", "Monitor and develop practice, and improve practice "
             "delivery (newly qualified workers fortnightly, by the supervision cadence)"),
        _row("Case-holders (the duty the Head of Safeguarding Monitoring ensures)", "At least one case audited each "
             "financial year", CASE_HOLDING_ROLES, "have_case_audited", "financial_year",
             "Ensure practice is consistently scrutinised"),
        _row("Practitioners (the duty Service Leaders ensure)", "At least one practice observation by a team leader "
             "or above each financial year (ASYE windows for newly qualified workers)", PRACTITIONERS, "be_observed",
             "financial_year", "Monitor practice and the extent to which individuals change and develop"),
    ),
    (
        "Elected Members, Chief Executive, Director, Complaints Manager, Heads of Assessment and of Looked After "
        "Children: meetings, visits, reports and panels, not audits or observations qa-tui records",
        "Monitoring performance data, action plans and the scheme of delegation; attending meetings and forums: "
        "no record in qa-tui to count",
        "Themed audits 'as requested', allegations management 'ongoing', Regulation 44 sign-off: not periodic "
        "or not recorded here",
        "Foster carer / adopter file audits apply to the Fostering and Adoption service leaders only; the preset "
        "asks every service leader (OPS) for one: narrow it with your own [[programme]] table if needed",
    ),
)

WIRRAL_2023 = Preset(
    "wirral-2023",
    "Wirral Children's Social Care, Quality Assurance Framework (June 2023)",
    (
        _row("Team Manager (or Senior Manager if present)", "Monthly live audit with the team", ("TM",),
             "hold_live_audit", "monthly", "Teams understand the quality and impact of their work"),
        _row("Team Manager", "All live audits sent for moderation by the 28th", ("TM", "SM"),
             "send_for_moderation_on_time", "monthly", "Moderation supports outcome-focused, consistent grading"),
        _row("Social workers", "A case randomly selected from each social worker each month", CASE_HOLDING_ROLES,
             "have_case_audited", "monthly", "Individual performance is understood and celebrated"),
        _row("Team Managers", "Monthly dip sampling", ("TM",), "dip_sample", "monthly",
             "Performance on the key areas remains a high priority"),
        _row("Team Managers", "Observe the practice of workers within the team at least once every year", ("TM",),
             "ensure_practitioners_observed", "financial_year", "Observation is routine for all staff"),
        _row("Advanced practitioners (ASWP)", "Observe the practice of workers within the team", ("ASWP",),
             "observe_practice", "financial_year", "Observation is routine for all staff", own_service=True),
        _row("Newly qualified workers and every practitioner", "Practice observed (ASYE policy for newly "
             "qualified workers; yearly for everyone else)", PRACTITIONERS, "be_observed", "financial_year",
             "Observation is routine for all staff, not only at the start of a career"),
        _row("Team Managers", "Supervision", ("TM",), "supervise_each_practitioner", "monthly",
             "Learning from audits and observations is discussed in the next supervision"),
    ),
    (
        "Moderation by Operational Leads, Heads of Service and the Assistant Director 'where necessary': "
        "done as audits arrive, not a periodic count",
        "Reporting (live audits monthly, observed practice twice yearly, family feedback quarterly) is the "
        "reports' job: see qa-tui report",
    ),
)

PROGRAMME_PRESETS = {p.name: p for p in (PORTSMOUTH_2016, WIRRAL_2023)}
