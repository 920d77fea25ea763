"""Saving a form as the user types: debounced saves per field, sent one at a time and in order,
so each save starts from the version the previous one returned."""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from sqlalchemy.orm import Session
    from textual.timer import Timer

SAVE_AFTER_SECONDS = 0.6


class _Screen(Protocol):
    def call_service(self, fn: Callable[[Session], Any], then: Callable[[Any], None] | None = None, *,
                     write: bool = False, group: str = "db", exclusive: bool = False,
                     on_error: Callable[[BaseException], bool] | None = None) -> Any: ...

    def set_timer(self, delay: float, callback: Callable[[], Any]) -> Timer: ...


class SaveQueue:
    """Writes for one form. `later(key, fn)` runs `fn` after a pause in typing (a newer call for
    the same key replaces it); `add(job, then)` queues a write. A job runs in a worker only once
    the previous job's `then` has run on the UI thread, so it may read the latest version from the
    screen. A failure drops the queued writes and goes to `on_error` (True: handled)."""

    def __init__(self, screen: _Screen, on_error: Callable[[BaseException], bool]) -> None:
        self.screen = screen
        self.on_error = on_error
        self._queue: deque[tuple[Callable[[Session], Any], Callable[[Any], None] | None]] = deque()
        self._running = False
        self._timers: dict[str, tuple[Timer, Callable[[], None]]] = {}
        self._when_idle: list[Callable[[], None]] = []

    @property
    def idle(self) -> bool:
        return not (self._running or self._queue or self._timers)

    def later(self, key: str, fn: Callable[[], None], delay: float = SAVE_AFTER_SECONDS) -> None:
        if key in self._timers:
            self._timers.pop(key)[0].stop()

        def fire() -> None:
            self._timers.pop(key, None)
            fn()
            self._check_idle()

        self._timers[key] = (self.screen.set_timer(delay, fire), fn)

    def flush(self) -> None:
        """Run every pending debounced save now."""
        pending, self._timers = self._timers, {}
        for timer, fn in pending.values():
            timer.stop()
            fn()
        self._check_idle()

    def add(self, job: Callable[[Session], Any], then: Callable[[Any], None] | None = None) -> None:
        self._queue.append((job, then))
        self._pump()

    def when_idle(self, callback: Callable[[], None]) -> None:
        """Call back once every pending and queued write has finished (now, if none)."""
        self.flush()
        self._when_idle.append(callback)
        self._check_idle()

    def _pump(self) -> None:
        if self._running or not self._queue:
            return
        job, then = self._queue.popleft()
        self._running = True
        self.screen.call_service(job, lambda result: self._done(result, then), write=True, group="save",
                                 on_error=self._failed)

    def _done(self, result: Any, then: Callable[[Any], None] | None) -> None:
        self._running = False
        if then is not None:
            then(result)
        self._pump()
        self._check_idle()

    def _failed(self, error: BaseException) -> bool:
        self._running = False
        self._queue.clear()
        self._when_idle.clear()
        return self.on_error(error)

    def _check_idle(self) -> None:
        if self.idle and self._when_idle:
            callbacks, self._when_idle = self._when_idle, []
            for callback in callbacks:
                callback()
