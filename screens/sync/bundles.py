"""Sync: this database's sync state; export, import, acknowledge and pull with a progress bar; the
receipt of the last import; and the conflicts kept aside, each opened with Enter."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import DataTable, Footer, Header, Input, Label, ProgressBar, Static

from qa_tui.dates import LONDON
from qa_tui.text import plural
from qa_tui.widgets.literal import literal, literal_markup
from qa_tui.widgets.record_table import RecordTable
from screens.base import QAScreen
from screens.dialogs import DIALOG_CSS, ConfirmDialog, TextPrompt

if TYPE_CHECKING:
    from qa_tui.services.sync.bundle import Receipt
    from qa_tui.services.sync.conflicts import ConflictView
    from qa_tui.services.sync.pull import PullSummary
    from qa_tui.services.sync.receipts import AckSummary
    from qa_tui.services.sync.state import SyncStatus
    from qa_tui.services.sync.views import ExportedFile

OPERATIONS = frozenset({"export", "import_bundle", "acknowledge", "pull"})
NAME_FIELDS = ("reference", "code", "title", "name", "summary", "kind")  # what a conflict row is about


def when(value: str | datetime | None) -> str:
    """A stored moment (UTC) as a UK reader expects it."""
    if value is None:
        return "—"
    moment = datetime.fromisoformat(value) if isinstance(value, str) else value
    return f"{moment.astimezone(LONDON):%-d %b %Y %H:%M}"


def counted(by_table: dict[str, int]) -> str:
    return ", ".join(f"{n} {table.replace('_', ' ')}" for table, n in by_table.items())


def clip(text: str, width: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= width else text[:width - 1] + "…"


@dataclass(frozen=True)
class PullRequest:
    url: str  # without its password
    password: str | None
    team: str


class PullDialog(ModalScreen[PullRequest | None]):
    """Where to pull from and for which team (the user's own by default; an empty box pulls the
    whole council, asked first). A password typed into the URL is moved into the hidden field as
    soon as the URL is entered, and never shown again."""

    DEFAULT_CSS = DIALOG_CSS.format(cls="PullDialog")
    BINDINGS = [Binding("escape", "cancel", "Cancel", id="pull-cancel", tooltip="Close without pulling"),
                Binding("ctrl+s", "pull", "Pull", id="pull-run", tooltip="Pull from this database now")]

    def __init__(self, url: str, team: str) -> None:
        super().__init__()
        self.url, self.team = url, team

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static("Pull reference data from the shared database", classes="title")
            yield Label("Database URL")
            yield Input(self.url, placeholder="postgresql+psycopg://login@host/database", id="pull-url")
            yield Label("Password (hidden; leave empty when your login needs none)")
            yield Input(password=True, id="pull-password")
            yield Label("Team code (your own team by default; empty: the whole council, asked first)")
            yield Input(self.team, id="pull-team")
            yield Static("", classes="error", id="pull-error")
            yield Static("[b]Enter[/b] next field, on the last one pull   [b]Ctrl+S[/b] pull   [b]Esc[/b] cancel")
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#pull-url", Input).focus()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        if event.input.id == "pull-team":
            self.action_pull()
            return
        if event.input.id == "pull-url":
            self._hide_password()
        self.focus_next()

    def _hide_password(self) -> bool:
        from qa_tui.errors import ValidationError
        from qa_tui.services.sync.views import split_password

        url_input = self.query_one("#pull-url", Input)
        try:
            plain, password = split_password(url_input.value)
        except ValidationError as exc:
            self.query_one("#pull-error", Static).update(literal(exc))
            url_input.focus()
            return False
        if password is not None:
            url_input.value = plain
            self.query_one("#pull-password", Input).value = password
        self.query_one("#pull-error", Static).update("")
        return True

    def action_pull(self) -> None:
        if not self.query_one("#pull-url", Input).value.strip():
            self.query_one("#pull-error", Static).update("Database URL cannot be empty.")
            return
        if not self._hide_password():
            return
        request = PullRequest(self.query_one("#pull-url", Input).value.strip(),
                              self.query_one("#pull-password", Input).value or None,
                              self.query_one("#pull-team", Input).value.strip())
        if request.team:
            self.dismiss(request)
            return

        def answered(whole_council: bool | None) -> None:
            if whole_council:
                self.dismiss(request)
            else:
                self.query_one("#pull-error", Static).update("Type a team code to pull only that team.")
                self.query_one("#pull-team", Input).focus()

        self.app.push_screen(ConfirmDialog(
            "Pull the whole council onto this laptop?",
            "No team code is given, so every team's people, cases, audits, supervisions and observations "
            "would be copied onto this laptop. Answer n to type a team code instead."), answered)

    def action_cancel(self) -> None:
        self.dismiss(None)


class SyncScreen(QAScreen):
    CSS_PATH = "bundles.tcss"
    BINDINGS = [
        Binding("e", "export", "Export", id="sync-export", tooltip="Write this laptop's changes to a bundle file"),
        Binding("i", "import_bundle", "Import", id="sync-import", tooltip="Merge a laptop's bundle into this database"),
        Binding("c", "acknowledge", "Acknowledge", id="sync-ack",
                tooltip="Mark what the shared database took as synced, from its receipt"),
        Binding("f", "pull", "Pull", id="sync-pull",
                tooltip="Bring a team's people, cases and actions from the shared database"),
        Binding("enter", "open_conflict", "Open conflict", id="sync-open", tooltip="Open the highlighted conflict"),
        Binding("v", "toggle_resolved", "Open/all", id="sync-view", tooltip="Show resolved conflicts too, or not"),
        Binding("r", "refresh", "Refresh", id="sync-refresh", tooltip="Read the sync state again"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.status: SyncStatus | None = None
        self.conflicts: list[ConflictView] = []
        self.show_resolved = False
        self.own_team = ""  # the user's own team code, the pull dialog's default
        self.running: str | None = None  # the sync step under way, one at a time

    def compose(self) -> ComposeResult:
        yield Header()
        status = Static("Reading…", id="sync-status")
        status.border_title = "This database"
        yield status
        with Horizontal(id="sync-progress-row"):
            yield Static("", id="sync-progress-label")
            yield ProgressBar(total=1, show_eta=False, id="sync-progress")  # not animating while hidden
        result = Static("Nothing done yet. On a laptop: [b]f[/b] pull reference data before going offline, "
                        "[b]e[/b] export your changes, [b]c[/b] acknowledge the receipt that comes back. "
                        "On the shared database: [b]i[/b] import a bundle, then decide any conflicts below.",
                        id="sync-result")
        result.border_title = "Last step"
        yield result
        yield Static("", id="sync-conflicts-title")
        yield RecordTable(("Table", "Record", "What", "Reason", "Bundle", "Imported", "Status"), self._cells,
                          lambda c: c.id, id="sync-conflicts")
        yield Footer()

    @property
    def table(self) -> RecordTable[ConflictView]:
        return self.query_one("#sync-conflicts", RecordTable)

    def on_screen_resume(self) -> None:
        self.load()

    # --- reading --------------------------------------------------------------------------

    def load(self) -> None:
        from qa_tui.services.sync.conflicts import list_conflicts
        from qa_tui.services.sync.state import sync_status

        from qa_tui.services.sync.views import own_team_code

        status = None if self.show_resolved else "open"
        team_id = self.ctx.team_id
        self.call_service(lambda s: (sync_status(s), list_conflicts(s, status=status), own_team_code(s, team_id)),
                          self.show, group="sync-load", exclusive=True)

    def show(self, loaded: tuple[SyncStatus, list[ConflictView], str]) -> None:
        from qa_tui.services.sync.bundle import PASSPHRASE_ENV, passphrase_from_env

        self.status, self.conflicts, self.own_team = loaded
        s = self.status
        device = s.device_id or "none yet (made at the first export)"
        if self.ctx.db.is_sqlite:
            role = "a laptop's own file: pull, work offline, export, acknowledge the receipt"
            waiting = f"{s.pending} to export" + (f": {counted(s.pending_by_table)}" if s.pending else "")
        else:
            role = "a shared database: import laptops' bundles here and decide their conflicts"
            waiting = "made here are already shared; laptops' changes arrive by import"
        receipt = (f"bundle {s.last_ack_bundle[:8]}, acknowledged {when(s.last_ack_at)}" if s.last_ack_bundle
                   else "none acknowledged yet")
        pulled = f"{s.pulled_from}, {when(s.pulled_at)}" if s.pulled_from else "never"
        lock = ("encrypted (the passphrase is set)" if passphrase_from_env()
                else f"not encrypted (set {PASSPHRASE_ENV} to encrypt them)")
        self.query_one("#sync-status", Static).update(literal_markup(
            "[b]This is[/b]       $role\n"
            "[b]Device[/b]        $device\n"
            "[b]Changes[/b]       $waiting\n"
            "[b]Last receipt[/b]  $receipt\n"
            "[b]Pulled from[/b]   $pulled\n"
            "[b]Bundles[/b]       $lock", role=role, device=device, waiting=waiting, receipt=receipt, pulled=pulled,
            lock=lock))
        which = "All conflicts" if self.show_resolved else "Open conflicts"
        hint = " · Enter opens the highlighted one" if self.conflicts else ""
        self.query_one("#sync-conflicts-title", Static).update(literal_markup(
            "[b]$which[/b] in this database: $count$hint · v open / all", which=which, count=len(self.conflicts),
            hint=hint))
        self.table.show(self.conflicts)
        self.refresh_bindings()
        self.table.focus()

    def _cells(self, c: ConflictView) -> tuple[str, ...]:
        decided = "open" if c.status == "open" else f"kept {c.resolution} ({c.resolved_by})"
        return (c.table.replace("_", " "), str(c.record_id)[:8], clip(self._about(c), 20), c.reason,
                str(c.bundle_id)[:8], f"{c.imported_at.astimezone(LONDON):%d/%m %H:%M}", decided)

    @staticmethod
    def _about(conflict: ConflictView) -> str:
        fields = conflict.live or conflict.incoming
        return next((str(fields[k]) for k in NAME_FIELDS if fields.get(k)), "")

    # --- one sync step at a time, with a progress bar --------------------------------------

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action in OPERATIONS and self.running is not None:
            return False
        if action == "open_conflict" and not self.conflicts:
            return False
        return True

    def _start(self, label: str) -> Callable[[int, int], None]:
        """Show the progress bar; return the `progress(done, total)` callback a worker calls."""
        self.running = label
        self.refresh_bindings()
        self.query_one("#sync-progress-row").display = True
        self.query_one("#sync-progress-label", Static).update(literal(f"{label}…"))
        self.query_one(ProgressBar).update(total=None, progress=0)

        def progress(done: int, total: int) -> None:
            self.app.call_from_thread(self._advance, label, done, total)

        return progress

    def _advance(self, label: str, done: int, total: int) -> None:
        self.query_one("#sync-progress-label", Static).update(literal(f"{label} {done}/{total}"))
        self.query_one(ProgressBar).update(total=max(total, 1), progress=done)

    def _finish(self) -> None:
        self.running = None
        self.query_one("#sync-progress-row").display = False
        self.query_one(ProgressBar).update(total=1, progress=0)
        self.refresh_bindings()

    def _result(self, text: Content | str) -> None:
        """The last step's outcome: a constant, or built with literal_markup (never a plain f-string)."""
        self.query_one("#sync-result", Static).update(literal(text))

    def _failed(self, what: str) -> Callable[[BaseException], bool]:
        def handle(error: BaseException) -> bool:
            from screens.errors import describe_error

            self._finish()
            message, _ = describe_error(error)
            self._result(literal_markup("[b $error]$what: not done.[/] $message", what=what, message=message))
            return False  # the app reports it too (a lost connection offers Retry)

        return handle

    def _run(self, label: str, fn: Callable[[Any, Callable[[int, int], None]], Any],
             then: Callable[[Any], None]) -> None:
        if self.running is not None:
            self.notify(f"{self.running} is still running; wait for it to finish.", severity="warning")
            return
        progress = self._start(label)

        def done(result: Any) -> None:
            self._finish()
            then(result)
            self.load()

        self.call_service(lambda s: fn(s, progress), done, write=True, group="sync", on_error=self._failed(label))

    # --- export (laptop) ------------------------------------------------------------------

    def action_export(self) -> None:
        from qa_tui.files import exports_dir
        from qa_tui.services.sync.views import new_bundle_path

        default = new_bundle_path(exports_dir(), self.ctx.today())
        self.app.push_screen(TextPrompt("Export this database's changes", "Bundle file (readable only by you)",
                                        initial=str(default)), self._export)

    def _export(self, path: str | None) -> None:
        if not path:
            return
        import socket

        from qa_tui.services.sync.bundle import passphrase_from_env
        from qa_tui.services.sync.views import export_to_file

        login, host, passphrase = self.ctx.login, socket.gethostname(), passphrase_from_env()
        self._run("Exporting", lambda s, progress: export_to_file(
            s, Path(path), exported_by=login, device_name=host, passphrase=passphrase, progress=progress),
            self._exported)

    def _exported(self, done: ExportedFile) -> None:
        if done.bundle_id is None:
            self._result(Content("Nothing has changed here since the last acknowledged sync: no bundle written."))
            return
        lock = "encrypted" if done.encrypted else "not encrypted"
        self._result(literal_markup(
            "[b]Exported[/b] $records changed records ($tables) to [b]$path[/b], $lock, bundle $bundle.\n"
            "Import it into the shared database (Sync, [b]i[/b]). These changes stay waiting, and go again "
            "in the next export, until you acknowledge the receipt here ([b]c[/b]).", records=done.records,
            tables=counted(done.by_table), path=done.path, lock=lock, bundle=done.bundle_id[:8]))

    # --- import (shared database) ---------------------------------------------------------

    def action_import_bundle(self) -> None:
        from qa_tui.files import exports_dir
        from qa_tui.services.sync.views import BUNDLE_SUFFIX, newest_file

        default = newest_file(exports_dir(), BUNDLE_SUFFIX)
        self.app.push_screen(TextPrompt("Import a laptop's bundle", "Bundle file",
                                        initial=str(default) if default else f"{exports_dir()}/"), self._import)

    def _import(self, path: str | None) -> None:
        if not path:
            return
        from qa_tui.services.sync.bundle import passphrase_from_env
        from qa_tui.services.sync.views import import_file

        passphrase = passphrase_from_env()
        self._run("Importing", lambda s, progress: import_file(s, Path(path), passphrase=passphrase, progress=progress),
                  lambda receipt: self._imported(Path(path), receipt))

    def _imported(self, path: Path, receipt: Receipt) -> None:
        from qa_tui.services.sync.views import write_receipt_beside

        self._show_receipt(receipt, Content("Writing the receipt…"))

        def written(target: Path) -> None:
            self._show_receipt(receipt, literal_markup("Receipt written to [b]$target[/b]: take it back to the "
                                                       "laptop and acknowledge it there ([b]c[/b]).", target=target))

        def not_written(error: BaseException) -> bool:
            self._show_receipt(receipt, literal_markup(
                "[b $error]The receipt file could not be written[/] ($error). The import stands; import the same "
                "bundle again to write its receipt.", error=error))
            return False

        # Only now, with the import committed: a receipt must never account for records not imported.
        self.call_service(lambda _session: write_receipt_beside(path, receipt), written, on_error=not_written)

    def _show_receipt(self, receipt: Receipt, note: Content) -> None:
        counts = literal_markup("[b]$added[/b] added · [b]$updated[/b] updated · [b]$unchanged[/b] unchanged · "
                                "[b]$conflicts[/b] conflicts", added=receipt.added, updated=receipt.updated,
                                unchanged=receipt.unchanged, conflicts=len(receipt.conflicts))
        if receipt.already_imported:
            head = literal_markup("[b]Already imported[/b] $when by $who: nothing changed. Its receipt: ",
                                  when=when(receipt.imported_at), who=receipt.imported_by)
        else:
            head = literal_markup("[b]Imported[/b] bundle $bundle from $who: ", bundle=receipt.bundle_id[:8], who=receipt.sent_by)
        if receipt.deleted:
            counts += literal_markup(" · [b]$deleted[/b] deleted", deleted=receipt.deleted)
        if receipt.refused:
            counts += literal_markup(" · [b]$refused[/b] refused", refused=len(receipt.refused))
        lines = [head + counts, note]
        for refused in receipt.refused[:3]:
            lines.append(literal_markup("Refused, not written: $table $id: $reason", table=refused.table.replace("_", " "),
                                        id=refused.id[:8], reason=refused.reason))
        if receipt.conflicts:
            lines.append(literal_markup("$count kept aside as conflicts, the shared records left as they were: "
                                        "listed below; Enter opens one.", count=len(receipt.conflicts)))
        if len(receipt.refused) > 3:
            lines.append(literal_markup("… and $more more refused", more=len(receipt.refused) - 3))
        self._result(Content("\n").join(lines))

    # --- acknowledge (laptop) ----------------------------------------------------------------

    def action_acknowledge(self) -> None:
        from qa_tui.files import exports_dir
        from qa_tui.services.sync.views import newest_file

        default = newest_file(exports_dir(), ".receipt.json")
        self.app.push_screen(TextPrompt("Acknowledge a receipt", "Receipt file (BUNDLE.receipt.json)",
                                        initial=str(default) if default else f"{exports_dir()}/"), self._acknowledge)

    def _acknowledge(self, path: str | None) -> None:
        if not path:
            return
        from qa_tui.services.sync.views import acknowledge_file

        self._run("Acknowledging", lambda s, _progress: acknowledge_file(s, Path(path)), self._acknowledged)

    def _acknowledged(self, ack: AckSummary) -> None:
        if ack.already_acknowledged:
            self._result(literal_markup("The receipt for bundle $bundle was already acknowledged: nothing changed.",
                                        bundle=ack.bundle_id[:8]))
            return
        done = literal_markup("[b]Acknowledged[/b] bundle $bundle: $marked marked as synced.",
                              bundle=ack.bundle_id[:8], marked=plural(ack.marked, "record"))
        self._result(done + literal_markup(" $conflicts conflicts are now for the shared database to decide; the next "
                                           "pull ([b]f[/b]) brings the decision here.", conflicts=ack.conflicts)
                     if ack.conflicts else done)

    # --- pull (laptop) ----------------------------------------------------------------------

    def action_pull(self) -> None:
        last = self.status.pulled_from if self.status else None
        url = last if last and last.startswith("postgresql") and "***" not in last else ""
        self.app.push_screen(PullDialog(url, self.own_team or self.ctx.config.user_team), self._pull)

    def _pull(self, request: PullRequest | None) -> None:
        if request is None:
            return
        from qa_tui.services.sync.views import pull_from_url

        teams = (request.team,) if request.team else ()
        self._run("Pulling", lambda s, progress: pull_from_url(
            s, request.url, password=request.password, team_codes=teams, today=self.ctx.today(), progress=progress),
            lambda summary: self._pulled(summary, request.team))

    def _pulled(self, summary: PullSummary, team: str) -> None:
        scope = f"team {team}" if team else "the whole council"
        lines = [literal_markup("[b]Pulled[/b] from $source ($scope): [b]$added[/b] added · [b]$updated[/b] updated · "
                                "[b]$unchanged[/b] unchanged.", source=summary.source, scope=scope,
                                added=summary.added, updated=summary.updated, unchanged=summary.unchanged)]
        if summary.removed:
            lines.append(literal_markup("$count records deleted in the shared database were removed here.",
                                        count=summary.removed))
        if summary.kept_local:
            lines.append(literal_markup("$count records edited here and not yet synced were left as they are; "
                                        "they go up with the next export.", count=len(summary.kept_local)))
        if summary.skipped:
            lines.append(literal_markup("$count records could not be stored here: $which", count=len(summary.skipped),
                                        which=", ".join(f"{t} {rid[:8]} ({why})" for t, rid, why in summary.skipped[:3])
                                        + ("…" if len(summary.skipped) > 3 else "")))
        self._result(Content("\n").join(lines))
        self.qa_app.reread_identity()  # the laptop is now the puller's

    # --- conflicts ----------------------------------------------------------------------------

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        self.action_open_conflict()

    def action_open_conflict(self) -> None:
        from screens.sync.conflicts import ConflictScreen

        conflict = self.table.current
        if conflict is not None:
            self.app.push_screen(ConflictScreen(conflict.id))

    def action_toggle_resolved(self) -> None:
        self.show_resolved = not self.show_resolved
        self.load()

    def action_refresh(self) -> None:
        self.load()

    def palette_commands(self):  # noqa: ANN201 - a generator of SystemCommand
        from textual.app import SystemCommand

        yield SystemCommand("Sync: export changes", "Write this laptop's changes to a bundle file", self.action_export)
        yield SystemCommand("Sync: import a bundle", "Merge a laptop's bundle into this database",
                            self.action_import_bundle)
        yield SystemCommand("Sync: acknowledge a receipt", "Mark what the shared database took as synced",
                            self.action_acknowledge)
        yield SystemCommand("Sync: pull reference data", "Bring a team's people, cases and actions onto this laptop",
                            self.action_pull)
        yield SystemCommand("Sync: open / all conflicts", "Show resolved conflicts too, or only open ones",
                            self.action_toggle_resolved)
