"""What moderation decided, as lines to show with an audit wherever it is shown: why it was
returned for rework, or the auditor's grades beside the moderator's with the regraded ones marked."""

from __future__ import annotations

from rich.text import Text

from qa_tui.services.audits.outcome import moderation_outcome, return_reason
from qa_tui.services.audits.record import AuditDTO
from qa_tui.widgets.literal import literal

REGRADED = "◆"  # marks a regraded domain; the legend says so


def return_lines(audit: AuditDTO) -> list[Text]:
    """The moderator's reason for returning a draft, to read first; nothing otherwise."""
    returned = return_reason(audit)
    if returned is None:
        return []
    head = literal(f"↩ Returned for rework by {returned.moderator.name} on {returned.moderated_on:%-d %b %Y}:",
                   "bold reverse")
    return [head, literal(returned.comment, "bold"), Text("")]


def outcome_lines(audit: AuditDTO, *, grades: bool = True) -> list[Text]:
    """What moderation decided; with `grades`, the two sets side by side by number (the scale
    is on the grade list), the regraded ones marked. Nothing before moderation."""
    outcome = moderation_outcome(audit)
    if outcome is None:
        return []
    what = "Agreed" if outcome.outcome == "agreed" else f"Regraded {outcome.regraded_count}"
    lines = [literal(f"Moderation: {what} by {outcome.moderator} on {outcome.moderated_on:%-d %b %Y}", "bold")]
    if outcome.comment:
        lines.append(literal(f"“{outcome.comment}”", "italic"))
    if grades and not outcome.regraded_count:
        lines.append(literal("Every grade agreed as the auditor gave it.", "dim"))
    elif grades:
        lines.append(literal(f"Auditor → moderator, {REGRADED} regraded:", "dim"))
        for pair in outcome.grades:
            mark = f"{REGRADED} " if pair.regraded else "  "
            line = literal(f"{mark}{pair.label}: {_number(pair.auditor_grade)} → {_number(pair.moderator_grade)}",
                           "bold" if pair.regraded else "")
            if pair.regraded:
                line.append_text(literal(f" {pair.moderator}"))
            if pair.comment:
                line.append_text(literal(f" ({pair.comment})", "italic"))
            lines.append(line)
    lines.append(Text(""))
    return lines


def _number(grade: int | None) -> str:
    return "—" if grade is None else str(grade + 1)


def moderation_lines(audit: AuditDTO, *, grades: bool = True) -> list[Text]:
    """Everything moderation says about this audit, most urgent first (`grades`: as outcome_lines)."""
    return return_lines(audit) + outcome_lines(audit, grades=grades)
