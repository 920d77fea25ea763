"""What a configuration holds: the Config dataclass and its parts (templates, deadlines, draw
rules, the QA programme), with every default in one place."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from pathlib import Path

from qa_tui.config.vocabulary import (
    CASE_HOLDING_ROLES,
    CARER_FILE_DOMAINS,
    CLOSURE_CHECKS,
    CP_CONFERENCE_RECORD_DOMAINS,
    MODERATOR_ROLES,
    DIP_SAMPLE_AREAS,
    DIP_SAMPLE_SCALE,
    LAC_REVIEW_RECORD_DOMAINS,
    LIVE_AUDIT_DOMAINS,
    MULTI_AGENCY_DOMAINS,
    OFSTED_SCALE,
    SUPERVISION_FILE_DOMAINS,
    THEMED_AUDIT_DOMAINS,
)


@dataclass(frozen=True)
class Domain:
    key: str
    label: str


@dataclass(frozen=True)
class Template:
    key: str
    name: str
    version: int
    kind: str
    scale: tuple[str, ...]
    domains: tuple[Domain, ...]


@dataclass(frozen=True)
class Deadlines:
    moderation_day: int = 28
    action_due_weeks: int = 4
    finalise_within_weeks: int = 4
    reaudit_months: int = 12
    escalation_response_days: int = 2
    impact_reaudit_months: int = 3  # a moderated RI / Inadequate case is re-audited this long after


@dataclass(frozen=True)
class DrawRules:
    roles: tuple[str, ...] = CASE_HOLDING_ROLES
    require_open: bool = True
    require_allocated: bool = True
    exclude_audited_within_months: int = 12
    exclude_drawn_this_month: bool = True
    # A case moderated at grade index `impact_reaudit_grade_from` or worse (0 = best) is offered
    # again this many months after the moderation, despite the exclusion above, until re-audited.
    # 0 switches it off, as in draws recorded before the rule.
    impact_reaudit_months: int = 3
    impact_reaudit_grade_from: int = 2


@dataclass(frozen=True)
class RoleVariant:
    """One role's own frequency and count within a programme row (NQSWs fortnightly, others monthly)."""

    role: str
    frequency: str
    count: int


@dataclass(frozen=True)
class ProgrammeTask:
    """One row of the QA programme: people in `roles` owe `count` of `task` each `frequency`
    (for per-practitioner, per-case and per-event tasks: `count` for each of them); a role in
    `per_role` owes its own count at its own frequency instead."""

    roles: tuple[str, ...]
    task: str
    frequency: str
    count: int = 1
    purpose: str = ""
    within_days: int = 28  # on_event tasks: days allowed after the event
    scope: str = "area"  # per-case tasks: "area" (the person's own cases or area) or "council"
    kinds: tuple[str, ...] = ()  # audit_record: audit kinds; observe_practice: observation kinds (any)
    own_service: bool = False  # observe_practice: only practitioners in the person's own area count
    sample_count: int = 0  # audit_on_closure: audit N closures a month (0: every closure) ...
    sample_percent: int = 0  # ... or this percentage of them, rounded up
    per_role: tuple[RoleVariant, ...] = ()

    def for_role(self, role: str) -> ProgrammeTask:
        """The row as someone in `role` owes it: its own frequency and count where it has them."""
        variant = next((v for v in self.per_role if v.role == role), None)
        if variant is None:
            return self
        return replace(self, roles=(role,), frequency=variant.frequency, count=variant.count, per_role=())


@dataclass(frozen=True)
class CinCensusImport:
    """How the children of a CIN census file become cases: which identifier is the case reference
    (with a prefix, when the case system's references carry one), and whether children not yet in
    qa-tui are added (unallocated) or skipped."""

    child_id: str = "LAchildID"
    reference_prefix: str = ""
    new_children: str = "add"


CIN_CENSUS_NEW_CHILDREN = ("add", "skip")
# Census identifiers that are personal data (compared case-folded): never a case reference.
CIN_CENSUS_PERSONAL_IDS = frozenset(("upn", "formerupn", "upnunknown", "personbirthdate", "expectedpersonbirthdate",
                                     "gendercurrent", "sex", "persondeathdate"))


DEFAULT_PROGRAMME = (
    ProgrammeTask(("HOS",), "audit_case_file", "monthly", 1,
                  "Heads of Service see practice first hand"),
    ProgrammeTask(("HOS",), "audit_supervision_file", "monthly", 1,
                  "Heads of Service check the quality of management oversight"),
    ProgrammeTask(("DD",), "audit_case_file", "monthly", 1,
                  "The Deputy Director sees practice first hand"),
    ProgrammeTask(("DD",), "audit_supervision_file", "quarterly", 1,
                  "The Deputy Director checks the quality of management oversight"),
    ProgrammeTask(("OPS",), "audit_cross_service", "monthly", 1,
                  "Service leaders bring fresh eyes to another part of the service"),
    ProgrammeTask(("OPS",), "audit_on_closure", "on_event", 1,
                  "Service leaders check that work was finished well when a case closes", 28),
    ProgrammeTask(("TM",), "supervise_each_practitioner", "monthly", 1,
                  "Every practitioner has regular reflective supervision"),
    ProgrammeTask(("TM",), "dip_sample", "monthly", 1,
                  "Team managers check the basics of recording on a case each month"),
    ProgrammeTask(("TM",), "review_cp_long_or_ending", "quarterly", 1,
                  "Children whose CP plan ended having lasted under 3 months, or has run 18 months+, are reviewed"),
    ProgrammeTask(CASE_HOLDING_ROLES, "have_case_audited", "financial_year", 1,
                  "Every case-holder has at least one case audited each financial year"),
    ProgrammeTask((*CASE_HOLDING_ROLES, "IRO"), "be_observed", "financial_year", 1,
                  "Every practitioner has at least one practice observation each financial year"),
)


