"""Saving a form as the user types: debounced saves per field, sent one at a time and in order,
so each save starts from the version the previous one returned. A save that fails stays waiting,
with every save behind it, until a retry stores them all. Every change is written to the local
journal (`qa_tui.journal`) as it is typed and taken out once stored."""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

from qa_tui.errors import NotAllowed, NotFound, ValidationError

if TYPE_CHECKING:
    from sqlalchemy.orm import Session
    from textual.timer import Timer

    from qa_tui.journal import Journal, Unsaved

SAVE_AFTER_SECONDS = 0.6
RETRY_SECONDS = 2.0  # while someone types through an outage, the queue tries again this often
REFUSED = (ValidationError, NotAllowed, NotFound)  # the rules said no: sending it again gets the same answer


class _ErrorReporter(Protocol):
    def report_error(self, error: BaseException | None, *, retry: Callable[[], None] | None = None,
                     quiet: bool = False) -> None: ...


class _Screen(Protocol):
    def call_service(self, fn: Callable[[Session], Any], then: Callable[[Any], None] | None = None, *,
                     write: bool = False, group: str = "db", exclusive: bool = False,
                     on_error: Callable[[BaseException], bool] | None = None) -> Any: ...

    def set_timer(self, delay: float, callback: Callable[[], Any]) -> Timer: ...

    @property
    def qa_app(self) -> _ErrorReporter: ...


@dataclass(frozen=True)
class Write:
    """One queued write. `key` names what it saves (a field): a newer write with the same key
    replaces one still waiting, and `value` is what it will store, so a form can keep showing
    pending values over a reload."""

    job: Callable[[Session], Any]
    then: Callable[[Any], None] | None = None
    key: str | None = None
    value: object = None
    unsaved: Unsaved | None = None  # what the journal holds for it until it is stored


