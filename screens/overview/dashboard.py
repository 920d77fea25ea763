"""The dashboard: this month's live audits for the user's team, the moderation queue, overdue
actions and supervisions due, as four panels readable on a projector."""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Grid
from textual.content import Content
from textual.widgets import Footer, Header, Static

from qa_tui.widgets.literal import literal, literal_markup
from screens.base import QAScreen

if TYPE_CHECKING:
    from qa_tui.services.programme.dashboard import Dashboard


class DashboardScreen(QAScreen):
    CSS_PATH = "dashboard.tcss"
    BINDINGS = [Binding("r", "refresh", "Refresh", id="refresh", tooltip="Read the dashboard again")]

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static("Loading…", id="dash-title")
        with Grid(id="dash-grid"):
            for panel_id, title in (("audits", "Live audits this month"), ("moderation", "Moderation queue"),
                                    ("actions", "Overdue actions"), ("supervision", "Supervisions")):
                panel = Static("…", id=f"panel-{panel_id}", classes="panel")
                panel.border_title = literal(title)
                yield panel
        yield Footer()

    def on_screen_resume(self) -> None:
        first = self.qa_app.first_dashboard
        if first is not None:
            self.qa_app.first_dashboard = None
            self.show(first)
        else:
            self.action_refresh()

    def action_refresh(self) -> None:
        from qa_tui.services.programme.dashboard import build_dashboard

        ctx = self.ctx
        self.call_service(
            lambda s: build_dashboard(s, today=ctx.today(), config=ctx.config, team_id=ctx.team_id,
                                      person_id=ctx.person_id),
            self.show, group="dashboard", exclusive=True)

    def show(self, d: Dashboard) -> None:
        self.query_one("#dash-title", Static).update(literal_markup(
            "[b]$team[/b] · $today · moderation deadline $deadline", team=d.team_name,
            today=f"{d.today:%A %-d %B %Y}", deadline=f"{d.moderation_deadline:%-d %b}"))
        s = d.audits_by_status
        drawn = (Content("cases drawn") if d.drawn_this_month
                 else Content.from_markup("[b $warning]no draw yet this month[/]"))
        self.query_one("#panel-audits", Static).update(literal(
            literal_markup("$holders case-holding workers · ", holders=d.case_holders) + drawn + literal_markup(
                "\n\n  Draft       [b]$draft[/b]\n  Submitted   [b]$submitted[/b]\n"
                "  Moderated   [b]$moderated[/b]\n  Finalised   [b]$finalised[/b]",
                **{status: f"{s[status]:>4}" for status in ("draft", "submitted", "moderated", "finalised")})))
        oldest = f"oldest submitted {d.moderation_oldest:%-d %b %Y}" if d.moderation_oldest else "nothing waiting"
        late = literal_markup("[b $error]$late[/]", late=d.moderation_late) if d.moderation_late else Content("0")
        self.query_one("#panel-moderation", Static).update(literal(literal_markup(
            "Waiting for moderation  [b]$waiting[/b]\n$oldest\n\nNot sent by the deadline  ",
            waiting=d.moderation_waiting, oldest=oldest) + late + literal_markup(
            "\nLate audits escalated to you  [b]$up[/b]\nEscalations to answer  [b]$answer[/b]",
            up=d.escalated_to_me, answer=d.escalations_to_answer)))
        lines = [literal_markup("[b $error]$overdue[/] open actions past their due date\n", overdue=d.overdue_actions)
                 if d.overdue_actions else Content("No overdue actions\n")]
        lines += [literal_markup("$line", line=f"{a.days_overdue:>4}d {a.owner[:15]:<15} {a.title[:22]}")
                  for a in d.overdue_action_lines]
        self.query_one("#panel-actions", Static).update(literal(Content("\n").join(lines)))
        sup = [literal_markup("Overdue [b $error]$overdue[/] · due within 7 days [b]$soon[/b]\n",
                              overdue=d.supervisions_overdue, soon=d.supervisions_due_soon)]
        sup += [literal_markup("$line", line=f"{line.days_overdue:>4}d {line.worker}") for line in d.supervision_lines]
        self.query_one("#panel-supervision", Static).update(literal(Content("\n").join(sup)))