# Who may do what, by role: the rows of docs/permissions.md a council may change in
# [permissions]. The other rows follow from who a person is to a record (its observer, a
# worker's line manager, an administrator), not from a role.
PERMISSION_ROLES = ("import_caseload", "draw", "draw_senior", "moderate", "finalise")
DEFAULT_PERMISSIONS = {
    "import_caseload": ("PI",),
    "draw": ("TM", "SM"),  # of the team drawn for
    "draw_senior": ("OPS", "HOS", "AD", "DD"),  # above the team in its line management
    "moderate": MODERATOR_ROLES,
    "finalise": ("PI",),
}


SERVE_MODES = ("token", "proxy")


@dataclass(frozen=True)
class ServeSettings:
    """How `qa-tui serve` lets people in: a token it prints ("token"), or the user name a signing-in
    reverse proxy passes in `user_header`, believed only from `proxy_addresses` ("proxy")."""

    mode: str = "token"
    user_header: str = "X-Forwarded-User"
    proxy_addresses: tuple[str, ...] = ("127.0.0.1",)


@dataclass(frozen=True)
class Config:
    path: Path | None = None
    database_url: str = ""
    # The PostgreSQL role to act as (SET ROLE) on every connection. Set only through the
    # environment, by `qa-tui serve` for the person signed in at the proxy; never from the file.
    database_role: str = ""
    user_staff_id: str = ""
    user_name: str = ""
    user_team: str = ""
    grading_scale: tuple[str, ...] = OFSTED_SCALE
    templates: tuple[Template, ...] = ()
    deadlines: Deadlines = field(default_factory=Deadlines)
    supervision_cadence: dict[str, str] = field(default_factory=dict)
    draw: DrawRules = field(default_factory=DrawRules)
    nqsw_observations_per_year: int = 3
    feedback_form_url: str = ""
    retention_years_after_closure: int = 0
    programme: tuple[ProgrammeTask, ...] = DEFAULT_PROGRAMME
    serve: ServeSettings = field(default_factory=ServeSettings)
    cin_census: CinCensusImport = field(default_factory=CinCensusImport)
    permissions: dict[str, tuple[str, ...]] = field(default_factory=lambda: dict(DEFAULT_PERMISSIONS))

    def roles_for(self, permission: str) -> tuple[str, ...]:
        return self.permissions.get(permission, DEFAULT_PERMISSIONS[permission])

    def template(self, key: str) -> Template:
        for template in self.templates:
            if template.key == key:
                return template
        raise KeyError(key)

    def cadence_for(self, role: str) -> str:
        return self.supervision_cadence.get(role, self.supervision_cadence.get("default", "monthly"))


def default_templates(scale: tuple[str, ...] = OFSTED_SCALE) -> tuple[Template, ...]:
    return (
        Template("live", "Live case audit", 1, "live", scale,
                 tuple(Domain(k, label) for k, label in LIVE_AUDIT_DOMAINS)),
        Template("dip", "Monthly dip sample", 1, "dip_sample", DIP_SAMPLE_SCALE,
                 tuple(Domain(k, label) for k, label in DIP_SAMPLE_AREAS)),
        Template("themed", "Themed audit", 1, "themed", scale,
                 tuple(Domain(k, label) for k, label in THEMED_AUDIT_DOMAINS)),
        Template("multi_agency", "Multi-agency audit", 1, "multi_agency", scale,
                 tuple(Domain(k, label) for k, label in MULTI_AGENCY_DOMAINS)),
        Template("closure", "Audit on closure or transfer", 1, "closure", DIP_SAMPLE_SCALE,
                 tuple(Domain(k, label) for k, label in CLOSURE_CHECKS)),
        Template("supervision_file", "Supervision file audit", 1, "supervision_file", scale,
                 tuple(Domain(k, label) for k, label in SUPERVISION_FILE_DOMAINS)),
        Template("cross_service", "Cross-service case audit", 1, "cross_service", scale,
                 tuple(Domain(k, label) for k, label in LIVE_AUDIT_DOMAINS)),
        Template("cp_conference_record", "CP conference record audit", 1, "cp_conference_record", scale,
                 tuple(Domain(k, label) for k, label in CP_CONFERENCE_RECORD_DOMAINS)),
        Template("lac_review_record", "Looked-after child review record audit", 1, "lac_review_record", scale,
                 tuple(Domain(k, label) for k, label in LAC_REVIEW_RECORD_DOMAINS)),
        Template("carer_file", "Foster carer or adopter file audit", 1, "carer_file", scale,
                 tuple(Domain(k, label) for k, label in CARER_FILE_DOMAINS)),
    )


DEFAULT_CADENCE = {"NQSW": "fortnightly", "default": "monthly"}
