"""The fixed vocabulary of children's social care QA that the config refers to: roles, grading
scales, the domains each kind of audit grades, supervision cadences and the QA programme's tasks."""

from __future__ import annotations

OFSTED_SCALE = ("Outstanding", "Good", "Requires improvement to be good", "Inadequate")
DIP_SAMPLE_SCALE = ("Met", "Partly met", "Not met")

CASE_HOLDING_ROLES = ("SW", "NQSW", "ASWP")
ROLES = ("SW", "NQSW", "ASWP", "TM", "SM", "OPS", "HOS", "AD", "DD", "IRO", "PI")
ROLE_NAMES = {
    "SW": "Social worker",
    "NQSW": "Newly qualified social worker (ASYE)",
    "ASWP": "Advanced practitioner",
    "TM": "Team manager",
    "SM": "Senior manager",
    "OPS": "Operations lead",
    "HOS": "Head of service",
    "AD": "Assistant director",
    "DD": "Deputy director",
    "IRO": "IRO / CP chair",
    "PI": "Practice improvement team",
}
MODERATOR_ROLES = ("OPS", "HOS", "AD", "DD", "SM")
# who an Inadequate finding or a child at risk now is escalated to: a manager, never a practitioner
ESCALATION_OWNER_ROLES = ("TM", "SM", "OPS", "HOS", "AD", "DD")

LIVE_AUDIT_DOMAINS = (
    ("recording", "Quality of recording"),
    ("practice", "Quality of practice"),
    ("impact", "Impact"),
    ("outcomes", "Outcomes for the child"),
    ("voice", "Voice of the child"),
    ("oversight", "Management oversight"),
)
DIP_SAMPLE_AREAS = (
    ("case_summary", "Case summary"),
    ("chronology", "Chronology"),
    ("visits", "Visits"),
    ("oversight", "Management oversight"),
    ("voice", "Voice and daily lived experience of the child"),
    ("direct_work", "Life story and direct work"),
    ("world_of_adult", "World of the adult / daily lived experience of the parent"),
)
THEMED_AUDIT_DOMAINS = (
    ("theme", "Practice on the theme"),
    ("recording", "Quality of recording"),
    ("voice", "Voice of the child"),
    ("oversight", "Management oversight"),
    ("impact", "Impact and outcomes for the child"),
)
MULTI_AGENCY_DOMAINS = (
    ("information_sharing", "Information sharing between agencies"),
    ("joint_working", "Joint working and communication"),
    ("risk", "Shared understanding of risk"),
    ("voice", "Voice of the child"),
    ("outcomes", "Outcomes for the child"),
)
# The checks the frameworks make when a case closes or moves team.
CLOSURE_CHECKS = (
    ("objectives", "Objectives of the plan met"),
    ("chronology", "Chronology checked for gaps"),
    ("key_data", "Key data recorded"),
    ("quality", "Overall quality acceptable"),
    ("step_down", "Step-down plan in place"),
)
SUPERVISION_FILE_DOMAINS = (
    ("regularity", "Regularity of supervision"),
    ("reflection", "Quality of reflection"),
    ("actions", "Actions followed up"),
    ("oversight", "Management oversight recorded"),
    ("wellbeing", "Wellbeing and development discussed"),
)
CADENCES = {"weekly": 7, "fortnightly": 14, "monthly": 0, "quarterly": -3}

# The QA programme: the tasks the compliance engine counts, and the frequencies a task can have
# (financial_year runs April to March; on_event follows case closures). Tasks that take `kinds`
# (audit_record: audit kinds; observe_practice: observation kinds) let a council name any record
# or practice its responsibilities table asks for.
PROGRAMME_TASKS = {
    "audit_case_file": "Audit case files",
    "audit_supervision_file": "Audit supervision files",
    "audit_record": "Audit records",
    "audit_cross_service": "Audit a case file from another service",
    "audit_on_closure": "Audit case files on closure or transfer",
    "supervise_each_practitioner": "Supervise each practitioner",
    "have_case_audited": "Have a case audited",
    "be_observed": "Have practice observed",
    "observe_practice": "Observe practice",
    "ensure_case_holders_audited": "See that every case-holder has a case audited",
    "ensure_practitioners_observed": "See that every practitioner is observed by a team leader or above",
    "hold_live_audit": "Hold the team's live audit",
    "send_for_moderation_on_time": "Send audits for moderation by the deadline",
    "dip_sample": "Dip sample a case",
    "review_cp_long_or_ending": "Review CP plans ended under 3 months or running 18 months+",
}
PROGRAMME_FREQUENCIES = ("weekly", "fortnightly", "monthly", "bimonthly", "quarterly", "six_monthly",
                         "financial_year", "on_event")
EVENT_TASKS = ("audit_on_closure",)
# Tasks whose `kinds` key names audit kinds, and those whose `kinds` names observation kinds.
AUDIT_KIND_TASKS = ("audit_record",)
OBSERVATION_KIND_TASKS = ("observe_practice",)
OBSERVATION_KINDS = ("asye", "annual", "peer", "iro_review", "cp_conference", "lac_review")
# Whose cases a per-case task covers: the person's own or their area's, or the whole council's
# (a council-wide reviewer such as a Head of Safeguarding Monitoring).
PROGRAMME_SCOPES = ("area", "council")

# Audit kinds rated on a checklist scale (Met / Partly met / Not met): their ratings are never
# counted as Ofsted grades, and stay out of grade calibration, in every report.
CHECKLIST_KINDS = ("dip_sample", "closure")

AUDIT_KINDS = ("live", "dip_sample", "themed", "multi_agency", "closure", "supervision_file", "cross_service",
               "cp_conference_record", "lac_review_record", "carer_file")
# Kinds that audit a record other than a child's case file or a worker's supervision file.
RECORD_AUDIT_KINDS = ("cp_conference_record", "lac_review_record", "carer_file")
AUDIT_KIND_NAMES = {
    "live": "Live audit",
    "dip_sample": "Dip sample",
    "themed": "Themed audit",
    "multi_agency": "Multi-agency audit",
    "closure": "Audit on closure or transfer",
    "supervision_file": "Supervision file audit",
    "cross_service": "Cross-service audit",
    "cp_conference_record": "CP conference record audit",
    "lac_review_record": "Looked-after child review record audit",
    "carer_file": "Foster carer or adopter file audit",
}
CP_CONFERENCE_RECORD_DOMAINS = (
    ("timeliness", "Conference held and minutes shared on time"),
    ("risk", "Analysis of risk and strengths"),
    ("voice", "Voice of the child"),
    ("plan", "Plan is clear, outcome-focused and multi-agency"),
    ("chairing", "Quality of chairing and challenge"),
)
LAC_REVIEW_RECORD_DOMAINS = (
    ("timeliness", "Review held and recorded on time"),
    ("participation", "The child took part and their views are recorded"),
    ("plan", "Care plan reviewed and progressed"),
    ("permanence", "Permanence planning"),
    ("iro_challenge", "IRO oversight and challenge"),
)
CARER_FILE_DOMAINS = (
    ("assessment", "Assessment and approval up to date"),
    ("supervision", "Supervising social worker visits and supervision"),
    ("training", "Training and development"),
    ("safeguarding", "Safeguarding checks and allegations recorded"),
    ("review", "Annual review held"),
)
