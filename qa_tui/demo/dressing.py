"""Dressing the hostile council's text (`qa-tui demo --hostile`): which columns carry people's
text, and how each text is dressed in markup, terminal escapes, formulas, right-to-left marks,
emoji and very long words as its row is written."""

from __future__ import annotations

import zlib
from typing import Any

from qa_tui.demo.phrases import DRESSINGS

# The columns (and JSON lists of strings) that carry people's text. Every other text column is
# a code, a reference, a login or a word from a fixed list, and stays plain: tests/test_hostile_council.py
# checks that each text column of the models is in one list or the other.
HOSTILE_COLUMNS: dict[str, tuple[str, ...]] = {
    "service": ("name",),
    "team": ("name",),
    "person": ("name",),
    "audit": ("strengths", "to_improve", "lived_experience"),
    "audit_grade": ("comment",),
    "moderation": ("comment",),
    "action": ("title", "evidence", "child_outcome"),
    "action_change": ("reason",),
    "draw_pool": ("empty_reason",),
    "draw_pick": ("reason",),
    "observation": ("setting", "went_well", "to_develop", "reflection", "themes"),
    "supervision": ("notes",),
    "follow_up": ("summary", "discussed_note"),
    "feedback": ("said", "themes"),
    "theme": ("name", "description", "requested_by", "learning", "agencies"),
    "agency_finding": ("agency", "finding", "learning"),
    "good_practice": ("why",),
    "support_plan": ("aim", "outcome"),
    "support_step": ("step",),
    "escalation": ("note", "response"),
    "worker_response": ("comment", "reflection"),
}
PLAIN_COLUMNS: dict[str, tuple[str, ...]] = {
    "*": ("updated_by",),
    "service": ("code",),
    "team": ("code",),
    "person": ("staff_id", "role", "login"),
    "case_file": ("reference", "category"),
    "audit_template": ("key", "name", "kind", "scale", "domains"),  # from the config file
    "audit": ("kind", "status", "record_reference"),  # a carer file's case-system reference
    "audit_grade": ("domain",),
    "moderation": ("outcome", "grades"),
    "action": ("status", "source_kind"),
    "action_change": ("change", "old_value", "new_value"),  # dates and people the history replays
    "case_draw": ("month", "seed", "algorithm", "rules", "drawn_by"),  # the proof of a fair draw
    "draw_pool": ("worker_key", "eligible"),
    "draw_pick": ("case_reference", "requested_by"),
    "theme": ("kind", "template_key", "status", "rules"),
    "observation": ("kind",),
    "supervision": ("kind",),
    "follow_up": ("source_kind",),
    "feedback": ("giver", "channel"),
    "good_practice": ("source_kind",),
    "support_plan": ("status",),
    "escalation": ("reason",),
    "worker_response": ("source_kind", "stance"),
    "record_seen": ("source_kind",),
}


def hostile(text: str, limit: int | None = None) -> str:
    """`text` dressed in one of the hostile dressings, cut to `limit` characters if need be."""
    if not text:
        return text
    dressed = DRESSINGS[zlib.crc32(text.encode("utf-8")) % len(DRESSINGS)].format(text=text)
    return dressed if limit is None else dressed[:limit]


def dress_row(model: Any, row: dict[str, Any]) -> dict[str, Any]:
    """A row about to be written, with its people's text dressed."""
    table = model.__table__
    for name in HOSTILE_COLUMNS.get(table.name, ()):
        value = row.get(name)
        if isinstance(value, str):
            row[name] = hostile(value, getattr(table.c[name].type, "length", None))
        elif isinstance(value, list):
            row[name] = [hostile(v) if isinstance(v, str) else v for v in value]
    return row
