"""The save queue on its own: writes in order, a failure keeping the failed write and everything
behind it until a retry stores them, refusals dropped, and a count of what is still waiting."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy.exc import OperationalError

from qa_tui.errors import ChangedElsewhere, ValidationError
from qa_tui.widgets.save_queue import SaveQueue


class Timer:
    def __init__(self, callback: Callable[[], Any]) -> None:
        self.callback = callback
        self.stopped = False

    def stop(self) -> None:
        self.stopped = True


class Screen:
    """Runs nothing by itself: each test finishes the service calls one by one."""

    def __init__(self) -> None:
        self.calls: list[tuple[Callable[[Any], Any], Callable[[Any], None], Callable[[BaseException], bool]]] = []
        self.reported: list[tuple[BaseException | None, Callable[[], None] | None]] = []
        self.quiet: list[bool] = []
        self.timers: list[Timer] = []

    def call_service(self, fn, then=None, *, write=False, group="db", exclusive=False,  # noqa: ANN001, ANN201
                     on_error=None):  # noqa: ANN001
        assert write and then is not None and on_error is not None
        self.calls.append((fn, then, on_error))

    def set_timer(self, delay: float, callback: Callable[[], Any]) -> Timer:
        timer = Timer(callback)
        self.timers.append(timer)
        return timer

    @property
    def qa_app(self) -> Screen:
        return self

    def report_error(self, error: BaseException | None, *, retry: Callable[[], None] | None = None,
                     quiet: bool = False) -> None:
        self.reported.append((error, retry))
        self.quiet.append(quiet)

    def succeed(self) -> Any:
        fn, then, _ = self.calls.pop(0)
        result = fn(None)
        then(result)
        return result

    def fail(self, error: BaseException) -> None:
        _, _, on_error = self.calls.pop(0)
        assert on_error(error) is True, "the queue reports its own failures"


LOST = OperationalError("UPDATE", {}, ConnectionRefusedError("server closed the connection"))


def queue_of(screen: Screen, handled: tuple[type[BaseException], ...] = ()) -> tuple[SaveQueue, list[BaseException]]:
    seen: list[BaseException] = []

    def on_error(error: BaseException) -> bool:
        seen.append(error)
        return isinstance(error, handled)

    return SaveQueue(screen, on_error), seen


def test_a_failed_write_and_those_behind_it_wait_and_retry_sends_them_in_order() -> None:
    screen = Screen()
    saves, _ = queue_of(screen)
    stored: list[str] = []
    for name in ("a", "b", "c"):
        saves.add(lambda _s, n=name: n, stored.append, key=name, value=name)
    assert len(screen.calls) == 1, "one write at a time"
    screen.fail(LOST)
    assert saves.failed and saves.waiting == 3 and saves.pending == {"a": "a", "b": "b", "c": "c"}
    (error, retry), = screen.reported
    assert error is LOST and retry is not None
    assert screen.quiet == [True], "a message that takes no keys, not a dialog"
    assert "database out of reach: kept, trying again" in saves.status("Saved")
    assert not screen.calls, "nothing is sent until the queue tries again"

    screen.timers[-1].callback()  # a while later, by itself
    screen.fail(LOST)  # still out of reach: tried again later, and not told twice
    assert len(screen.reported) == 1 and not screen.timers[-1].stopped
    screen.timers[-1].callback()
    while screen.calls:
        screen.succeed()
    assert stored == ["a", "b", "c"] and saves.idle and saves.waiting == 0 and not saves.failed

    saves.add(lambda _s: "d", stored.append)  # the next outage is told again
    screen.fail(LOST)
    assert len(screen.reported) == 2


def test_a_new_write_after_a_failure_resends_what_was_waiting_first() -> None:
    screen = Screen()
    saves, _ = queue_of(screen)
    order: list[str] = []
    saves.add(lambda _s: "a", order.append)
    screen.fail(LOST)
    saves.add(lambda _s: "b", order.append)
    assert saves.waiting == 2
    screen.succeed()
    screen.succeed()
    assert order == ["a", "b"] and saves.idle


def test_a_refused_write_is_dropped_and_the_rest_carry_on() -> None:
    screen = Screen()
    saves, seen = queue_of(screen, handled=(ValidationError,))
    order: list[str] = []
    saves.add(lambda _s: "submit", order.append)
    saves.add(lambda _s: "grade", order.append)
    refusal = ValidationError("overall grade", "no overall grade yet")
    screen.fail(refusal)
    assert seen == [refusal] and not screen.reported and not saves.failed
    screen.succeed()
    assert order == ["grade"] and saves.idle


def test_a_conflict_handled_by_the_form_keeps_the_write_for_after_a_reload() -> None:
    screen = Screen()
    saves, _ = queue_of(screen, handled=(ChangedElsewhere,))
    saves.add(lambda _s: "a", key="a", value="a")
    screen.fail(ChangedElsewhere())
    assert not screen.reported and saves.failed and saves.pending == {"a": "a"}
    saves.retry()
    screen.succeed()
    assert saves.idle


def test_a_newer_value_for_the_same_field_replaces_the_waiting_one_in_its_place() -> None:
    screen = Screen()
    saves, _ = queue_of(screen)
    order: list[str] = []
    saves.add(lambda _s: "text v1", order.append, key="text", value="v1")  # sent at once
    saves.add(lambda _s: "grade", order.append, key="grade", value=2)
    saves.add(lambda _s: "text v2", order.append, key="text", value="v2")
    saves.add(lambda _s: "text v3", order.append, key="text", value="v3")
    assert saves.waiting == 2 and saves.pending == {"text": "v3", "grade": 2}
    while screen.calls:
        screen.succeed()
    assert order == ["text v1", "grade", "text v3"]


def test_typing_counts_as_waiting_and_a_failure_cancels_leaving() -> None:
    screen = Screen()
    saves, _ = queue_of(screen)
    left: list[bool] = []
    saves.later("text", lambda: saves.add(lambda _s: "text", key="text"))
    assert saves.waiting == 1 and saves.is_pending("text") and not saves.idle
    saves.when_idle(lambda: left.append(True))  # sends what was typed, then leaves
    assert screen.timers[0].stopped and saves.waiting == 1
    screen.fail(LOST)
    assert not left and saves.waiting == 1
    saves.retry()
    screen.succeed()
    assert not left, "leaving was called off by the failure"
    saves.when_idle(lambda: left.append(True))
    assert left == [True]


def test_each_change_is_journalled_before_it_is_sent_and_leaves_once_stored(tmp_path) -> None:  # noqa: ANN001
    from qa_tui.journal import Journal, Unsaved

    screen = Screen()
    screen.journal = Journal(tmp_path / "j")  # type: ignore[attr-defined]
    saves, _ = queue_of(screen)

    def note(value: str) -> Unsaved:
        return Unsaved("audit:1:strengths", "audit-text", "1", "strengths", "Audit of C-1 · Strengths", value)

    saves.typed(note("wa"))
    saves.add(lambda _s: "warm", key="strengths", value="warm", unsaved=note("warm"))
    assert [e.value for e in screen.journal.entries] == ["warm"], "on record before it is sent"
    saves.typed(note("warm and"))  # typing goes on while the save runs
    screen.fail(LOST)
    assert saves.status("Saved").startswith("Not saved: 1 change waiting")
    saves.retry()
    screen.succeed()
    assert saves.status("Saved") == "Saved"
    assert [e.value for e in screen.journal.entries] == ["warm and"], "the newer text stays until stored"
    saves.add(lambda _s: "warm and", key="strengths", value="warm and", unsaved=note("warm and"))
    screen.fail(LOST)
    saves.discard()  # the user confirmed: the waiting change and its journal entry go
    assert saves.idle and not saves.failed and not screen.journal.entries
