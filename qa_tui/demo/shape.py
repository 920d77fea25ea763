"""The shape of the demo council: one area's services and teams, how big an area is, how
its cases are mixed, and how much history is generated."""

from __future__ import annotations

CASES_PER_AREA = 2500  # each area is one copy of the default shape: 3 frontline services, 8 teams
HISTORY_MONTHS = 12

FRONTLINE_SERVICES = (
    ("CAS", "Children's Assessment Service", (
        ("AST1", "Assessment Team 1", "assessment"),
        ("AST2", "Assessment Team 2", "assessment"),
        ("AST3", "Assessment Team 3", "assessment"),
    )),
    ("SFS", "Safeguarding & Family Support", (
        ("FST1", "Family Support & Protection Team 1", "safeguarding"),
        ("FST2", "Family Support & Protection Team 2", "safeguarding"),
        ("FST3", "Family Support & Protection Team 3", "safeguarding"),
    )),
    ("CIC", "Children in Care & Care Leavers", (
        ("CIC1", "Children in Care Team", "in_care"),
        ("LCT1", "Leaving Care Team", "leaving_care"),
    )),
)
TEAMS_PER_AREA = sum(len(teams) for _, _, teams in FRONTLINE_SERVICES)
STANDARDS_SERVICE = ("SSPI", "Safeguarding Standards & Practice Improvement")
IRO_TEAM = ("IRO1", "Independent Reviewing & CP Chairs")
PI_TEAM = ("PIT1", "Practice Improvement Team")

# Category weights per kind of team; overall about EH 21%, CIN 37%, CP 17%, CLA 15%, CL 10%.
CATEGORY_MIX = {
    "assessment": (("EH", 40), ("CIN", 60)),
    "safeguarding": (("EH", 15), ("CIN", 40), ("CP", 45)),
    "in_care": (("CLA", 100),),
    "leaving_care": (("CL", 85), ("CLA", 15)),
}
OPEN_SHARE = 0.65
UNALLOCATED_SHARE = 0.03
CASELOAD_WEIGHT = {"SW": 1.0, "ASWP": 0.7, "NQSW": 0.6}
