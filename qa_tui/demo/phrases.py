"""Fictional names and stock phrases for the demo council. No child is ever named."""

from __future__ import annotations

FIRST_NAMES = (
    "Alex", "Avery", "Blake", "Casey", "Charlie", "Dana", "Drew", "Eden", "Ellis", "Emery",
    "Finley", "Frankie", "Harley", "Jamie", "Jordan", "Jude", "Kai", "Lee", "Logan", "Morgan",
    "Nico", "Parker", "Quinn", "Reese", "Riley", "Robin", "Rowan", "Sam", "Sasha", "Skyler",
    "Taylor", "Toby", "Val", "Wren",
)
SURNAME_STEMS = (
    "Amber", "Bramble", "Cinder", "Dapple", "Ember", "Fennel", "Gossamer", "Inkwell", "Juniper",
    "Kettle", "Lantern", "Marigold", "Nutmeg", "Oakapple", "Pepper", "Quill", "Rosehip", "Saffron",
    "Thimble", "Umber", "Velvet", "Whistle", "Yarrow", "Zephyr",
)
SURNAME_ENDINGS = ("bottom", "brook", "crumb", "feather", "foot", "glen", "hollow", "penny", "wick", "whisker")

STRENGTHS = (
    "Visits are regular and purposeful, with clear records of what was seen and heard.",
    "The chronology is up to date and shows the significant events.",
    "Good multi-agency working: partners are involved and their views are recorded.",
    "The plan is specific and the family understands what needs to change.",
    "Direct work is creative and helps the child to share their wishes and feelings.",
    "Risks are analysed clearly and the analysis informs the plan.",
)
TO_IMPROVE = (
    "Record the child's own words after each visit.",
    "Update the chronology with the last three months' events.",
    "Make the plan's actions specific, with owners and timescales.",
    "Show management oversight of the decision to step down.",
    "Include the views of the father and the wider family.",
    "Complete the overdue assessment and share it with the family.",
)
LIVED_EXPERIENCE = (
    "The child's day-to-day experience is described well and drives the plan.",
    "The records say what life is like for the child at home and at school.",
    "There is little sense of the child's daily life; visits focus on the adults.",
    "The child's views are recorded, but not how they shaped the plan.",
)
GRADE_COMMENTS = (
    "Evidence seen on the case file.",
    "Partly evidenced; see the actions.",
    "Consistent over the last six months.",
    "Improving since the last audit.",
)
MODERATION_COMMENTS = (
    "Agreed: the grades are supported by the evidence on file.",
    "Regraded: the evidence does not support the grade given for this domain.",
    "Returned: please add the evidence behind the grades and the child's lived experience.",
)
ACTION_TITLES = (
    "Update the chronology",
    "Record the child's wishes and feelings after the next visit",
    "Complete the outstanding assessment",
    "Hold a core group meeting and update the plan",
    "Add a management oversight note on the case direction",
    "Arrange a family network meeting",
    "Complete direct work and upload it to the file",
    "Review the safety plan with the family",
    "Update the pathway plan with the young person",
    "Check the health assessment is booked",
)
EVIDENCE = (
    "Chronology updated and checked in supervision.",
    "Case note records the child's own words.",
    "Assessment completed and shared with the family.",
    "Core group minutes uploaded to the file.",
    "Management oversight recorded on the file.",
)
EXTENSION_REASONS = (
    "Family meeting rescheduled at the family's request.",
    "Worker on leave; agreed with the team manager.",
    "Waiting for a partner agency's report.",
)
CANCEL_REASONS = ("Case closed before the action fell due.", "Superseded by the new plan.")
OBSERVATION_SETTINGS = (
    "Home visit", "Child protection conference", "Core group meeting", "Direct work session",
    "Family network meeting", "Visit to a foster carer", "Pathway plan review",
)
WENT_WELL = (
    "Warm, clear communication; the family was helped to understand the worries.",
    "The child was given time and space to share their views.",
    "The meeting kept the focus on the child throughout.",
)
TO_DEVELOP = (
    "Summarise agreed actions before leaving.",
    "Check the family's understanding of the plan in their own words.",
    "Use a tool to help the child express their wishes.",
)
REFLECTIONS = (
    "I will plan direct work sessions in advance.",
    "I want to be more confident challenging partner agencies.",
    "Useful to think about how I explain risk to parents.",
)
OBSERVATION_THEMES = ("voice of the child", "analysis of risk", "relationship-based practice",
                      "working with fathers", "planning", "multi-agency working")
SUPERVISION_NOTES = (
    "Caseload reviewed; plans on track.", "Reflective discussion on a complex case.",
    "Workload and wellbeing discussed.", "Training needs identified.",
)
AUDIT_FOLLOW_UPS = (
    "Discuss the audit findings and the actions agreed.",
    "Reflect on how the child's voice is recorded.",
    "Review the plan's actions and timescales from the audit.",
)
DIP_FOLLOW_UPS = (
    "Dip sample: chronology and visits discussed; oversight to strengthen.",
    "Dip sample: good direct work; keep the case summary current.",
)
DISCUSSED_NOTES = ("Discussed; actions agreed.", "Discussed and reflected on.", "Covered in supervision.")
FEEDBACK_GIVERS = (("child", 15), ("young_person", 20), ("parent", 35), ("carer", 10), ("professional", 20))
FEEDBACK_CHANNELS = (("form", 30), ("qr", 20), ("phone", 15), ("live_audit", 15), ("in_person", 15), ("email", 5))
FEEDBACK_SAID = {
    "good": ("They listened to me.", "Always explained what was happening.", "Helped us get the support we needed."),
    "mixed": ("Good when we met, but hard to get hold of.", "Meetings were helpful but changed a lot."),
    "poor": ("I didn't know what was happening.", "Nobody called back.", "Felt we were not listened to."),
}
FEEDBACK_THEMES = ("communication", "listening", "reliability", "explaining plans", "getting support")

# The hostile council (qa_tui/demo/dressing.py): each text of a person keeps its words, with one of
# these around it. The emoji are ones every terminal draws two cells wide: a sequence joined with
# U+200D or a skin tone is drawn wider by some (tmux, VTE) than Rich counts, and shifts the line.
LONG_WORD = "Pneumonoultramicroscopicsilicovolcanoconiosis-Supercalifragilisticexpialidocious-Llanfairpwllgwyngyll"
DRESSINGS = (
    '=HYPERLINK("http://x","y") {text} [/] \x1b]0;title\x07',
    "[bold red]x[/] {text} \x1b[2J🧒🙂",
    "+1 [redacted] {text} \u202eevil\u202c",
    "-2+3 {text} [/] \x07\x9b31m " + LONG_WORD,
    "@SUM(1) [b]{text} \u200f\u05e9\u05dc\u05d5\u05dd",
    "[/] {text} \x1b[31m[redacted]\x1b[0m 📋✅",
)
