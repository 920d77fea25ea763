"""Grade keys a team manager presses while the meeting's next case is still loading are kept and
applied once it is shown, in order, on the rows of that case: never silently dropped."""

from __future__ import annotations

import time

import pytest

from qa_tui.db.engine import Database
from qa_tui.demo import DEMO_USER_STAFF_ID
from qa_tui.services.audits import meeting
from qa_tui.widgets.grades import GradeList, GradeRow
from tests.pilot import SIZE, make_app, make_context, settle, url_of
from tests.test_audit_editor import MEETING_DAY, agreed_grades, burst, demo_db, open_meeting, status  # noqa: F401


async def test_grade_keys_pressed_while_the_next_case_loads_grade_it_once_shown(
        demo_db: Database, monkeypatch: pytest.MonkeyPatch) -> None:  # noqa: F811
    app = make_app(make_context(url_of(demo_db), today=MEETING_DAY, staff_id=DEMO_USER_STAFF_ID))
    async with app.run_test(size=SIZE) as pilot:
        editor = await open_meeting(pilot)
        first = editor.audit.id
        real = meeting.open_case

        def slow_open_case(*args, **kwargs):  # noqa: ANN002, ANN003, ANN202
            time.sleep(0.4)  # a busy database: the keys below are read before the case arrives
            return real(*args, **kwargs)

        monkeypatch.setattr(meeting, "open_case", slow_open_case)
        await burst(pilot, ["n", "2", "down", "3"])
        await settle(pilot)
        second = editor.audit.id
        assert second != first
        assert status(editor).startswith("Saved"), status(editor)
        rows = editor.grades.rows
        assert [r.grade for r in rows[:3]] == [1, None, 2]  # Down skipped the second row, as pressed
    grades = agreed_grades(demo_db, second)
    assert (grades[rows[0].key], grades.get(rows[1].key), grades[rows[2].key]) == (1, None, 2)
    assert all(g is None for g in agreed_grades(demo_db, first).values())  # nothing landed on the case left


def test_keys_kept_for_rows_that_never_came_are_counted_not_applied() -> None:
    grades = GradeList(grade_keys=True)
    grades.hold()
    grades.action_grade(0)
    grades.action_move(1)
    grades.action_grade(None)
    grades.set_rows([GradeRow("a", "A", None), GradeRow("b", "B", None)], ("Good", "Poor"))
    assert grades.release(apply=False) == 2 and [r.grade for r in grades.rows] == [None, None]
    assert not grades.holding and grades.hold() == 0
