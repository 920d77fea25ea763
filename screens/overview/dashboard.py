"""The dashboard: this month's live audits for the user's team, the moderation queue, overdue
actions and supervisions due, as four panels readable on a projector."""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Grid
from textual.content import Content
from textual.widgets import Footer, Header, Static

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
                panel.border_title = title
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
            lambda s: build_dashboard(s, today=ctx.today(), config=ctx.config, team_id=ctx.team_id),
            self.show, group="dashboard", exclusive=True)

    def show(self, d: Dashboard) -> None:
        self.query_one("#dash-title", Static).update(Content.from_markup(
            "[b]$team[/b] · $today · moderation deadline $deadline", team=d.team_name,
            today=f"{d.today:%A %-d %B %Y}", deadline=f"{d.moderation_deadline:%-d %b}"))
        s = d.audits_by_status
        drawn = "cases drawn" if d.drawn_this_month else "[b $warning]no draw yet this month[/]"
        self.query_one("#panel-audits", Static).update(
            f"{d.case_holders} case-holding workers · {drawn}\n\n"
            f"  Draft       [b]{s['draft']:>4}[/b]\n  Submitted   [b]{s['submitted']:>4}[/b]\n"
            f"  Moderated   [b]{s['moderated']:>4}[/b]\n  Finalised   [b]{s['finalised']:>4}[/b]")
        oldest = f"oldest submitted {d.moderation_oldest:%-d %b %Y}" if d.moderation_oldest else "nothing waiting"
        late = f"[b $error]{d.moderation_late}[/]" if d.moderation_late else "0"
        self.query_one("#panel-moderation", Static).update(
            f"Waiting for moderation  [b]{d.moderation_waiting}[/b]\n{oldest}\n\n"
            f"Not sent by the deadline  {late}")
        lines = [Content.from_markup(f"[b $error]{d.overdue_actions}[/] open actions past their due date\n"
                                     if d.overdue_actions else "No overdue actions\n")]
        lines += [Content(f"{a.days_overdue:>4}d {a.owner[:15]:<15} {a.title[:22]}") for a in d.overdue_action_lines]
        self.query_one("#panel-actions", Static).update(Content("\n").join(lines))
        sup = [Content.from_markup(f"Overdue [b $error]{d.supervisions_overdue}[/] · due within 7 days "
                                   f"[b]{d.supervisions_due_soon}[/b]\n")]
        sup += [Content(f"{line.days_overdue:>4}d {line.worker}") for line in d.supervision_lines]
        self.query_one("#panel-supervision", Static).update(Content("\n").join(sup))
