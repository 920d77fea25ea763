"""The themed and the multi-agency audits lists: each theme with how far its audits have got;
Enter opens its cases, n sets one up, e writes its report."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import TYPE_CHECKING, Any, ClassVar

from textual.app import SystemCommand

from screens.audits.kinds.pane import KindPane
from screens.audits.theme import ThemeScreen, write_theme_report
from screens.dialogs import ChoiceDialog, TextPrompt

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from qa_tui.services.audits.themes import ThemeSummary


class ThemesPane(KindPane["ThemeSummary"]):
    KEY = "themed"
    TITLE = "Themed audits"
    TAB = "Themed"
    COLUMNS = ("Theme", "Requested by", "Set up", "Cases", "Given out", "Started", "Done", "Status")
    HINT = "Enter opens a theme's cases · n sets up a theme · e writes its report"
    ACTIONS = frozenset({"open", "new", "export"})
    WHAT: ClassVar[str] = "themed audit"
    NAME_EXAMPLE: ClassVar[str] = "e.g. CP plans ending within 3 months"

    def loader(self) -> Callable[[Session], Sequence[ThemeSummary]]:
        from qa_tui.services.audits.themes import list_themes

        kind = self.KEY
        return lambda s: list_themes(s, kind=kind)

    def cells(self, row: ThemeSummary) -> Sequence[object]:
        theme = row.theme
        return (theme.name[:34], theme.requested_by[:26], f"{theme.created_on:%-d %b %Y}", row.cases, row.assigned,
                row.started, row.completed, theme.status)

    def row_key(self, row: ThemeSummary) -> object:
        return row.theme.id

    def open(self, row: ThemeSummary) -> None:
        self.app.push_screen(ThemeScreen(row.theme.id))

    def export(self) -> None:
        row = self.table.current
        if row is not None:
            write_theme_report(self, row.theme.id)

    # --- setting one up --------------------------------------------------------------------

    def questions(self) -> list[tuple[str, str, dict[str, Any]]]:
        """(answer key, label, prompt options) asked before the template, in order."""
        return [("name", "Theme", {"placeholder": self.NAME_EXAMPLE}),
                ("description", "What it looks at (optional)", {"required": False})]

    def requested_by(self) -> str:
        return self.ctx.person_name

    def new(self) -> None:
        from qa_tui.services.audits.themes import create_theme, theme_templates

        ctx, kind, title = self.ctx, self.KEY, f"New {self.WHAT}"
        templates = theme_templates(ctx.config, kind)
        answers: dict[str, str] = {}
        steps: list[Callable[[], None]] = []

        def next_step() -> None:
            if steps:
                steps.pop(0)()
                return
            self.call_service(
                lambda s: create_theme(s, kind=kind, name=answers["name"], description=answers.get("description", ""),
                                       template_key=answers.get("template"), requested_by=answers.get("by", ""),
                                       agencies=answers.get("agencies", ""), today=ctx.today(), cfg=ctx.config),
                lambda theme: self.app.push_screen(ThemeScreen(theme.id)), write=True)

        def answered(key: str) -> Callable[[str | None], None]:
            def got(value: str | None) -> None:
                if value is not None:
                    answers[key] = value
                    next_step()
            return got

        def ask(key: str, label: str, options: dict[str, Any]) -> Callable[[], None]:
            return lambda: self.app.push_screen(TextPrompt(title, label, **options), answered(key))

        steps += [ask(key, label, options) for key, label, options in self.questions()]
        if len(templates) > 1:
            steps.append(lambda: self.app.push_screen(ChoiceDialog(
                "Which template?", [(t.key, f"{t.name} (v{t.version})") for t in templates]), answered("template")))
        steps.append(ask("by", "Requested by", {"initial": self.requested_by(), "required": False}))
        next_step()

    def palette_commands(self) -> Iterable[SystemCommand]:
        yield SystemCommand("New themed audit", "Name a theme, choose its cases by rule or by hand", self.new)


class MultiAgencyPane(ThemesPane):
    KEY = "multi_agency"
    TITLE = "Multi-agency audits"
    TAB = "Multi-agency"
    HINT = "Enter opens its cases · n sets up the partnership's quarterly audit · e writes its report"
    WHAT = "multi-agency audit"
    NAME_EXAMPLE = "e.g. Neglect in under-fives"

    def questions(self) -> list[tuple[str, str, dict[str, Any]]]:
        name, description = super().questions()
        agencies = ("agencies", "Agencies taking part (comma separated)",
                    {"placeholder": "e.g. Health, Police, Education"})
        return [name, agencies, description]

    def requested_by(self) -> str:
        return "Safeguarding partnership"

    def palette_commands(self) -> Iterable[SystemCommand]:
        yield SystemCommand("New multi-agency audit", "The partnership's quarterly theme and the agencies taking part",
                            self.new)
