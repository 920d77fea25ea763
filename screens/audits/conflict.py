"""Someone else saved a record (an audit, an observation) while this user's changes were waiting:
both versions side by side, field by field, and the user chooses theirs, the other person's, or
both together to edit. Nothing is thrown away without a choice; Esc asks first and keeps the
user's changes waiting. The dialog serves every form; the rest here applies it to the audit."""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.widgets import Footer, Static

from qa_tui.widgets.grades import OVERALL
from qa_tui.widgets.literal import literal
from screens.base import QAModal
from screens.dialogs import DIALOG_CSS, ConfirmDialog

if TYPE_CHECKING:
    from qa_tui.services.audits.record import AuditDTO
    from screens.audits.editor import AuditEditor

TEXT_LABELS = {"strengths": "Strengths", "to_improve": "What to improve",
               "lived_experience": "The child's lived experience"}


class ConflictDialog(QAModal[str | None]):
    """Rows of (field, yours, theirs) for `record` ("this audit"). Dismissed with "mine",
    "theirs", "merge" or None (later); `again` says how to see both versions again.

    Opened by a failed save (`unbidden`), it appears over whatever is being typed: for its first
    GUARD_SECONDS, m and t (each drops one version) are not taken as a choice, so the next letters
    of a word ("the", "more") cannot throw a text away. Opened with R, they work at once."""

    GUARD_SECONDS = 1.0

    DEFAULT_CSS = DIALOG_CSS.format(cls="ConflictDialog") + """
    ConflictDialog > Vertical { width: 96; max-height: 28; }
    ConflictDialog VerticalScroll { height: auto; max-height: 18; }
    ConflictDialog .field { text-style: bold; margin-top: 1; }
    ConflictDialog Horizontal { height: auto; }
    ConflictDialog .side { width: 1fr; height: auto; border: round $secondary; padding: 0 1; }
    """
    BINDINGS = [
        Binding("m", "choose('mine')", "Keep yours", id="conflict-mine", tooltip="Save your version over theirs"),
        Binding("t", "choose('theirs')", "Take theirs", id="conflict-theirs",
                tooltip="Keep their version and drop your waiting changes"),
        Binding("e", "choose('merge')", "Edit both", id="conflict-merge",
                tooltip="Put both texts in the field, yours first, to edit into one"),
        Binding("escape", "later", "Later", id="conflict-later", tooltip="Decide later (asked first)"),
    ]

    def __init__(self, rows: list[tuple[str, str, str]], *, record: str = "this audit",
                 again: str = "press R on the audit", unbidden: bool = False) -> None:
        super().__init__()
        self.rows, self.record, self.again, self.unbidden = rows, record, again, unbidden
        self.opened = 0.0

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static(literal(f"Someone else saved {self.record} while your changes were waiting"),
                         classes="title")
            with VerticalScroll():
                for label, mine, theirs in self.rows:
                    yield Static(literal(label), classes="field")
                    with Horizontal():
                        for title, text in (("Yours", mine), ("Theirs (saved)", theirs)):
                            side = Static(literal(text or "(empty)"), classes="side")
                            side.border_title = literal(title)
                            yield side
            yield Static("[b]m[/b] keep yours   [b]t[/b] take theirs   [b]e[/b] edit both together   "
                         "[b]Esc[/b] later")
            yield Static("", id="conflict-note")
        yield Footer()

    def on_mount(self) -> None:
        import time

        self.opened = time.monotonic()

    def action_choose(self, choice: str) -> None:
        import time

        if self.unbidden and choice != "merge" and time.monotonic() - self.opened < self.GUARD_SECONDS:
            self.query_one("#conflict-note", Static).update(
                "Keys typed as this opened are not taken as a choice: press m or t again to choose.")
            return
        self.dismiss(choice)

    def action_later(self) -> None:
        def answer(yes: bool | None) -> None:
            if yes:
                self.dismiss(None)

        self.app.push_screen(ConfirmDialog("Decide later?", "Your changes stay on screen, not saved, until you "
                                           f"choose: {self.again} to see both versions again."), answer)


def resolve_conflict(editor: AuditEditor, *, asked: bool = False) -> None:
    """Read what is stored now and put it beside what is waiting (`asked`: with R, not after a
    failed save)."""
    audit = editor.audit
    if audit is None:
        return
    from qa_tui.services.audits.record import get_audit

    ctx, audit_id = editor.ctx, audit.id
    editor.call_service(lambda s: get_audit(s, audit_id, today=ctx.today(), cfg=ctx.config),
                        lambda theirs: _ask(editor, theirs, asked))


def _grade_label(audit: AuditDTO, grade: object) -> str:
    scale = audit.template.scale
    return scale[grade] if isinstance(grade, int) and 0 <= grade < len(scale) else "not graded"


def _ask(editor: AuditEditor, theirs: AuditDTO, asked: bool = False) -> None:
    rows: list[tuple[str, str, str]] = []
    texts: dict[str, tuple[str, str]] = {}
    for key, mine in editor.saves.pending.items():
        name = key.split(":", 1)[1]
        if name in TEXT_LABELS:
            stored = getattr(theirs, name)
            if mine != stored:
                rows.append((TEXT_LABELS[name], str(mine), stored))
                texts[name] = (str(mine), stored)
        elif name.startswith("grade:"):
            domain = name.removeprefix("grade:")
            grade = next((g for g in theirs.grades if g.domain == domain), None)
            stored_grade = theirs.overall_grade if domain == OVERALL else grade.agreed if grade else None
            if mine != stored_grade:
                label = "Overall grade" if domain == OVERALL else f"Grade for {grade.label if grade else domain}"
                rows.append((label, _grade_label(theirs, mine), _grade_label(theirs, stored_grade)))

    def chosen(choice: str | None) -> None:
        if choice == "theirs":
            editor.saves.discard()
            editor.show(theirs)
        elif choice == "mine":
            editor.show(theirs)  # the waiting changes are laid over it and sent from its version
        elif choice == "merge":
            editor.show(theirs)
            for field, (mine_text, stored) in texts.items():
                editor.put_text(field, f"{mine_text}\n\n{stored}" if stored else mine_text)

    if not rows:  # what changed elsewhere is not what is waiting: send it from the new version
        editor.show(theirs)
        return
    editor.app.push_screen(ConflictDialog(rows, unbidden=not asked), chosen)
