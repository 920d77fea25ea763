"""Behind a compliance rate: the people of a team or role (for one task or all), what each has
done, what is owed and by when, the late first; below, the cases or practitioners still waiting
for the highlighted person. Opened with Enter on a row of the reports' compliance table."""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich.text import Text
from textual.binding import Binding

from qa_tui.widgets.literal import literal
from screens.table_detail import TableDetailScreen

if TYPE_CHECKING:
    from qa_tui.services.programme.compliance_detail import PersonCompliance

WAITING_SHOWN = 20


def person_cells(r: PersonCompliance) -> tuple[object, ...]:
    """The columns a decision needs first (status, due by), then who and what; the team and
    staff ID are in the detail below."""
    style = {"late": "bold red", "due": "yellow", "met": "green"}.get(r.status, "")
    return (literal(r.status, style), f"{r.due_by:%d/%m/%y}", r.name, r.task_label, f"{r.done} of {r.required}",
            r.period_label)


def person_detail(r: PersonCompliance) -> Text:
    text = Text.assemble(literal(r.person, "bold"), literal(f" · {r.role} · {r.team} · {r.task_label}, "
                                                            f"{r.period_label}: {r.done} of {r.required} done, "
                                                            f"{r.status}, due by {r.due_by:%-d %b %Y}"))
    for item in r.waiting[:WAITING_SHOWN]:
        text.append_text(literal(f"\n  · {item.subject}: {item.done} of {item.required}, due {item.due_by:%-d %b}"
                                 + (" (late)" if item.late else "") + (f" — {item.note}" if item.note else "")))
    if len(r.waiting) > WAITING_SHOWN:
        text.append_text(literal(f"\n  … and {len(r.waiting) - WAITING_SHOWN} more"))
    return text


class ComplianceDetailScreen(TableDetailScreen["PersonCompliance"]):
    COLUMNS = ("Status", "Due by", "Person", "Task", "Done", "Period")
    BINDINGS = [Binding("escape", "app.pop_screen", "Back", id="compliance-detail-back",
                        tooltip="Back to the compliance table")]

    def __init__(self, title: str, *, group_by: str, group: str, task: str, frequency: str) -> None:
        super().__init__()
        self.title_text = title
        self.where = (group_by, group, task, frequency)

    def cells(self, row: PersonCompliance) -> tuple[object, ...]:
        return person_cells(row)

    def detail(self, row: PersonCompliance) -> Text:
        return person_detail(row)

    def on_mount(self) -> None:
        from qa_tui.services.programme.compliance_detail import people_behind

        ctx, (group_by, group, task, frequency) = self.ctx, self.where
        self.load(lambda s: people_behind(s, ctx.today(), ctx.config, group_by=group_by, group=group, task=task,
                                          frequency=frequency), self.show)

    def show(self, rows: list[PersonCompliance]) -> None:
        late = sum(r.status == "late" for r in rows)
        self.show_rows(Text.assemble(literal(self.title_text, "bold"),
                                     literal(f" · {len(rows)} obligations · {late} late")), rows)
