"""What every data screen shares: the app context, and service calls run in thread workers
with their results handed back on the UI thread and errors reported in one place."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

from textual.binding import Binding
from textual.screen import ModalScreen, Screen
from textual.worker import Worker, WorkerState

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from qa_tui.app import QAApp
    from qa_tui.context import AppContext
    from qa_tui.journal import Journal
    from qa_tui.widgets.save_queue import SaveQueue

T = TypeVar("T")


class ServiceCalls:
    """Mixin for screens: `call_service(fn, then)` runs `fn(session)` off the UI thread."""

    _pending: dict[Worker[Any], tuple[Callable[[Any], None] | None, Callable[[BaseException], bool] | None,
                                      Callable[[], object]]]

    @property
    def qa_app(self) -> QAApp:
        return self.app  # type: ignore[attr-defined,return-value]

    @property
    def ctx(self) -> AppContext:
        return self.qa_app.ctx

    @property
    def journal(self) -> Journal | None:
        """The app's journal of unsaved edits (made on first use, written on a short interval)."""
        return journal_of(self.qa_app)

    def call_service(self, fn: Callable[[Session], T], then: Callable[[T], None] | None = None, *,
                     write: bool = False, group: str = "db", exclusive: bool = False,
                     on_error: Callable[[BaseException], bool] | None = None) -> Worker[T]:
        """Run `fn` in a new session (committed when `write`), then `then(result)` on the UI thread.
        `on_error` may handle an error itself by returning True; otherwise the app reports it."""
        db = self.ctx.db

        def job() -> T:
            with db.session() if write else db.reader() as session:
                return fn(session)

        if not hasattr(self, "_pending"):
            self._pending = {}
        worker: Worker[T] = self.run_worker(  # type: ignore[attr-defined]
            job, thread=True, exit_on_error=False, group=group, exclusive=exclusive,
            name=getattr(fn, "__name__", "service"))
        again = lambda: self.call_service(fn, then, write=write, group=group, exclusive=exclusive,  # noqa: E731
                                          on_error=on_error)
        self._pending[worker] = (then, on_error, again)
        return worker

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        pending = getattr(self, "_pending", {})
        if event.worker not in pending or event.state not in (
                WorkerState.SUCCESS, WorkerState.ERROR, WorkerState.CANCELLED):
            return
        then, on_error, again = pending.pop(event.worker)
        if event.state == WorkerState.SUCCESS and then is not None:
            then(event.worker.result)
        elif event.state == WorkerState.ERROR and event.worker.error is not None:
            if on_error is None or not on_error(event.worker.error):
                self.qa_app.report_error(event.worker.error, retry=again)


def journal_of(app: QAApp) -> Journal | None:
    """The journal of unsaved edits for the open database; None before it is open."""
    if app.unsaved_journal is None and app.ready:
        from qa_tui.journal import WRITE_EVERY_SECONDS, Journal, journal_folder

        app.unsaved_journal = journal = Journal(journal_folder(app.ctx.config.database_url))
        app.set_interval(WRITE_EVERY_SECONDS / 2, journal.flush)
    return app.unsaved_journal


def leave_form(node: ServiceCalls, saves: SaveQueue, then: Callable[[], None]) -> None:
    """Leave a form once everything is saved. With changes the database refused or could not
    take, ask: keep trying and leave once saved, keep editing, or leave without them (asked
    again). Nothing is thrown away without a yes."""
    from screens.dialogs import ChoiceDialog, ConfirmDialog

    saves.flush()
    if not saves.failed:
        saves.when_idle(then)
        return
    waiting = saves.waiting
    changes = f"{waiting} change{'s' if waiting != 1 else ''}"

    def discard(yes: bool | None) -> None:
        if yes:
            saves.discard()
            then()

    def chosen(choice: str | None) -> None:
        if choice == "wait":
            saves.when_idle(then)  # a new failure cancels leaving: the status line says why
        elif choice == "discard":
            node.app.push_screen(ConfirmDialog(f"Throw away {changes}?", "What was typed will be gone for good."),
                                 discard)

    node.app.push_screen(ChoiceDialog(f"{changes} not saved yet", [
        ("wait", "Save them: keep trying, and leave once they are stored"),
        ("stay", "Keep editing"),
        ("discard", "Leave without them (asked again)")], initial="wait"), chosen)


# Tab moves the focus before the next key is handed on. Textual hands each key to the widget that
# has the focus when the key is read, and an ordinary Tab moves the focus only once that widget has
# handled it: words typed straight after Tab (after choosing from a list with Enter, say) went to
# the field that was being left. A priority binding is handled as the key is read.
FOCUS_KEYS = [
    Binding("tab", "app.focus_next", "Next field", show=False, priority=True, id="focus-next",
            tooltip="Move to the next field or list"),
    Binding("shift+tab", "app.focus_previous", "Previous field", show=False, priority=True, id="focus-previous",
            tooltip="Move to the previous field or list"),
]


class QAScreen(ServiceCalls, Screen[None]):
    """A main area of the app."""

    BINDINGS = FOCUS_KEYS


class QAModal(ServiceCalls, ModalScreen[T]):
    """A dialog that may call services."""

    BINDINGS = FOCUS_KEYS
