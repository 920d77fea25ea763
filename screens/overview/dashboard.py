"""The dashboard: this month's live audits for the user's team (a manager's: the teams under them),
the moderation queue, overdue actions and supervisions due, as four panels readable on a
projector, and the key of every area."""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual import events
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Grid
from textual.content import Content
from textual.widgets import Footer, Header, Static

from qa_tui.widgets.literal import literal, literal_markup
from screens.base import QAScreen
from screens.dialogs import ChoiceDialog

if TYPE_CHECKING:
    from qa_tui.services.audits.outcome import ReturnedAudit
    from qa_tui.services.programme.dashboard import Dashboard


class DashboardScreen(QAScreen):
    CSS_PATH = "dashboard.tcss"
    BINDINGS = [Binding("r", "refresh", "Refresh", id="refresh", tooltip="Read the dashboard again"),
                Binding("w", "rework", "Rework", id="dash-rework",
                        tooltip="Open an audit a moderator returned to you, with their reason at the top"),
                Binding("e", "escalations", "Escalations", id="dash-escalations",
                        tooltip="Triage showing the escalations you own that await your answer (Enter answers one)")]

    returned: tuple[ReturnedAudit, ...] = ()  # audits returned to the user, shown above the panels

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static("Loading…", id="dash-title")
        yield Static("", id="dash-returned")
        with Grid(id="dash-grid"):
            for panel_id, title in (("audits", "Live audits this month"), ("moderation", "Moderation queue"),
                                    ("actions", "Overdue actions"), ("supervision", "Supervisions")):
                panel = Static("…", id=f"panel-{panel_id}", classes="panel")
                panel.border_title = literal(title)
                yield panel
        yield Static("", id="dash-areas")
        yield Footer()

    def on_resize(self, event: events.Resize) -> None:
        self.show_area_keys(event.size.width - 2)

    def show_area_keys(self, width: int) -> None:
        """Every area's key (as the user has them), a key never parted from its area's name."""
        from rich.text import Text

        from screens.help import app_keys

        areas, everywhere = app_keys(self, self.qa_app.areas)
        help_key = next(line.keys for line in everywhere if line.binding_id == "help").split(", ")[0]
        parts = [Text.assemble(literal(line.keys, "bold"), literal(" " + line.what.split(":")[0]))
                 for line in areas if line.binding_id != "area-dashboard"]
        parts += [Text.assemble(("^p", "bold"), " commands"), Text.assemble(literal(help_key, "bold"), " help"),
                  Text.assemble(("q", "bold"), " quit")]
        lines = [Text()]
        for part in parts:
            if lines[-1].cell_len and lines[-1].cell_len + 2 + part.cell_len > width:
                lines.append(Text())
            lines[-1].append_text(Text("  ") + part if lines[-1].cell_len else part)
        self.query_one("#dash-areas", Static).update(literal(Text("\n").join(lines)))

    def on_screen_resume(self) -> None:
        if not self.qa_app.ready:  # the first figures, read before the database was opened
            if self.qa_app.first_figures is not None:
                self.show(self.qa_app.first_figures)
            self.call_after_refresh(self.qa_app.first_figures_drawn.set)
            return
        self.database_opened()

    def database_opened(self) -> None:
        """The whole dashboard (read while opening, else now), returned audits, unsaved edits."""
        self.refresh_bindings()
        first = self.qa_app.first_dashboard
        if first is not None:
            self.qa_app.first_dashboard = None
            self.show(first)
            self.load_returned()
        else:
            self.action_refresh()
        from screens.overview.unsaved import offer_unsaved

        offer_unsaved(self)  # what an earlier session typed and never stored (once a session)

    def action_refresh(self) -> None:
        from qa_tui.services.programme.dashboard import build_dashboard

        ctx = self.ctx
        self.call_service(
            lambda s: build_dashboard(s, today=ctx.today(), config=ctx.config, person_id=ctx.person_id),
            self.show, group="dashboard", exclusive=True)
        self.load_returned()

    def load_returned(self) -> None:
        """The audits a moderator returned to this user, with the moderator's reason."""
        from qa_tui.services.audits.outcome import returned_to

        person_id = self.ctx.person_id
        self.call_service(lambda s: returned_to(s, person_id), self.show_returned,
                          group="dashboard-returned", exclusive=True)

    def show_returned(self, rows: list[ReturnedAudit]) -> None:
        self.returned = tuple(rows)
        self.refresh_bindings()
        panel = self.query_one("#dash-returned", Static)
        panel.display = bool(rows)
        if not rows:
            return
        lines = [literal_markup("[b $warning]Returned to you for rework: $count[/] · [b]w[/b] opens one",
                                count=len(rows))]
        lines += [literal_markup("  [b]$case[/b] by $moderator on $on: $reason", case=r.case_reference,
                                 moderator=r.moderator, on=f"{r.returned_on:%-d %b}", reason=r.reason)
                  for r in rows[:3]]
        if len(rows) > 3:
            lines.append(literal_markup("  … and $more more", more=len(rows) - 3))
        panel.update(literal(Content("\n").join(lines)))

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
        pending = "…"  # the first figures leave these to the whole dashboard, read a moment later
        self.query_one("#panel-moderation", Static).update(literal(literal_markup(
            "Waiting for moderation  [b]$waiting[/b]\n$oldest\n\nNot sent by the deadline  ",
            waiting=d.moderation_waiting, oldest=oldest) + (late if d.complete else Content("…")) + literal_markup(
            "\nLate audits escalated to you  [b]$up[/b]\nEscalations to answer  [b]$answer[/b]",
            up=d.escalated_to_me if d.complete else pending,
            answer=d.escalations_to_answer if d.complete else pending)))
        lines = [literal_markup("[b $error]$overdue[/] open actions past their due date\n", overdue=d.overdue_actions)
                 if d.overdue_actions else Content("No overdue actions\n")]
        lines += [literal_markup("$line", line=f"{a.days_overdue:>4}d {a.owner[:15]:<15} {a.title[:22]}")
                  for a in d.overdue_action_lines]
        self.query_one("#panel-actions", Static).update(literal(Content("\n").join(lines)))
        sup = [literal_markup("Overdue [b $error]$overdue[/] · due within 7 days [b]$soon[/b]\n",
                              overdue=d.supervisions_overdue, soon=d.supervisions_due_soon)]
        sup += [literal_markup("$line", line=f"{line.days_overdue:>4}d {line.worker}") for line in d.supervision_lines]
        self.query_one("#panel-supervision", Static).update(literal(Content("\n").join(sup)) if d.complete
                                                             else literal(pending))

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if not self.qa_app.ready:
            return None  # the first figures are on screen; refreshing waits for the database
        if action == "rework":
            return bool(self.returned)
        return True

    def action_escalations(self) -> None:
        """Triage, showing only the escalations the user owns and has not answered."""
        from qa_tui.services.programme.triage import TriageFilters
        from screens.overview.triage import TriageScreen

        if not self.qa_app.ready:
            return
        if self.ctx.person_id is None:
            self.notify("Your login is not linked to a staff record, so no escalation is yours to answer.",
                        severity="warning")
            return
        self.app.switch_mode("triage")
        triage = next((s for s in self.app.screen_stack if isinstance(s, TriageScreen)), None)
        if triage is not None:
            triage.show_only(TriageFilters(kinds=("escalation",), owner_id=self.ctx.person_id),
                             self.ctx.person_name)

    def palette_commands(self):  # noqa: ANN201
        from textual.app import SystemCommand

        yield SystemCommand("Dashboard: escalations to answer", "Triage showing the escalations you own, not yet "
                            "answered", self.action_escalations)

    def action_rework(self) -> None:
        from screens.audits.audit_form import AuditFormScreen

        if len(self.returned) == 1:
            self.app.push_screen(AuditFormScreen(self.returned[0].audit_id))
        elif self.returned:
            self.app.push_screen(ChoiceDialog("Which audit to rework?", [
                (r.audit_id, f"{r.case_reference} ({r.audit_date:%-d %b}): {r.reason}") for r in self.returned]),
                lambda audit_id: audit_id is not None and self.app.push_screen(AuditFormScreen(audit_id)))
