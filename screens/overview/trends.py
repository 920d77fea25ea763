"""The Reports area's trend charts in text: twelve months of grades (stacked bars), agreement with
moderators per team and per auditor (sparklines with the latest figure), and overdue actions."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from rich.text import Text

from qa_tui.widgets.charts import SHADES, labelled, sparkline, stacked_bar
from qa_tui.widgets.literal import literal

if TYPE_CHECKING:
    from qa_tui.services.reports.trends import Series, Trends

GRADE_STYLES = ("green", "cyan", "yellow", "red", "magenta")
BAR_WIDTH = 60
LABEL_WIDTH = 30


def grades_chart(t: Trends) -> Text:
    largest = max((sum(m) for m in t.grades), default=0)
    text = Text("Completed audits by moderated overall grade\n", style="bold")
    text.append_text(Text("  ").join(literal(f"{SHADES[n % len(SHADES)]} {label}", GRADE_STYLES[n % len(GRADE_STYLES)])
                                     for n, label in enumerate(t.scale)))
    for month, counts in zip(t.months, t.grades, strict=True):
        text.append_text(Text.assemble("\n", literal(f"{month}  "),
                                       literal(stacked_bar(counts, largest, BAR_WIDTH, GRADE_STYLES)),
                                       literal(f" {sum(counts)}")))
    return text


def agreement_chart(title: str, series: Sequence[Series], months: Sequence[str]) -> Text:
    values = [v for s in series for v in s.values if v is not None]
    bottom = min(0.9, int(min(values, default=0.0) * 10) / 10)  # agreement is mostly high: show its range
    text = Text.assemble(literal(title, "bold"), literal(f"  {months[0] if months else ''} to "
                                                         f"{months[-1] if months else ''}, ▁ {bottom:.0%} █ 100%, "
                                                         "· no moderations"))
    if not series:
        text.append("\nNo moderations in these months.", style="dim")
    for s in series:
        last = s.last
        text.append_text(Text.assemble("\n", literal(labelled(s.label, LABEL_WIDTH)), " ",
                                       literal(sparkline(s.values, 1.0, "cyan", bottom=bottom)),
                                       literal(f"  latest {last:.0%}" if last is not None else "  —")))
    return text


def overdue_chart(t: Trends) -> Text:
    values = [int(v or 0) for v in t.overdue_actions.values]
    largest = max(values, default=0)
    text = Text("Actions overdue at each month's end\n", style="bold")
    text.append_text(Text("\n").join(
        Text.assemble(literal(f"{month}  "), literal(stacked_bar([v], largest, BAR_WIDTH, ("red",))),
                      literal(f" {v}"))
        for month, v in zip(t.months, values, strict=True)))
    return text


def trends_text(t: Trends) -> Text:
    return Text("\n\n").join([
        grades_chart(t),
        agreement_chart("Agreement with moderators by team", (t.agreement_council, *t.agreement_by_team), t.months),
        agreement_chart("Agreement with moderators by auditor", t.agreement_by_auditor, t.months),
        overdue_chart(t)])
