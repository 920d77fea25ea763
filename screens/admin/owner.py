"""The first-run question on a standalone SQLite install: whose database is this? The answer binds
the file to one person (recorded in the audit trail); only `qa-tui db owner` changes it later,
and a laptop's owner is whoever pulled it, never asked here."""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.widgets import Footer, Input, Static

from qa_tui.widgets.literal import literal
from screens.base import QAModal
from screens.dialogs import DIALOG_CSS

if TYPE_CHECKING:
    from qa_tui.services.people.owner import Ownership


class OwnerScreen(QAModal[bool]):
    DEFAULT_CSS = DIALOG_CSS.format(cls="OwnerScreen") + """
    OwnerScreen > Vertical { width: 80; }
    OwnerScreen #owner-staff-id { margin: 1 0 0 0; }
    """
    BINDINGS = [Binding("enter", "name_owner", "Name the owner", id="owner-save", priority=True,
                        tooltip="Bind this database to the person with this staff ID"),
                Binding("escape", "later", "Later", id="owner-later", tooltip="Ask again next time")]

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static("Whose database is this?", classes="title")
            yield Static("This database has no owner yet. Type your staff ID: from then on you are that person "
                         "here, in the audit trail and in every permission, and no setting changes it "
                         "(qa-tui db owner does, and is recorded). Import the staff list first if you are "
                         "not in it yet.", id="owner-help")
            yield Input(id="owner-staff-id", compact=True, placeholder="your staff ID")
            yield Static("", classes="error", id="owner-error")
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#owner-staff-id", Input).focus()

    def action_name_owner(self) -> None:
        from qa_tui.services.people.owner import claim_ownership

        staff_id, login = self.query_one("#owner-staff-id", Input).value, self.ctx.login
        self.call_service(lambda s: claim_ownership(s, staff_id, login), self._named, write=True,
                          on_error=self._refused)

    def _named(self, owned: Ownership) -> None:
        ctx = self.ctx
        ctx.db.acting, ctx.permissions, ctx.owner_needed = owned.acting, owned.permissions, False
        ctx.person_id, ctx.person_name = owned.person.id, owned.person.name
        ctx.team_id = ctx.team_id or owned.person.team_id
        self.app.notify(f"This database is now {owned.person.name}'s ({owned.person.staff_id}).")
        self.dismiss(True)

    def _refused(self, error: BaseException) -> bool:
        from qa_tui.errors import QAError

        if not isinstance(error, QAError):
            return False
        self.query_one("#owner-error", Static).update(literal(str(error)))
        return True

    def action_later(self) -> None:
        self.dismiss(False)