class SaveQueue:
    """Writes for one form. `later(key, fn)` runs `fn` after a pause in typing (a newer call for
    the same key replaces it); `add(job, then)` queues a write. A job runs in a worker only once
    the previous job's `then` has run on the UI thread, so it may read the latest version from the
    screen.

    A failure goes to `on_error` (True: handled there; False: the app reports it). A write the
    rules refuse (`REFUSED`) is dropped and the writes behind it carry on. Any other failure (the
    database out of reach, a conflict) keeps the failed write at the head of the queue with
    everything behind it; the app's Retry, `retry()` or a new write sends them all again, in
    order. A lost connection opens no dialog (in a form every key means something, and a dialog
    would take the next ones, typed or a grade): a message says so once, the status line while it
    lasts, and the queue tries again by itself every RETRY_SECONDS. `waiting` counts the changes
    not yet stored, and `on_change` is called whenever that may have changed."""

    def __init__(self, screen: _Screen, on_error: Callable[[BaseException], bool], *,
                 on_change: Callable[[], None] | None = None) -> None:
        self.screen = screen
        self.on_error = on_error
        self.on_change = on_change
        self._writes: deque[Write] = deque()
        self._running = False
        self._failed = False
        self._timers: dict[str, tuple[Timer, Callable[[], None]]] = {}
        self._retry_timer: Timer | None = None
        self._told = False  # the person has been told the database is out of reach (until a save works)
        self._when_idle: list[Callable[[], None]] = []
        self.last_refused: Write | None = None  # the write the rules refused last (read in on_error)

    # --- state -------------------------------------------------------------------------------

    @property
    def idle(self) -> bool:
        return not (self._running or self._writes or self._timers)

    @property
    def failed(self) -> bool:
        """The first waiting write failed and nothing has been sent since."""
        return self._failed and not self._running

    @property
    def waiting(self) -> int:
        """Changes not yet stored: each field with a save pending (typed or queued) counts once,
        and so does every write without a key."""
        keys = set(self._timers) | {w.key for w in self._writes if w.key is not None}
        return len(keys) + sum(1 for w in self._writes if w.key is None)

    def status(self, saved: str) -> str:
        """The status line: `saved` only when nothing is waiting, never while anything is."""
        waiting = self.waiting
        if not waiting:
            return saved
        line = f"Not saved: {waiting} change{'s' if waiting != 1 else ''} waiting"
        if self._retry_timer is not None and self.failed:
            return line + " · database out of reach: kept, trying again"
        return line + (" · kept: Retry or any change sends them" if self.failed else "")

    @property
    def pending(self) -> dict[str, object]:
        """Key → value of the keyed writes not yet stored (a failed one included)."""
        return {w.key: w.value for w in self._writes if w.key is not None}

    def is_pending(self, key: str) -> bool:
        return key in self._timers or any(w.key == key for w in self._writes)

    # --- the journal ---------------------------------------------------------------------------

    @property
    def journal(self) -> Journal | None:
        return getattr(self.screen, "journal", None)

    def typed(self, unsaved: Unsaved) -> None:
        """Note a change in the journal as it is typed, before any save is sent."""
        journal = self.journal
        if journal is not None:
            journal.put(unsaved)

    def untyped(self, key: str, journal_key: str) -> None:
        """The field `key` is back to what is stored (nothing of it is on its way): the journal
        no longer needs it."""
        journal = self.journal
        if journal is not None and not any(w.key == key for w in self._writes):
            journal.drop(journal_key, any_value=True)

    # --- debounced saves -----------------------------------------------------------------------

    def later(self, key: str, fn: Callable[[], None], delay: float = SAVE_AFTER_SECONDS) -> None:
        if key in self._timers:
            self._timers.pop(key)[0].stop()

        def fire() -> None:
            self._timers.pop(key, None)
            fn()
            self._settled()

        self._timers[key] = (self.screen.set_timer(delay, fire), fn)
        self._changed()

    def flush(self) -> None:
        """Run every pending debounced save now."""
        pending, self._timers = self._timers, {}
        for timer, fn in pending.values():
            timer.stop()
            fn()
        self._settled()

    # --- writes --------------------------------------------------------------------------------

    def add(self, job: Callable[[Session], Any], then: Callable[[Any], None] | None = None, *,
            key: str | None = None, value: object = None, unsaved: Unsaved | None = None) -> None:
        """Queue a write; after a failure this also resends what was waiting, in order. `unsaved`
        is written to the journal first and taken out once the write is stored."""
        if unsaved is not None:
            self.typed(unsaved)
        write = Write(job, then, key, value, unsaved)
        for index in range(1 if self._running else 0, len(self._writes)):
            if key is not None and self._writes[index].key == key:
                self._writes[index] = write  # in its place: the newest value wins, the order holds
                break
        else:
            self._writes.append(write)
        self._failed = False
        self._pump()
        self._changed()

    def retry(self) -> None:
        """Send the failed write and everything behind it again, in order."""
        if not self._running:
            self._stop_retrying()
            self._failed = False
            self._pump()
            self._changed()

    def when_idle(self, callback: Callable[[], None]) -> None:
        """Call back once every pending and queued write is stored (now, if none). A failure
        cancels the call back: nothing is left behind unsaved without the user knowing."""
        self.flush()
        self._when_idle.append(callback)
        if self._failed:
            self.retry()
        self._settled()

    def discard(self) -> None:
        """Throw away every change not yet stored (the user confirmed it): the waiting writes, the
        typing not yet sent, and their journal entries."""
        if self._running:
            return  # one is on its way: it is stored or fails before anything can be thrown away
        for timer, _ in self._timers.values():
            timer.stop()
        self._timers = {}
        self._stop_retrying()
        while self._writes:
            self._stored(self._writes.popleft())
        self._failed = False
        self._when_idle.clear()
        self._changed()

    # --- running -------------------------------------------------------------------------------

    def _pump(self) -> None:
        if self._running or self._failed or not self._writes:
            return
        write = self._writes[0]
        self._running = True
        self.screen.call_service(write.job, lambda result: self._done(write, result), write=True, group="save",
                                 on_error=lambda error: self._fail(error))

    def _done(self, write: Write, result: Any) -> None:
        self._running, self._told = False, False
        if self._writes and self._writes[0] is write:
            self._writes.popleft()
        self._stored(write)
        if write.then is not None:
            write.then(result)
        self._pump()
        self._settled()

    def _fail(self, error: BaseException) -> bool:
        self._running = False
        self._when_idle.clear()
        if isinstance(error, REFUSED):
            if self._writes:
                self.last_refused = self._writes.popleft()
                self._stored(self.last_refused)  # refused: the form keeps it, with the error
            if not self.on_error(error):
                self.screen.qa_app.report_error(error)
            self._pump()
            self._settled()
            return True
        self._failed = True
        self._stop_retrying()
        if not self.on_error(error):
            if not self._told:  # once an outage: a message that takes no keys, never a dialog
                self.screen.qa_app.report_error(error, retry=self.retry, quiet=True)
                self._told = True
            self._retry_timer = self.screen.set_timer(RETRY_SECONDS, self._try_again)
        self._changed()
        return True

    def _stop_retrying(self) -> None:
        if self._retry_timer is not None:
            self._retry_timer.stop()
            self._retry_timer = None

    def _try_again(self) -> None:
        self._retry_timer = None
        if self.failed:
            self.retry()

    def _stored(self, write: Write) -> None:
        journal = self.journal
        if journal is not None and write.unsaved is not None:
            journal.drop(write.unsaved.key, write.unsaved.value)

    def _settled(self) -> None:
        self._changed()
        if self.idle and self._when_idle:
            callbacks, self._when_idle = self._when_idle, []
            for callback in callbacks:
                callback()

    def _changed(self) -> None:
        if self.on_change is not None:
            self.on_change()
